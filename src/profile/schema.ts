// profiles/schema.json is the one description of profiles and lab files: editors read it
// through the yaml-language-server comment, and ajv checks files against it here. Ajv's
// errors are then said again in the user's terms, at the line and column of the field.
import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Ajv} from 'ajv'
import type {ErrorObject, ValidateFunction} from 'ajv'

import {displayPath, type Location, type ProfileIssue} from './issues.js'
import {displayPointer, type LocationMap, pointerAppend, pointerSegments} from './yaml.js'

let profilesDirCache: string | undefined

/** The bundled profiles/ folder (schema.json, default.yaml, demo-lab.yaml …), found from this module in src/ or dist/src/. */
export function profilesDir(): string {
  if (profilesDirCache) return profilesDirCache
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (existsSync(join(dir, 'profiles', 'schema.json')) && existsSync(join(dir, 'package.json'))) {
      profilesDirCache = join(dir, 'profiles')
      return profilesDirCache
    }

    const parent = dirname(dir)
    if (parent === dir) throw new Error('profiles/schema.json not found above ' + fileURLToPath(import.meta.url))
    dir = parent
  }
}

export type SchemaName = 'unit' | 'lab'

const validators = new Map<SchemaName, ValidateFunction>()

function validator(name: SchemaName): ValidateFunction {
  let validate = validators.get(name)
  if (validate) return validate
  const ajv = new Ajv({allErrors: true, verbose: true, strict: true, strictTypes: false, strictRequired: false, logger: false})
  // annotations that editors (vscode-json-languageservice, yaml-language-server) show; we show them too
  ajv.addKeyword({keyword: 'errorMessage', schemaType: 'string'})
  ajv.addKeyword({keyword: 'patternErrorMessage', schemaType: 'string'})
  ajv.addSchema(JSON.parse(readFileSync(join(profilesDir(), 'schema.json'), 'utf8')), 'xway')
  validate = ajv.getSchema(`xway#/definitions/${name}`)
  if (!validate) throw new Error(`profiles/schema.json has no definitions/${name}`)
  validators.set(name, validate)
  return validate
}

/** Where a field of a (possibly merged) document comes from, and its path in that file. */
export interface Where {
  file: string
  /** JSON pointer of the field inside `file` */
  pointer: string
  location?: Location
}

export type Locator = (pointer: string, prefer: 'key' | 'value') => Where

/**
 * A locator over a location map. Entries may carry `source`, the pointer in their own
 * file (values merged in from a lab's `set`); fields without an entry of their own
 * (reached through an alias) take the nearest located ancestor's place.
 */
export function locatorFor(locations: LocationMap, defaultFile: string): Locator {
  return (pointer, prefer) => {
    let p = pointer
    let suffix = ''
    for (;;) {
      const entry = locations.get(p)
      const location = prefer === 'key' && p === pointer ? entry?.key ?? entry?.value : entry?.value ?? entry?.key
      if (entry && location) return {file: location.file, pointer: (entry.source ?? p) + suffix, location}
      if (p === '') return {file: defaultFile, pointer}
      const cut = p.lastIndexOf('/')
      suffix = p.slice(cut) + suffix
      p = p.slice(0, cut)
    }
  }
}

export function issueAt(where: Where, message: string, unit?: string): ProfileIssue {
  return {
    file: displayPath(where.file),
    path: displayPointer(where.pointer),
    message,
    line: where.location?.line,
    column: where.location?.column,
    unit,
  }
}

const TYPE_WORDS: Record<string, string> = {
  boolean: 'boolean',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  array: 'a list',
  object: 'a mapping',
  null: 'empty',
}

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type : String(type).split(',')
  return types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')
}

function valueWords(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** The allowed name a mistyped one most likely meant (edit distance at most 2), if any. */
function closest(name: string, allowed: string[]): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const candidate of allowed) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }

  return best
}

function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }

    previous = current
  }

  return previous[b.length]
}

interface Translated {
  pointer: string
  prefer: 'key' | 'value'
  /** for `required`: the missing field, located at its parent */
  child?: string
  message: string
}

