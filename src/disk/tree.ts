import {chmodSync, createWriteStream, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join, posix} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {BadInputError, FailedError} from '../errors.js'
import type {UnitReader, WalkEntry} from '../unit/store.js'

/** What an image may hold to be imported (docs/disk-images.md, "Limits"). */
export const IMPORT_LIMITS = {
  entries: 200_000,
  bytes: 64 * 1024 ** 3,
  fileBytes: 32 * 1024 ** 3,
  pathBytes: 4096,
  linkBytes: 4096,
}

function refuse(where: string, what: string): BadInputError {
  return new BadInputError(`${where}: ${what}; refused, nothing was written.`, {
    actions: ['Import only images written by `xway image export`, or remove such entries from the unit first.'],
  })
}

/**
 * True when a link at rel with a relative target stays inside the unit, resolving each component
 * against the folder it really lands in: a link met on the way is followed (within the unit's own
 * entries, at most 40 hops), so `a -> ../..` chains cannot climb out where lexical checks would pass.
 */
export function linkStaysInside(rel: string, target: string, links: Map<string, string>): boolean {
  if (target.startsWith('/')) return false
  const stack = posix.dirname(rel) === '.' ? [] : posix.dirname(rel).split('/')
  let queue = target.split('/')
  let hops = 0
  while (queue.length > 0) {
    const c = queue.shift()!
    if (c === '' || c === '.') continue
    if (c === '..') {
      if (stack.length === 0) return false
      stack.pop()
      continue
    }
    stack.push(c)
    const via = links.get(stack.join('/'))
    if (via !== undefined) {
      if (++hops > 40 || via.startsWith('/')) return false
      stack.pop()
      queue = [...via.split('/'), ...queue]
    }
  }
  return true
}

export interface CheckedTree {
  entries: WalkEntry[]
  links: Map<string, string>
  files: number
  bytes: number
}

/** Walks a unit and checks it against the import rules before anything is written. */
export function checkTree(reader: UnitReader, where: string, filter?: (rel: string) => boolean): CheckedTree {
  const entries = reader.walk('', filter)
  if (entries.length > IMPORT_LIMITS.entries) throw refuse(where, `the unit holds more than ${IMPORT_LIMITS.entries} entries`)
  const links = new Map<string, string>()
  let bytes = 0
  let files = 0
  for (const e of entries) {
    if (Buffer.byteLength(e.rel) > IMPORT_LIMITS.pathBytes) throw refuse(where, `a path is longer than ${IMPORT_LIMITS.pathBytes} bytes`)
    if (e.stat.kind === 'other') throw refuse(where, `${e.rel} is a device, FIFO or socket`)
    if (e.stat.kind === 'file') {
      files++
      bytes += e.stat.size
      if (e.stat.size > IMPORT_LIMITS.fileBytes) throw refuse(where, `${e.rel} (${e.stat.size} bytes) is larger than ${IMPORT_LIMITS.fileBytes} bytes`)
      if (bytes > IMPORT_LIMITS.bytes) throw refuse(where, `the unit's files add up to more than ${IMPORT_LIMITS.bytes} bytes`)
    }
    if (e.stat.kind === 'symlink') {
      const target = reader.readlink(e.rel)
      if (Buffer.byteLength(target) > IMPORT_LIMITS.linkBytes) throw refuse(where, `the link ${e.rel} has a target longer than ${IMPORT_LIMITS.linkBytes} bytes`)
      links.set(e.rel, target)
    }
  }
  for (const [rel, target] of links) {
    if (target.startsWith('/')) throw refuse(where, `the link ${rel} -> ${target} is absolute (it would point at the host's files)`)
    if (!linkStaysInside(rel, target, links)) throw refuse(where, `the link ${rel} -> ${target} leaves the unit`)
  }
  return {entries, links, files, bytes}
}

/** Writes a checked tree into dest (an empty folder): folders, files (streamed), links, then modes. */
export async function writeTree(reader: UnitReader, tree: CheckedTree, dest: string, aborted: () => boolean = () => false): Promise<void> {
  const dirs: Array<{path: string; mode: number}> = []
  for (const e of tree.entries) {
    if (aborted()) throw new FailedError('Interrupted; nothing was kept.')
    const path = join(dest, e.rel)
    if (e.stat.kind === 'dir') {
      mkdirSync(path, {mode: 0o700})
      dirs.push({path, mode: e.stat.mode})
    } else if (e.stat.kind === 'symlink') {
      symlinkSync(tree.links.get(e.rel)!, path)
    } else if (e.stat.kind === 'file') {
      if (e.stat.size <= 8 << 20) writeFileSync(path, reader.read(e.rel) ?? Buffer.alloc(0), {mode: 0o600, flag: 'wx'})
      else await pipeline(reader.openRead(e.rel), createWriteStream(path, {mode: 0o600, flags: 'wx', highWaterMark: 1 << 20}))
      chmodSync(path, e.stat.mode)
    }
  }
  for (const d of dirs.reverse()) chmodSync(d.path, d.mode)
}
