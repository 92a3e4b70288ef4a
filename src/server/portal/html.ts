// The portal's one way of writing HTML: a tagged template that escapes every interpolation
// (text and attribute values alike: & < > " ' are replaced), unless the value is a SafeHtml,
// which only `html` itself (or `unsafeRaw` on a constant) makes. Arrays are joined, each
// item escaped in turn; null, undefined and false write nothing. No library: these forty
// lines are the whole need, and a dependency would bring a template language with its own
// escaping rules to review, where this has one rule.

const ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}

export class SafeHtml {
  readonly #text: string
  constructor(text: string) {
    this.#text = text
  }

  toString(): string {
    return this.#text
  }
}

/** Text made safe for an HTML element or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return ''
  if (value instanceof SafeHtml) return value.toString()
  if (Array.isArray(value)) return value.map(render).join('')
  return escapeHtml(String(value))
}

/** html`<td>${hostname}</td>`: every `${…}` escaped unless it is SafeHtml (another html`…`). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!
  return new SafeHtml(out)
}

/** Marks a constant of the program (never input) as HTML; the name says what a reviewer must check. */
export function unsafeRaw(text: string): SafeHtml {
  return new SafeHtml(text)
}
