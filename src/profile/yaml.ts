// YAML with positions. js-yaml builds plain values but keeps no position map, so we walk
// its parser events ourselves: one pass records where every field path sits and how
// large the document becomes once aliases are expanded (an alias bomb is refused before
// anything is constructed), then js-yaml constructs the value from the same events.
import {CORE_SCHEMA, EVENT_ID, constructFromEvents, getScalarValue, parseEvents} from 'js-yaml'
import type {Event, ScalarEvent} from 'js-yaml'

import {displayPath, type Location, ProfileError} from './issues.js'

/** A profile or lab file is a few kilobytes; anything this large is refused before parsing. */
export const MAX_YAML_BYTES = 256 * 1024
/** Nodes a document may expand to through aliases (a profile has about a hundred). */
export const MAX_YAML_NODES = 10_000
/** Collections nested deeper than this are refused by the parser. */
export const MAX_YAML_DEPTH = 64

export interface NodeLocation {
  value?: Location
  /** for a mapping value: where its key is */
  key?: Location
  /** the field's pointer inside its own file, when it differs (a lab's `set` merged into a profile) */
  source?: string
}

/** Field path (JSON pointer, as ajv's `instancePath`: '' is the root, `/network/dns/0`) → location. */
export type LocationMap = Map<string, NodeLocation>

export interface LocatedYaml {
  value: unknown
  locations: LocationMap
}

export function pointerAppend(pointer: string, segment: string | number): string {
  return `${pointer}/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`
}

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return []
  return pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

/** `/licensing/transport/url` → `licensing.transport.url`; `/network/dns/1` → `network.dns[1]`. */
export function displayPointer(pointer: string): string {
  let out = ''
  for (const segment of pointerSegments(pointer)) {
    if (/^(0|[1-9][0-9]*)$/.test(segment)) out += `[${segment}]`
    else out += out === '' ? segment : `.${segment}`
  }
  return out
}

class LineIndex {
  private readonly starts: number[] = [0]
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1)
  }

  at(file: string, offset: number): Location {
    let lo = 0
    let hi = this.starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.starts[mid] <= offset) lo = mid
      else hi = mid - 1
    }
    return {file, line: lo + 1, column: offset - this.starts[lo] + 1}
  }
}

function firstOffset(...offsets: number[]): number | undefined {
  const present = offsets.filter((o) => o >= 0)
  return present.length === 0 ? undefined : Math.min(...present)
}

function nodeOffset(event: Event): number | undefined {
  switch (event.type) {
    case EVENT_ID.SCALAR: {
      // quoted scalars: point at the opening quote, as the user sees the value start
      const quoted = event.style === 2 || event.style === 3
      const value = event.valueStart >= 0 && quoted ? event.valueStart - 1 : event.valueStart
      return firstOffset(event.anchorStart >= 0 ? event.anchorStart - 1 : -1, event.tagStart, value)
    }

    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE: {
      return firstOffset(event.anchorStart >= 0 ? event.anchorStart - 1 : -1, event.tagStart, event.start)
    }

    case EVENT_ID.ALIAS: {
      return event.anchorStart - 1
    }

    default: {
      return undefined
    }
  }
}

interface Frame {
  kind: 'document' | 'mapping' | 'sequence'
  pointer: string
  /** nodes in this subtree once aliases are expanded */
  size: number
  anchor?: string
  /** mapping: the key waiting for its value */
  pendingKey?: {name: string; location?: Location}
  index: number
}

const IN_PROGRESS = -1

function refuse(file: string, message: string, location?: Location): never {
  throw new ProfileError([{file: displayPath(file), path: '', message, line: location?.line, column: location?.column}])
}

/**
 * Parses one YAML document and maps every field path to its line and column.
 * Refuses oversized text, alias bombs, recursive aliases, non-string keys and
 * anything but exactly one document, each with a message naming the file.
 * `file` is the absolute path used in locations and messages.
 */
