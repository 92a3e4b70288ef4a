import {createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync} from 'node:fs'
import {readlink} from 'node:fs/promises'
import {basename, dirname, join, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {BadInputError, RefusedError} from '../errors.js'
import {areaOf, type AreaName} from '../areas/registry.js'
import {fsyncPath, walk} from './fsutil.js'
import {acquireUnitLock} from './lock.js'
import {isTransient, P, unitPath} from './paths.js'
import {extractTarGz, type PackEntry, tarGzStream} from './tar.js'
import {assertNoJournal} from './transaction.js'
import {openUnit} from './unit.js'

export interface PackResult {
  unit: string
  file: string
  files: number
  bytes: number
}

/** Entries of a unit for packing: sorted, without the tool's lock and journal. */
export async function unitEntries(unit: string): Promise<PackEntry[]> {
  const entries: PackEntry[] = []
  for (const {rel, stat} of walk(unit, (rel) => !isTransient(rel))) {
    if (stat.isDirectory()) entries.push({rel, kind: 'dir', mode: stat.mode & 0o7777, size: 0})
    else if (stat.isSymbolicLink()) entries.push({rel, kind: 'symlink', mode: 0o777, size: 0, linkTarget: await readlink(join(unit, rel))})
    else if (stat.isFile()) entries.push({rel, kind: 'file', mode: stat.mode & 0o7777, size: stat.size, source: join(unit, rel)})
  }
  return entries
}

/** `image pack`: a reproducible .tar.gz of the unit (fixed mtimes, owners and order). */
export async function packUnit(unitArg: string, file: string): Promise<PackResult> {
  const unit = openUnit(unitArg).path
  const lock = acquireUnitLock(unit, 'image pack')
  const out = resolve(file)
  const part = `${out}.part`
  try {
    assertNoJournal(unit)
    const entries = await unitEntries(unit)
    mkdirSync(dirname(out), {recursive: true})
    await pipeline(tarGzStream(entries, {level: 6}), createWriteStream(part, {mode: 0o600, highWaterMark: 1 << 20}))
    fsyncPath(part)
    renameSync(part, out)
    return {unit: unitArg, file, files: entries.filter((e) => e.kind === 'file').length, bytes: entries.reduce((n, e) => n + e.size, 0)}
  } catch (error) {
    rmSync(part, {force: true})
    throw error
  } finally {
    lock.release()
  }
}

export interface UnpackResult {
  file: string
  unit: string
  files: number
  bytes: number
}

/**
 * `image unpack`: extracts into a temporary sibling, refusing absolute paths, "..", links leaving
 * the unit and devices; only a complete, sound unit is renamed into place.
 */
export async function unpackUnit(file: string, unitArg: string): Promise<UnpackResult> {
  if (!existsSync(file)) throw new BadInputError(`${file} does not exist.`)
  const target = resolve(unitArg)
  let emptyDirExists = false
  if (existsSync(target)) {
    if (readdirSync(target).length > 0) throw new RefusedError(`${unitArg} exists and is not empty: unpack builds new units only.`, {actions: ['Choose a new path.']})
    emptyDirExists = true
  }
  mkdirSync(dirname(target), {recursive: true})
  const tmp = join(dirname(target), `.${basename(target)}.xway-unpack-${process.pid}`)
  rmSync(tmp, {recursive: true, force: true})
  mkdirSync(tmp, {recursive: true})
  try {
    let entries
    try {
      entries = await extractTarGz(createReadStream(file, {highWaterMark: 1 << 20}), tmp)
    } catch (error) {
      if (error instanceof BadInputError) throw error
      throw new BadInputError(`${file} is not a readable .tar.gz archive (${(error as Error).message}).`)
    }
    if (!existsSync(join(tmp, P.productInfo))) throw new BadInputError(`${file} does not hold a unit (${P.productInfo} is missing).`)
    for (const rel of [P.lock, P.journal]) rmSync(join(tmp, rel), {force: true, recursive: true})
    if (emptyDirExists) rmdirSync(target)
    renameSync(tmp, target)
    fsyncPath(dirname(target))
    const files = entries.filter((e) => e.kind === 'file')
    return {file, unit: unitArg, files: files.length, bytes: files.reduce((n, e) => n + e.size, 0)}
  } catch (error) {
    rmSync(tmp, {recursive: true, force: true})
    throw error
  }
}

export interface DiffResult {
  a: string
  b: string
  identical: boolean
  areas: AreaName[]
  files: Array<{path: string; area: AreaName | null; change: 'added' | 'removed' | 'changed'}>
}

/** `image diff`: the areas and files that differ between two units (B relative to A). */
export function diffUnits(aArg: string, bArg: string): DiffResult {
  const a = openUnit(aArg).path
  const b = openUnit(bArg).path
  const list = (root: string) => new Map(walk(root, (rel) => !isTransient(rel)).filter((e) => !e.stat.isDirectory()).map((e) => [e.rel, e.stat]))
  const la = list(a)
  const lb = list(b)
  const files: DiffResult['files'] = []
  for (const [rel, sa] of la) {
    const sb = lb.get(rel)
    if (!sb) files.push({path: rel, area: areaOf(rel), change: 'removed'})
    else if (sa.size !== sb.size || (sa.mode & 0o7777) !== (sb.mode & 0o7777) || !readFileSync(unitPath(a, rel)).equals(readFileSync(unitPath(b, rel)))) {
      files.push({path: rel, area: areaOf(rel), change: 'changed'})
    }
  }
  for (const rel of lb.keys()) if (!la.has(rel)) files.push({path: rel, area: areaOf(rel), change: 'added'})
  files.sort((x, y) => x.path.localeCompare(y.path))
  const areas = [...new Set(files.map((f) => f.area).filter((x): x is AreaName => x !== null))]
  return {a: aArg, b: bArg, identical: files.length === 0, areas, files}
}
