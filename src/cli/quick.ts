import {now} from '../clock.js'
import {exitCodeFor} from '../errors.js'
import {describeError} from './describe-error.js'
import {inspectLines, problemLine, unsoundError} from './unit-render.js'

// The quick path of the read-only commands scripts call most (SPEC 8: within 2× of `node -e ""`):
// `image inspect UNIT`, `image verify UNIT` and `licensing status UNIT`, with or without --json
// and nothing else, run without loading the CLI framework. Anything else (another flag, --help,
// a second argument) goes the usual way, which prints the same. test/e2e/cli-quick.test.ts checks
// that both ways print the same bytes and exit the same.

const COMMANDS: Record<string, (unit: string, json: boolean) => Promise<unknown>> = {
  async 'image inspect'(unit, json) {
    const {inspectUnit} = await import('../report/inspect.js')
    const r = await inspectUnit(unit, now())
    if (!json) for (const line of inspectLines(r)) say(line)
    return r
  },
  async 'image verify'(unit) {
    const {verifyUnit} = await import('../report/verify.js')
    const r = await verifyUnit(unit)
    for (const w of r.warnings) process.stderr.write(`Warning: ${problemLine(w)}\n`)
    if (!r.ok) throw unsoundError(unit, r)
    sayHuman(`${unit}: sound`)
    return r
  },
  async 'licensing status'(unit) {
    const [{unitLicensingStatus}, {licensingLines}, {registrationNotes}] = await Promise.all([
      import('../agent/queries.js'), import('./licensing-render.js'), import('../licensing/status.js'),
    ])
    const view = await unitLicensingStatus(unit, now())
    for (const line of licensingLines(view)) sayHuman(line)
    for (const note of registrationNotes(view)) sayHuman(note)
    return view
  },
}

let jsonMode = false
function say(line: string): void {
  process.stdout.write(line + '\n')
}
function sayHuman(line: string): void {
  if (!jsonMode) say(line)
}

/** The command and unit argv names when it is one the quick path runs, else undefined. */
export function quickCommand(argv: string[]): {id: string; unit: string; json: boolean} | undefined {
  const rest = argv.slice(2)
  const id = `${argv[0]} ${argv[1]}`
  if (!(id in COMMANDS)) return undefined
  const positional = rest.filter((a) => a !== '--json')
  if (positional.length !== 1 || rest.length > 2 || positional[0]!.startsWith('-') || positional[0]!.trim() === '') return undefined
  return {id, unit: positional[0]!, json: rest.includes('--json')}
}

/** Runs it, printing as the command would (one JSON object under --json), and sets the exit code. */
export async function runQuick(command: {id: string; unit: string; json: boolean}): Promise<void> {
  jsonMode = command.json
  try {
    const result = await COMMANDS[command.id]!(command.unit, command.json)
    if (command.json) say(JSON.stringify(result, null, 2))
  } catch (error) {
    const described = describeError(error)
    process.exitCode = exitCodeFor(described.code)
    if (command.json) {
      const {code, message, actions, data} = described
      say(JSON.stringify({error: data === undefined ? {code, message, actions} : {code, message, actions, data}}, null, 2))
    } else {
      process.stderr.write(`Error: ${described.message}\n`)
      for (const action of described.actions) process.stderr.write(`  → ${action}\n`)
    }
    if (process.env.XWAY_DEBUG === '1' && error instanceof Error && error.stack) process.stderr.write(error.stack + '\n')
  }
}