export function parseLocatedYaml(text: string, file: string): LocatedYaml {
  const bytes = Buffer.byteLength(text, 'utf8')
  if (bytes > MAX_YAML_BYTES) {
    refuse(file, `is ${bytes} bytes, more than the ${MAX_YAML_BYTES} bytes (256 KiB) a profile or lab file may have`)
  }

  const lines = new LineIndex(text)
  let events: Event[]
  try {
    events = parseEvents(text, {filename: displayPath(file), maxDepth: MAX_YAML_DEPTH})
  } catch (error) {
    throw yamlError(error, file)
  }

  const locations: LocationMap = new Map()
  const anchors = new Map<string, number>()
  const stack: Frame[] = []
  let documents = 0
  let rootSize = 0

  const tooLarge = (at: Location | undefined): never =>
    refuse(file, `expands to more than ${MAX_YAML_NODES} values through aliases (a YAML alias bomb?): refused`, at)

  // a completed child adds its expanded size to its parent
  const addToParent = (size: number, at: Location | undefined): void => {
    const parent = stack.at(-1)
    if (!parent) return
    parent.size += size
    if (parent.size > MAX_YAML_NODES) tooLarge(at)
    if (parent.kind === 'document') rootSize = parent.size
  }

  // where a new node goes: its pointer; for mapping keys, undefined (the key is recorded instead)
  const place = (event: Event, at: Location | undefined): string | undefined => {
    const parent = stack.at(-1)
    if (!parent) return ''
    if (parent.kind === 'document') {
      locations.set('', {value: at})
      return ''
    }

    if (parent.kind === 'sequence') {
      const pointer = pointerAppend(parent.pointer, parent.index++)
      locations.set(pointer, {value: at})
      return pointer
    }

    if (parent.pendingKey === undefined) {
      if (event.type !== EVENT_ID.SCALAR) {
        refuse(file, 'mapping keys must be plain names, not lists, mappings or aliases', at)
      }

      parent.pendingKey = {name: getScalarValue(text, event as ScalarEvent), location: at}
      return undefined
    }

    const key = parent.pendingKey
    parent.pendingKey = undefined
    const pointer = pointerAppend(parent.pointer, key.name)
    locations.set(pointer, {value: at, key: key.location})
    return pointer
  }

  for (const event of events) {
    const offset = nodeOffset(event)
    const at = offset === undefined ? undefined : lines.at(file, offset)
    switch (event.type) {
      case EVENT_ID.DOCUMENT: {
        documents++
        if (documents > 1) refuse(file, 'holds more than one YAML document (---): expected exactly one')
        stack.push({kind: 'document', pointer: '', size: 0, index: 0})
        break
      }

      case EVENT_ID.SCALAR: {
        place(event, at)
        if (event.anchorStart >= 0) anchors.set(text.slice(event.anchorStart, event.anchorEnd), 1)
        addToParent(1, at)
        break
      }

      case EVENT_ID.ALIAS: {
        place(event, at)
        const name = text.slice(event.anchorStart, event.anchorEnd)
        const size = anchors.get(name)
        if (size === undefined) refuse(file, `alias *${name} refers to no anchor &${name} before it`, at)
        if (size === IN_PROGRESS) refuse(file, `alias *${name} refers to a value that contains it (recursive alias): refused`, at)
        if (size > MAX_YAML_NODES) tooLarge(at)
        addToParent(size, at)
        break
      }

      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const pointer = place(event, at)
        const anchor = event.anchorStart >= 0 ? text.slice(event.anchorStart, event.anchorEnd) : undefined
        if (anchor !== undefined) anchors.set(anchor, IN_PROGRESS)
        stack.push({
          kind: event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence',
          // a collection used as a key is refused in place(); pointer is defined here
          pointer: pointer ?? '',
          size: 1,
          anchor,
          index: 0,
        })
        break
      }

      case EVENT_ID.POP: {
        const frame = stack.pop()
        if (frame && frame.kind !== 'document') {
          if (frame.anchor !== undefined) anchors.set(frame.anchor, frame.size)
          addToParent(frame.size, undefined)
        }

        break
      }

      default: {
        break
      }
    }
  }

  if (documents === 0 || rootSize === 0) refuse(file, 'is empty: expected a mapping of fields')

  let value: unknown
  try {
    ;[value] = constructFromEvents(events, {source: text, filename: displayPath(file), schema: CORE_SCHEMA, maxAliases: MAX_YAML_NODES})
  } catch (error) {
    throw yamlError(error, file)
  }

  // aliases share objects: copy them apart so that later merges and substitutions touch one place
  return {value: cloneValue(value), locations}
}

/** A deep copy of plain YAML data (aliases become separate copies). */
export function cloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => cloneValue(v))
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    // defineProperty: a key named __proto__ stays an ordinary (and unknown, hence refused) field
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, {value: cloneValue(v), enumerable: true, writable: true, configurable: true})
    return out
  }

  return value
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function yamlError(error: unknown, file: string): ProfileError | unknown {
  const e = error as {name?: string; reason?: string; mark?: {line: number; column: number}; message?: string}
  if (e?.name !== 'YAMLException') return error
  const reason = e.reason ?? e.message ?? 'cannot be read'
  return new ProfileError([{
    file: displayPath(file),
    path: '',
    message: `is not valid YAML: ${reason}`,
    line: e.mark ? e.mark.line + 1 : undefined,
    column: e.mark ? e.mark.column + 1 : undefined,
  }])
}
