// Profiles (kind: Unit) and lab files (kind: Lab): read with positions, checked against
// profiles/schema.json, SPEC 3's defaults applied. Every refusal names the file, the field
// path, the line and the column, so that a field engineer can go straight to it.
import {constants, closeSync, existsSync, fstatSync, openSync, readFileSync, statSync} from 'node:fs'
import {basename, dirname, extname, resolve} from 'node:path'

import {displayPath, ProfileError, type ProfileIssue} from './issues.js'
import {sameSubnet} from './subnet.js'
import {issueAt, type Locator, locatorFor, sortIssues, validateAgainstSchema} from './schema.js'
import {cloneValue, isPlainObject, type LocatedYaml, type LocationMap, MAX_YAML_BYTES, parseLocatedYaml, pointerAppend} from './yaml.js'

export {ProfileError, type ProfileIssue} from './issues.js'
export {profilesDir} from './schema.js'
export {MAX_YAML_BYTES, MAX_YAML_NODES} from './yaml.js'

export type PasswordSource = {fromEnv: string} | {hash: string}

export type Transport =
  | {mode: 'direct'}
  | {mode: 'on-prem'; url: string}
  | {mode: 'proxy'; host: string; port: number; username?: string; passwordFromEnv?: string}

export interface Profile {
  /** absolute path of the profile */
  file: string
  software: string
  brand: 'expressway' | 'vcs'
  type: 'expressway-c' | 'expressway-e'
  edition: 'standard' | 'select'
  hardware: {pid: string; serial?: string}
  network: {hostname?: string; domain?: string; dns: string[]; lan1?: {address: string; gateway?: string}}
  mgmt: {address: string} | null
  passwords: {root?: PasswordSource; admin?: PasswordSource}
  fips: boolean
  optionKeys: string[]
  licensing: {
    /** true when the profile has a licensing section: on X14.0.2 (smart licensing optional) that turns it on */
    enabled: boolean
    transport: Transport
    hideIdentity: boolean
    /** resolved to absolute paths, relative to the folder of the file that names them */
    trustAnchors: string[]
    directUrl?: string
    register?: {tokenFromEnv: string}
  }
  usage: {calls: number; desktop: number; room: number; webrtc: boolean}
}

export interface ProfileOptions {
  /** software versions present in images/; any other `software` is refused, naming these */
  versions?: string[]
}

export interface LabUnit {
  name: string
  profile: Profile
}

export type LabLicenseServer =
  | {embedded: true; licenses: {rms: number; room: number; desktop: number}}
  | {embedded: false; url: string; tokenFromEnv: string}

export interface Lab {
  /** absolute path of the lab file */
  file: string
  name: string
  units: LabUnit[]
  licenseServer: LabLicenseServer
}

export const DEFAULT_PID = 'EXPWY-VE-M-K9'
/** licenses the embedded server holds when the lab file names none */
export const DEFAULT_LAB_LICENSES = {rms: 100, room: 100, desktop: 100} as const
/** units a lab may expand to */
export const MAX_LAB_UNITS = 1000

/** Parses a profile's text; `file` names it in messages and anchors its relative paths. */
export function parseProfile(text: string, file: string, options: ProfileOptions = {}): Profile {
  const abs = resolve(file)
  const {value, locations} = parseLocatedYaml(text, abs)
  const result = checkProfile(value, locatorFor(locations, abs), abs, {...options, checkFiles: false})
  if ('issues' in result) throw new ProfileError(result.issues)
  return result.profile
}

/** Reads and parses a profile file; trust anchors it names must exist. */
export function loadProfile(file: string, options: ProfileOptions = {}): Profile {
  const abs = resolve(file)
  const {value, locations} = parseLocatedYaml(readBounded(abs), abs)
  const result = checkProfile(value, locatorFor(locations, abs), abs, {...options, checkFiles: true})
  if ('issues' in result) throw new ProfileError(result.issues)
  return result.profile
}

/**
 * Reads a lab file: each entry of `units` expands to `count` copies of its profile, with
 * `set` deep-merged over the profile's fields (mappings merge, lists and values replace,
 * null removes), then `{n}` (the 1-based copy number; `{n+K}` adds K) substituted in the
 * unit name and in every string; each copy is then checked as a profile.
 */
