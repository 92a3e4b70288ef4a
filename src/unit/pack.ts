import {createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {BadInputError, RefusedError} from '../errors.js'
import {fsyncPath} from './fsutil.js'
import {openStore} from './open-store.js'
import type {UnitReader} from './store.js'
import {extractTarGz, type PackEntry, tarGzStream} from './tar.js'
import {isTransient, TOOL} from './tool-paths.js'
import {assertNoPendingJournal} from './transaction.js'
import {BRAND} from '../areas/brand.js'

export interface PackResult {
  unit: string
  file: string
  files: number
  bytes: number
}

/** Entries of a unit for packing: sorted, without the tool's lock and journal. */
export function unitEntries(files: UnitReader, root: string): PackEntry[] {
  const entries: PackEntry[] = []
  for (const {rel, stat} of files.walk('', (rel) => !isTransient(rel))) {
    if (stat.kind === 'dir') entries.push({rel, kind: 'dir', mode: stat.mode, size: 0})
    else if (stat.kind === 'symlink') entries.push({rel, kind: 'symlink', mode: 0o777, size: 0, linkTarget: files.readlink(rel)})
    else if (stat.kind === 'file') entries.push({rel, kind: 'file', mode: stat.mode, size: stat.size, source: join(root, rel)})
  }
  return entries
}

/** `image pack`: a reproducible .tar.gz of the unit (fixed mtimes, owners and order). */
export async function packUnit(unitArg: string, file: string): Promise<PackResult> {
  const store = await openStore(unitArg)
  if (store.reader().stat(BRAND.productInfo)?.kind !== 'file') throw new BadInputError(`${unitArg} is not a unit (${BRAND.productInfo} is missing).`)
  const lock = store.lock('image pack')
  const unit = store.path
  const out = resolve(file)
  const part = `${out}.part`
  try {
    assertNoPendingJournal(store, unitArg)
    const entries = unitEntries(store.reader(), unit)
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
    if (!existsSync(join(tmp, BRAND.productInfo))) throw new BadInputError(`${file} does not hold a unit (${BRAND.productInfo} is missing).`)
    for (const rel of [TOOL.lock, TOOL.journal]) rmSync(join(tmp, rel), {force: true, recursive: true})
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
