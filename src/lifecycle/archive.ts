import {createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync} from 'node:fs'
import {dirname, resolve} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {BRAND} from '../areas/brand.js'
import {openUnit} from '../areas/open.js'
import {BadInputError} from '../errors.js'
import {fsyncPath} from '../unit/fsutil.js'
import {assertOutsideUnit, type PackResult, unitEntries} from '../unit/pack.js'
import {tarGzStream} from '../unit/tar.js'
import {assertNoPendingJournal} from '../unit/transaction.js'
import {unpackUnit as unpackArchive, type UnpackResult} from '../unit/unpack.js'

// `image pack` and `image unpack`: a unit folder as a reproducible .tar.gz and back (the entry
// policy and the tar format are src/unit's).

export type {PackResult, UnpackResult}

/** `image pack`: a reproducible .tar.gz of the unit (fixed mtimes, owners and order). */
export async function packUnit(unitArg: string, file: string): Promise<PackResult> {
  const opened = await openUnit(unitArg)
  if (opened.store.kind !== 'directory') {
    throw new BadInputError(`${unitArg} is a disk image: image pack archives a unit folder.`, {actions: [`Import it first (xway image import ${unitArg} UNIT), or write another image format with xway image export.`]})
  }
  const unit = opened.path
  const out = resolve(file)
  assertOutsideUnit(unit, file, out)
  const lock = opened.store.lock('image pack')
  const part = `${out}.part`
  let started = false
  try {
    assertNoPendingJournal(opened.store, unitArg)
    const entries = unitEntries(unit)
    const parent = dirname(out)
    if (existsSync(parent) && !statSync(parent).isDirectory()) {
      // Node reports this as EEXIST from mkdir; it is a part of the path being a file
      throw Object.assign(new Error(`ENOTDIR: not a directory, open '${out}'`), {code: 'ENOTDIR', errno: -20, syscall: 'open', path: out})
    }
    mkdirSync(parent, {recursive: true})
    started = true
    await pipeline(tarGzStream(entries, {level: 6}), createWriteStream(part, {mode: 0o600, highWaterMark: 1 << 20}))
    fsyncPath(part)
    renameSync(part, out)
    return {unit: unitArg, file, files: entries.filter((e) => e.kind === 'file').length, bytes: entries.reduce((n, e) => n + e.size, 0)}
  } catch (error) {
    if (started) rmSync(part, {force: true})
    throw error
  } finally {
    lock.release()
  }
}

/** `image unpack`: a new unit folder from an archive; one without a unit's product file is refused. */
export function unpackUnit(file: string, unitArg: string): Promise<UnpackResult> {
  return unpackArchive(file, unitArg, {requiredFile: BRAND.productInfo})
}