function translate(error: ErrorObject): Translated | undefined {
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>
  const params = error.params as Record<string, unknown>
  const pointer = error.instancePath
  switch (error.keyword) {
    case 'if': {
      return undefined // the failing `then` says what is wrong
    }

    case 'type': {
      const custom = parent.errorMessage
      return {pointer, prefer: 'value', message: typeof custom === 'string' ? custom : `must be ${typeWords(params.type)}`}
    }

    case 'required': {
      return {pointer, prefer: 'value', child: String(params.missingProperty), message: 'is required'}
    }

    case 'additionalProperties': {
      const allowed = Object.keys((parent.properties ?? {}) as object)
      const data = error.data as Record<string, unknown> | undefined
      const mode = data && typeof data.mode === 'string' && allowed.includes('mode') ? data.mode : undefined
      const field = String(params.additionalProperty)
      const guess = mode === undefined ? closest(field, allowed) : undefined
      const list = allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''
      return {
        pointer: pointerAppend(pointer, field),
        prefer: 'key',
        message: mode === undefined
          ? `unknown field${guess === undefined ? '' : `; did you mean ${guess}?`}${list}`
          : `is not used with mode ${mode}${list}`,
      }
    }

    case 'enum': {
      return {pointer, prefer: 'value', message: `must be one of: ${(params.allowedValues as unknown[]).map(valueWords).join(', ')}`}
    }

    case 'const': {
      return {pointer, prefer: 'value', message: `must be ${valueWords(params.allowedValue)}`}
    }

    case 'pattern': {
      const custom = parent.patternErrorMessage
      return {pointer, prefer: 'value', message: typeof custom === 'string' ? custom : `must match ${String(params.pattern)}`}
    }

    case 'minProperties':
    case 'maxProperties': {
      if (parent.minProperties === 1 && parent.maxProperties === 1) {
        return {pointer, prefer: 'value', message: `must have exactly one of: ${Object.keys((parent.properties ?? {}) as object).join(', ')}`}
      }

      return {pointer, prefer: 'value', message: `must have ${error.keyword === 'minProperties' ? 'at least' : 'at most'} ${String(params.limit)} fields`}
    }

    case 'minimum': {
      return {pointer, prefer: 'value', message: `must be at least ${String(params.limit)}`}
    }

    case 'maximum': {
      return {pointer, prefer: 'value', message: `must be at most ${String(params.limit)}`}
    }

    case 'minItems': {
      return {pointer, prefer: 'value', message: `must list at least ${String(params.limit)}`}
    }

    case 'maxItems': {
      return {pointer, prefer: 'value', message: `must list at most ${String(params.limit)}`}
    }

    case 'minLength': {
      return {pointer, prefer: 'value', message: 'must not be empty'}
    }

    case 'uniqueItems': {
      const items = error.data as unknown[]
      const [a, b] = [Number(params.i), Number(params.j)].sort((x, y) => x - y)
      return {pointer, prefer: 'value', message: `lists ${valueWords(items[a])} twice (items ${a} and ${b})`}
    }

    default: {
      return {pointer, prefer: 'value', message: error.message ?? `fails ${error.keyword}`}
    }
  }
}

/** Checks a document against profiles/schema.json; one issue per faulty field, in document order. */
export function validateAgainstSchema(name: SchemaName, data: unknown, locate: Locator, unit?: string): ProfileIssue[] {
  const validate = validator(name)
  if (validate(data)) return []
  const seen = new Set<string>()
  const issues: Array<ProfileIssue & {order: number}> = []
  for (const error of validate.errors ?? []) {
    const t = translate(error)
    if (!t) continue
    const fieldPointer = t.child === undefined ? t.pointer : pointerAppend(t.pointer, t.child)
    // one message per field: the first is the most direct (a wrong type before its pattern)
    if (seen.has(fieldPointer) || [...seen].some((s) => isInside(fieldPointer, s))) continue
    seen.add(fieldPointer)
    let where = locate(t.pointer, t.prefer)
    if (t.child !== undefined) where = {...where, pointer: pointerAppend(where.pointer, t.child)}
    issues.push({...issueAt(where, t.message, unit), order: issues.length})
  }

  return sortIssues(issues).map(({order: _order, ...issue}) => issue)
}

function isInside(pointer: string, ancestor: string): boolean {
  return pointer.startsWith(ancestor + '/') && pointerSegments(ancestor).length > 0
}

/** File order within each file; files in the order they first appear (issues without a position keep their place). */
export function sortIssues<T extends ProfileIssue>(issues: T[]): T[] {
  const fileRank = new Map<string, number>()
  for (const issue of issues) if (!fileRank.has(issue.file)) fileRank.set(issue.file, fileRank.size)
  return issues
    .map((issue, index) => ({issue, index}))
    .sort((a, b) =>
      fileRank.get(a.issue.file)! - fileRank.get(b.issue.file)!
      || (a.issue.line ?? 0) - (b.issue.line ?? 0)
      || (a.issue.column ?? 0) - (b.issue.column ?? 0)
      || a.index - b.index)
    .map(({issue}) => issue)
}