export function loadLab(file: string, options: ProfileOptions = {}): Lab {
  const abs = resolve(file)
  const {value, locations} = parseLocatedYaml(readBounded(abs), abs)
  const locate = locatorFor(locations, abs)

  if (!isPlainObject(value)) throw new ProfileError([issueAt(locate('', 'value'), notAMapping(value, 'lab'))])
  if (value.kind === 'Unit' || (value.kind === undefined && 'software' in value)) {
    throw new ProfileError([issueAt(locate(value.kind === undefined ? '' : '/kind', 'value'),
      'is a unit profile, not a lab file (a lab file has kind: Lab and units): build it with `xway image create UNIT --profile FILE`')])
  }

  const schemaIssues = validateAgainstSchema('lab', value, locate)
  if (schemaIssues.length > 0) throw new ProfileError(schemaIssues)

  const raw = value as unknown as RawLab
  const issues: ProfileIssue[] = []
  const units: LabUnit[] = []
  const names = new Map<string, number>()
  const profiles = new Map<string, LocatedYaml | ProfileIssue[]>()
  const total = raw.units.reduce((sum, u) => sum + (u.count ?? 1), 0)
  if (total > MAX_LAB_UNITS) {
    throw new ProfileError([issueAt(locate('/units', 'value'), `expands to ${total} units, more than the ${MAX_LAB_UNITS} a lab may have`)])
  }

  for (const [i, entry] of raw.units.entries()) {
    const entryPointer = `/units/${i}`
    const count = entry.count ?? 1
    if (count > 1 && !N_PATTERN.test(entry.name)) {
      issues.push(issueAt(locate(`${entryPointer}/name`, 'value'), `must contain {n} to number its ${count} copies (for example ${entry.name}{n})`))
      continue
    }

    const profileFile = resolve(dirname(abs), entry.profile)
    let located = profiles.get(profileFile)
    if (!located) {
      located = readProfileYaml(profileFile, locate(`${entryPointer}/profile`, 'value'))
      profiles.set(profileFile, located)
      if (Array.isArray(located)) issues.push(...located)
    }

    if (Array.isArray(located)) continue

    for (let n = 1; n <= count; n++) {
      const name = substitute(entry.name, n)
      if (!UNIT_NAME.test(name)) {
        issues.push(issueAt(locate(`${entryPointer}/name`, 'value'), `makes the unit name "${name}", which is not a name of letters, digits, ., _ and - (at most 63)`))
        continue
      }

      const first = names.get(name)
      if (first !== undefined) {
        issues.push(issueAt(locate(`${entryPointer}/name`, 'value'), `names a second unit ${name} (the first is in units[${first}])`))
        continue
      }

      names.set(name, i)
      const merged = cloneValue(located.value)
      const mergedLocations: LocationMap = new Map(located.locations)
      if (entry.set !== undefined && isPlainObject(merged)) {
        mergeInto(merged, entry.set, '', `${entryPointer}/set`, mergedLocations, locations)
      }

      const result = checkProfile(substitute(merged, n), locatorFor(mergedLocations, profileFile), profileFile, {...options, checkFiles: true, unit: name})
      if ('issues' in result) issues.push(...result.issues)
      else units.push({name, profile: result.profile})
    }
  }

  if (issues.length > 0) throw new ProfileError(dedupe(issues))

  return {
    file: abs,
    name: raw.name ?? basename(abs, extname(abs)),
    units,
    licenseServer: labLicenseServer(raw.licenseServer),
  }
}

// ---------------------------------------------------------------------------------------

interface RawLab {
  name?: string
  units: Array<{name: string; profile: string; count?: number; set?: Record<string, unknown>}>
  licenseServer?: {embedded?: boolean; licenses?: {rms?: number; room?: number; desktop?: number}; url?: string; tokenFromEnv?: string}
}

function labLicenseServer(raw: RawLab['licenseServer']): LabLicenseServer {
  if (raw?.url !== undefined && raw.tokenFromEnv !== undefined) return {embedded: false, url: raw.url, tokenFromEnv: raw.tokenFromEnv}
  const licenses = raw?.licenses
  if (licenses === undefined) return {embedded: true, licenses: {...DEFAULT_LAB_LICENSES}}
  // naming some types means the others are not wanted
  return {embedded: true, licenses: {rms: licenses.rms ?? 0, room: licenses.room ?? 0, desktop: licenses.desktop ?? 0}}
}

const N_PATTERN = /\{n(?:\+\d+)?\}/
const UNIT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

