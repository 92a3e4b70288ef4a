// The manifest of a backup: the first entry of the inner tar, describing what the backup
// carries and how to check it (docs/backup-format.md, "Inner archive"). Built from the area
// registry: no file is named here.
import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {posix} from 'node:path'
import {type AreaName, areaOf, AREAS} from '../areas/registry.js'
import {BadInputError, FailedError} from '../errors.js'
import type {UnitReader} from '../unit/store.js'
import type {Brand, Edition, ProductInfo, UnitType} from '../product.js'

/** Version of the manifest layout (independent of the container's format version). */
export const MANIFEST_FORMAT_VERSION = 1
/** The first entry of the inner tar. */
export const MANIFEST_NAME = 'manifest.json'
/** A manifest lists files, not data: anything larger is not one of ours. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024

export interface ManifestFile {
  /** unit-relative POSIX path */
  path: string
  size: number
  /** permission bits (0..0o777) */
  mode: number
  /** hex SHA-256 of the content */
  sha256: string
}

export interface BackupManifest {
  formatVersion: number
  softwareVersion: string
  brand: Brand
  type: UnitType
  edition: Edition
  serial: string
  fips: boolean
  createdAt: string
  kdf: {iterations: number}
  /** the areas the backup carries (those with `backup: true` when it was made) */
  areas: AreaName[]
  /** directories under those areas, so that empty ones (certs/sni) come back too */
  directories: string[]
  files: ManifestFile[]
}

/** What `backup create --json` shows: the manifest without its file and directory lists. */
export type ManifestSummary = Omit<BackupManifest, 'files' | 'directories'>

export function summarize(manifest: BackupManifest): ManifestSummary {
  const {files: _files, directories: _directories, ...rest} = manifest
  return rest
}

/** Areas a backup carries, in the registry's order. */
export function backupAreas(): AreaName[] {
  return AREAS.filter((a) => a.backup).map((a) => a.name)
}

export async function sha256OfFile(path: string): Promise<{sha256: string; size: number}> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path, {highWaterMark: 1 << 20})) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return {sha256: hash.digest('hex'), size}
}

/**
 * Lists, reads and hashes what the backup areas hold on a unit (the caller holds the unit lock).
 * A backup carries configuration only (logs are not in it), so contents are read into memory.
 * A link or device in a backup area is refused: a backup carries files and folders only.
 */
export function scanBackupAreas(unit: UnitReader, unitArg: string): {areas: AreaName[]; directories: string[]; files: Array<ManifestFile & {data: Buffer}>} {
  const areas = backupAreas()
  const directories: string[] = []
  const files: Array<ManifestFile & {data: Buffer}> = []
  const addFile = (rel: string, mode: number) => {
    const data = unit.read(rel)!
    files.push({path: rel, size: data.length, mode: mode & 0o777, sha256: createHash('sha256').update(data).digest('hex'), data})
  }
  const refuse = (rel: string, kind: string) => new BadInputError(`${rel} is ${kind === 'symlink' ? 'a symbolic link' : 'a device, FIFO or socket'}: a backup carries only files and folders, and xway never follows a link in a unit.`, {
    actions: [`Remove ${rel} from the unit (xway image verify ${unitArg} lists such entries), then back it up again.`],
  })
  for (const name of areas) {
    for (const root of AREAS.find((a) => a.name === name)!.paths) {
      const stat = unit.stat(root)
      if (stat === null) continue
      if (stat.kind === 'file') {
        addFile(root, stat.mode)
        continue
      }
      if (stat.kind !== 'dir') throw refuse(root, stat.kind)
      directories.push(root)
      for (const entry of unit.walk(root)) {
        if (entry.stat.kind === 'dir') directories.push(entry.rel)
        else if (entry.stat.kind === 'file') addFile(entry.rel, entry.stat.mode)
        else throw refuse(entry.rel, entry.stat.kind)
      }
    }
  }
  return {areas, directories, files}
}

export function buildManifest(
  info: ProductInfo,
  fips: boolean,
  createdAt: Date,
  iterations: number,
  content: {areas: AreaName[]; directories: string[]; files: ManifestFile[]},
): BackupManifest {
  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    softwareVersion: info.softwareVersion,
    brand: info.brand,
    type: info.type,
    edition: info.edition,
    serial: info.serial,
    fips,
    createdAt: createdAt.toISOString(),
    kdf: {iterations},
    areas: content.areas,
    directories: content.directories,
    files: content.files.map(({path, size, mode, sha256}) => ({path, size, mode, sha256})),
  }
}

// ---------------------------------------------------------------------------------------
// Reading: a manifest comes from a file someone handed us; trust nothing in it.

const ACTIONS = ['The backup was not written by `xway backup create`, or by an incompatible xway: use another backup.']

function malformed(what: string): BadInputError {
  return new BadInputError(`backup manifest is malformed: ${what}`, {actions: ACTIONS})
}

