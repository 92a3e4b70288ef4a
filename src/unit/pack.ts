import {createWriteStream, lstatSync, type Stats, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync} from 'node:fs'
import {basename, dirname, join, resolve, sep} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {BadInputError, UsageError} from '../errors.js'
import {type EntryType, UnitTreePolicy} from './entry-policy.js'
import type {PackEntry} from './tar.js'
import {isTransient} from './tool-paths.js'


export interface PackResult {
  unit: string
  file: string
  files: number
  bytes: number
}

/** One entry of a unit's tree as pack finds it, never following a link. */
export interface UnitTreeEntry {
  rel: string
  type: EntryType
  mode: number
  size: number
  linkTarget?: string
  /** where a file's content is read from */
  source?: string
}

function typeOfStat(stat: Stats): EntryType {
  if (stat.isDirectory()) return 'dir'
  if (stat.isSymbolicLink()) return 'symlink'
  // a second name of a file: its content may sit outside the unit, and unpack refuses hard links
  if (stat.isFile()) return stat.nlink > 1 ? 'hardlink' : 'file'
  if (stat.isFIFO()) return 'fifo'
  if (stat.isSocket()) return 'socket'
  if (stat.isBlockDevice() || stat.isCharacterDevice()) return 'device'
  return 'unsupported'
}

/**
 * The one place pack reads a unit's tree: every entry but the tool's transient state, depth first,
 * names sorted by code unit (reproducible), by lstat (a link is an entry, never followed).
 */
export function unitTree(unit: string): UnitTreeEntry[] {
  const out: UnitTreeEntry[] = []
  const list = (dir: string) => ({dir, names: readdirSync(dir ? join(unit, dir) : unit).sort(), next: 0})
  // an explicit stack, not recursion: a unit may hold hundreds of thousands of entries, deep
  const stack = [list('')]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.next === top.names.length) {
      stack.pop()
      continue
    }
    const name = top.names[top.next++]
    const rel = top.dir ? `${top.dir}/${name}` : name
    if (isTransient(rel)) continue
    const abs = join(unit, rel)
    const stat = lstatSync(abs)
    const type = typeOfStat(stat)
    out.push({rel, type, mode: stat.mode & 0o7777, size: type === 'file' ? stat.size : 0, linkTarget: type === 'symlink' ? readlinkSync(abs) : undefined, source: type === 'file' ? abs : undefined})
    if (type === 'dir') stack.push(list(rel))
  }
  return out
}

function refusePack(message: string): BadInputError {
  return new BadInputError(message, {actions: ['Remove or replace that entry in the unit (a link inside the unit may stay, as a relative link), then pack again.']})
}

/** Entries of a unit for packing, each admitted by the unit entry policy (the one unpack applies). */
export function unitEntries(unit: string): PackEntry[] {
  const policy = new UnitTreePolicy(refusePack)
  const tree = unitTree(unit)
  for (const e of tree) policy.admit(e.rel, e.type, e.linkTarget)
  policy.finish()
  return tree.map((e) => e.type === 'dir' ? {rel: e.rel, kind: 'dir' as const, mode: e.mode, size: 0}
    : e.type === 'symlink' ? {rel: e.rel, kind: 'symlink' as const, mode: 0o777, size: 0, linkTarget: e.linkTarget}
    : {rel: e.rel, kind: 'file' as const, mode: e.mode, size: e.size, source: e.source})
}

/** Where a path really is: its nearest existing ancestor resolved (links included), the rest appended. */
function realLocation(path: string): string {
  const rest: string[] = []
  let current = path
  for (;;) {
    try {
      return join(realpathSync(current), ...rest.reverse())
    } catch {
      const up = dirname(current)
      if (up === current) return path
      rest.push(basename(current))
      current = up
    }
  }
}

/** -o inside the unit would pack the archive into itself, and write into the unit: a usage error (exit 2). */
export function assertOutsideUnit(unit: string, file: string, out: string): void {
  const root = realpathSync(unit)
  const at = join(realLocation(dirname(out)), basename(out))
  if (at === root || at.startsWith(root + sep)) {
    throw new UsageError(`-o ${file} lies inside the unit being packed (${at}): the archive would be written into the unit and pack itself.`, {
      actions: ['Write the archive outside the unit, e.g. -o ../' + basename(out) + ' (exit 2: nothing was written).'],
    })
  }
}