function substitute<T>(value: T, n: number): T {
  if (typeof value === 'string') {
    return value.replaceAll(/\{n(?:\+(\d+))?\}/g, (_m, add: string | undefined) => String(n + Number(add ?? 0))) as T
  }

  if (Array.isArray(value)) return value.map((v) => substitute(v, n)) as T
  if (isPlainObject(value)) {
    const record: Record<string, unknown> = value
    for (const [k, v] of Object.entries(record)) record[k] = substitute(v, n)
  }

  return value
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, {value, enumerable: true, writable: true, configurable: true})
}

/**
 * Deep-merges a lab's `set` into a profile's fields. Fields that come from `set` are
 * located in the lab file, with their path there (`units[0].set.network.hostname`).
 */
function mergeInto(
  target: Record<string, unknown>, overlay: Record<string, unknown>, pointer: string, sourcePointer: string,
  locations: LocationMap, labLocations: LocationMap,
): void {
  for (const [key, value] of Object.entries(overlay)) {
    const p = pointerAppend(pointer, key)
    const sp = pointerAppend(sourcePointer, key)
    if (value === null) {
      delete target[key]
      continue
    }

    const current = Object.hasOwn(target, key) ? target[key] : undefined
    if (isPlainObject(value) && isPlainObject(current)) {
      locations.set(p, {...labLocations.get(sp), source: sp})
      mergeInto(current, value, p, sp, locations, labLocations)
    } else {
      setOwn(target, key, cloneValue(value))
      relocate(value, p, sp, locations, labLocations)
    }
  }
}

function relocate(value: unknown, pointer: string, sourcePointer: string, locations: LocationMap, labLocations: LocationMap): void {
  // an entry without a location of its own still hides what the profile had there
  locations.set(pointer, {...labLocations.get(sourcePointer), source: sourcePointer})
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) relocate(v, pointerAppend(pointer, i), pointerAppend(sourcePointer, i), locations, labLocations)
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) relocate(v, pointerAppend(pointer, k), pointerAppend(sourcePointer, k), locations, labLocations)
  }
}

function dedupe(issues: ProfileIssue[]): ProfileIssue[] {
  const seen = new Set<string>()
  return issues.filter((issue) => {
    const key = `${issue.file}\u0000${issue.path}\u0000${issue.message}\u0000${issue.line}\u0000${issue.column}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** A lab's profile: its YAML with positions, or why it cannot be read (located at the lab's `profile:` field). */
function readProfileYaml(file: string, namedAt: ReturnType<Locator>): LocatedYaml | ProfileIssue[] {
  if (!existsSync(file)) return [issueAt(namedAt, `names a profile that does not exist: ${displayPath(file)} (paths are relative to the lab file)`)]
  try {
    return parseLocatedYaml(readBounded(file), file)
  } catch (error) {
    if (error instanceof ProfileError) return error.issues
    throw error
  }
}

/** Reads a YAML file, refusing anything but a regular file of at most MAX_YAML_BYTES before reading it. */
function readBounded(file: string): string {
  const refuse = (message: string): never => {
    throw new ProfileError([{file: displayPath(file), path: '', message}])
  }

  let stat
  try {
    stat = statSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return refuse(code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : `cannot be read (${code ?? String(error)})`)
  }

  if (stat.isDirectory()) refuse('is a folder, not a YAML file')
  if (!stat.isFile()) refuse('is not a regular file')
  const tooLarge = (size: number): string =>
    `is ${size} bytes, more than the ${MAX_YAML_BYTES} bytes (256 KiB) a profile or lab file may have`
  if (stat.size > MAX_YAML_BYTES) refuse(tooLarge(stat.size))

  let fd: number
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    return refuse(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`)
  }

  try {
    const size = fstatSync(fd).size
    if (size > MAX_YAML_BYTES) refuse(tooLarge(size))
    const buffer = readFileSync(fd)
    if (buffer.length > MAX_YAML_BYTES) refuse(tooLarge(buffer.length))
    return buffer.toString('utf8')
  } finally {
    closeSync(fd)
  }
}

function notAMapping(value: unknown, what: 'profile' | 'lab'): string {
  if (value === null || value === undefined) return `is empty: expected a mapping of ${what} fields`
  const found = Array.isArray(value) ? 'a list' : `a ${typeof value}`
  return `must be a mapping of ${what} fields (found ${found})`
}