/** A unit-relative path as xway writes it: relative, normalised, no "..", no empty parts. */
function checkRelPath(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '' || value.length > 4096) throw malformed(`${what} is not a path`)
  if (value.startsWith('/') || value.includes('\0') || value.includes('\\')) throw malformed(`${what} (${JSON.stringify(value)}) is not a relative path`)
  if (value.split('/').some((part) => part === '..' || part === '.' || part === '')) throw malformed(`${what} (${JSON.stringify(value)}) is not a normalised relative path`)
  if (posix.normalize(value) !== value) throw malformed(`${what} (${JSON.stringify(value)}) is not normalised`)
  return value
}

function checkString(value: unknown, what: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw malformed(`${what} is missing`)
  if (pattern && !pattern.test(value)) throw malformed(`${what} (${JSON.stringify(value)}) is not valid`)
  return value
}

function checkOneOf<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw malformed(`${what} must be one of ${allowed.join(', ')}`)
  return value as T
}

/**
 * Parses and checks a manifest: its format version, every field's type, and that every path
 * lies in an area the backup declares, an area that backups carry. A manifest that passes
 * cannot direct a restore outside the backup areas.
 */
export function parseManifest(text: string): BackupManifest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    throw malformed(`${MANIFEST_NAME} is not JSON`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw malformed(`${MANIFEST_NAME} is not an object`)
  const m = raw as Record<string, unknown>
  if (m.formatVersion !== MANIFEST_FORMAT_VERSION) {
    throw new BadInputError(`backup manifest format version ${JSON.stringify(m.formatVersion)} is not supported; this xway reads version ${MANIFEST_FORMAT_VERSION}`, {
      actions: ['Use the xway release that wrote this backup, or a newer one.'],
    })
  }
  const createdAt = checkString(m.createdAt, 'createdAt')
  if (Number.isNaN(new Date(createdAt).getTime())) throw malformed('createdAt is not a date')
  const kdf = m.kdf as {iterations?: unknown} | undefined
  if (!kdf || !Number.isInteger(kdf.iterations) || (kdf.iterations as number) <= 0) throw malformed('kdf.iterations is missing')
  if (typeof m.fips !== 'boolean') throw malformed('fips must be true or false')

  const carried = new Set(backupAreas())
  if (!Array.isArray(m.areas) || m.areas.length === 0) throw malformed('areas is missing')
  const areas: AreaName[] = []
  for (const a of m.areas) {
    if (typeof a !== 'string' || !carried.has(a as AreaName)) throw malformed(`area ${JSON.stringify(a)} is not one that backups carry`)
    if (areas.includes(a as AreaName)) throw malformed(`area ${a} is listed twice`)
    areas.push(a as AreaName)
  }
  const inDeclaredArea = (path: string, what: string) => {
    const owner = areaOf(path)
    if (owner === null || !areas.includes(owner)) throw malformed(`${what} ${path} lies outside the areas the backup carries`)
  }

  const seen = new Set<string>()
  if (!Array.isArray(m.directories)) throw malformed('directories is missing')
  const directories = m.directories.map((d, i) => {
    const path = checkRelPath(d, `directories[${i}]`)
    inDeclaredArea(path, 'directory')
    if (seen.has(path)) throw malformed(`${path} is listed twice`)
    seen.add(path)
    return path
  })
  if (!Array.isArray(m.files)) throw malformed('files is missing')
  const files = m.files.map((f, i): ManifestFile => {
    if (f === null || typeof f !== 'object') throw malformed(`files[${i}] is not an object`)
    const e = f as Record<string, unknown>
    const path = checkRelPath(e.path, `files[${i}].path`)
    if (path === MANIFEST_NAME) throw malformed(`files[${i}] names the manifest itself`)
    inDeclaredArea(path, 'file')
    if (seen.has(path)) throw malformed(`${path} is listed twice`)
    seen.add(path)
    if (!Number.isSafeInteger(e.size) || (e.size as number) < 0) throw malformed(`files[${i}].size is not a byte count`)
    if (!Number.isInteger(e.mode) || (e.mode as number) < 0 || (e.mode as number) > 0o777) throw malformed(`files[${i}].mode is not a permission (0..0777)`)
    if (typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256)) throw malformed(`files[${i}].sha256 is not a SHA-256`)
    return {path, size: e.size as number, mode: e.mode as number, sha256: e.sha256}
  })
  // a file may not sit where a directory is listed, nor under a listed file
  for (const f of files) {
    for (let p = posix.dirname(f.path); p !== '.'; p = posix.dirname(p)) {
      if (seen.has(p) && !directories.includes(p)) throw malformed(`${f.path} lies under the file ${p}`)
    }
  }

  return {
    formatVersion: MANIFEST_FORMAT_VERSION,
    softwareVersion: checkString(m.softwareVersion, 'softwareVersion', /^X\d+(\.\d+)*$/),
    brand: checkOneOf(m.brand, 'brand', ['Expressway', 'VCS'] as const),
    type: checkOneOf(m.type, 'type', ['Expressway-C', 'Expressway-E'] as const),
    edition: checkOneOf(m.edition, 'edition', ['standard', 'select'] as const),
    serial: checkString(m.serial, 'serial', /^[A-Za-z0-9._-]+$/),
    fips: m.fips,
    createdAt,
    kdf: {iterations: kdf.iterations as number},
    areas,
    directories,
    files,
  }
}