interface RawProfile {
  software: string
  brand?: Profile['brand']
  type?: Profile['type']
  edition?: Profile['edition']
  hardware?: {pid?: string; serial?: string}
  network?: {hostname?: string; domain?: string; dns?: string[]; lan1?: {address: string; gateway?: string}}
  mgmt?: {address: string}
  passwords?: {root?: PasswordSource; admin?: PasswordSource}
  fips?: boolean
  optionKeys?: string[]
  licensing?: {transport?: Transport; hideIdentity?: boolean; trustAnchors?: string[]; directUrl?: string; register?: {tokenFromEnv: string}}
  usage?: {calls?: number; desktop?: number; room?: number; webrtc?: boolean}
}

interface CheckOptions extends ProfileOptions {
  checkFiles: boolean
  unit?: string
}

function checkProfile(value: unknown, locate: Locator, file: string, options: CheckOptions): {profile: Profile} | {issues: ProfileIssue[]} {
  const {unit} = options
  if (!isPlainObject(value)) return {issues: [issueAt(locate('', 'value'), notAMapping(value, 'profile'), unit)]}
  if (value.kind === 'Lab') {
    return {issues: [issueAt(locate('/kind', 'value'), 'must be Unit: this is a lab file, build it with `xway lab up FILE`', unit)]}
  }

  const schemaIssues = validateAgainstSchema('unit', value, locate, unit)
  if (schemaIssues.length > 0) return {issues: schemaIssues}

  const raw = value as unknown as RawProfile
  const issues: ProfileIssue[] = []
  const {versions} = options
  if (versions !== undefined && !versions.includes(raw.software)) {
    issues.push(issueAt(locate('/software', 'value'), versions.length === 0
      ? 'no software image is present in images/'
      : `must be one of the software versions in images/: ${[...versions].sort().join(', ')}`, unit))
  }

  const lan1 = raw.network?.lan1
  if (lan1?.gateway !== undefined && !sameSubnet(lan1.address, lan1.gateway)) {
    issues.push(issueAt(locate('/network/lan1/gateway', 'value'), `is not in the subnet of lan1.address ${lan1.address}`, unit))
  }

  const trustAnchors: string[] = []
  for (const [i, anchor] of (raw.licensing?.trustAnchors ?? []).entries()) {
    const where = locate(`/licensing/trustAnchors/${i}`, 'value')
    // a path given in a lab's `set` is relative to the lab file, one in a profile to the profile
    const path = resolve(dirname(where.file), anchor)
    if (options.checkFiles && !existsSync(path)) issues.push(issueAt(where, `file not found: ${displayPath(path)}`, unit))
    trustAnchors.push(path)
  }

  if (issues.length > 0) return {issues: sortIssues(issues)}

  const network = raw.network ?? {}
  const licensing = raw.licensing ?? {}
  const usage = raw.usage ?? {}
  const profile: Profile = {
    file,
    software: raw.software,
    brand: raw.brand ?? 'expressway',
    type: raw.type ?? 'expressway-c',
    edition: raw.edition ?? 'standard',
    hardware: {pid: raw.hardware?.pid ?? DEFAULT_PID, ...(raw.hardware?.serial === undefined ? {} : {serial: raw.hardware.serial})},
    network: {
      ...(network.hostname === undefined ? {} : {hostname: network.hostname}),
      ...(network.domain === undefined ? {} : {domain: network.domain}),
      dns: [...(network.dns ?? [])],
      ...(network.lan1 === undefined ? {} : {lan1: {...network.lan1}}),
    },
    mgmt: raw.mgmt === undefined ? null : {address: raw.mgmt.address},
    passwords: {...raw.passwords},
    fips: raw.fips ?? false,
    optionKeys: [...(raw.optionKeys ?? [])],
    licensing: {
      enabled: raw.licensing !== undefined,
      transport: licensing.transport === undefined ? {mode: 'direct'} : {...licensing.transport},
      hideIdentity: licensing.hideIdentity ?? false,
      trustAnchors,
      ...(licensing.directUrl === undefined ? {} : {directUrl: licensing.directUrl}),
      ...(licensing.register === undefined ? {} : {register: {...licensing.register}}),
    },
    usage: {calls: usage.calls ?? 0, desktop: usage.desktop ?? 0, room: usage.room ?? 0, webrtc: usage.webrtc ?? false},
  }
  return {profile}
}
