import type {Readable} from 'node:stream'
import {BadInputError} from '../errors.js'
import type {EntryStat, UnitReader, WalkEntry} from '../unit/store.js'
import {corrupt, UnsafePathError} from './errors.js'
import {Ext4, type Inode, ROOT_INO} from './ext4.js'
import {MOUNTS, type PartitionName} from './layout.js'

/** The largest file read() returns in memory; larger ones are read with openRead() */
export const MAX_READ_BYTES = 1024 * 1024 * 1024
/** folders deeper than this are refused (a hostile filesystem cannot make a walk recurse forever) */
export const MAX_DEPTH = 64
/** a walk visiting more entries than this is refused */
export const MAX_ENTRIES = 200_000

const HIDDEN_AT_PARTITION_ROOT = 'lost+found'

interface Node {
  fs: Ext4
  inode: Inode
}

function checkRel(rel: string): string[] {
  if (rel === '') return []
  if (typeof rel !== 'string' || rel.startsWith('/') || rel.endsWith('/') || rel.includes('\0')) throw new UnsafePathError(`"${rel}" is not a unit-relative path.`)
  const parts = rel.split('/')
  for (const p of parts) if (p === '' || p === '.' || p === '..') throw new UnsafePathError(`"${rel}" is not a clean unit-relative path (empty, "." or ".." component).`)
  return parts
}

/**
 * UnitReader over a disk image's three partitions: each unit path is looked up in the partition
 * mounted at its prefix (tandberg/ → tandberg, mnt/harddisk/ → harddisk, the rest → root), as the
 * appliance mounts them. Never follows a link; lost+found at a partition's root is not the unit's.
 */
export class DiskUnitReader implements UnitReader {
  private readonly mountAt = new Map<string, Ext4>()

  constructor(private readonly parts: Record<PartitionName, Ext4>) {
    for (const name of ['tandberg', 'harddisk'] as const) this.mountAt.set(MOUNTS[name], parts[name])
  }

  private rootOf(fs: Ext4): Node {
    const inode = fs.inode(ROOT_INO)
    if (inode.kind !== 'dir') throw corrupt(fs.where, 'the root of the filesystem is not a folder')
    return {fs, inode}
  }

  /** the node at rel, null when absent; parents must be real folders */
  private resolve(rel: string): Node | null {
    const parts = checkRel(rel)
    let node = this.rootOf(this.parts.root)
    let path = ''
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]
      if (node.inode.kind === 'symlink') throw new UnsafePathError(`${rel}: ${path} is a symbolic link; a disk image store never follows links.`)
      if (node.inode.kind !== 'dir') throw new UnsafePathError(`${rel}: ${path} is not a folder.`)
      path = path ? `${path}/${name}` : name
      const mounted = this.mountAt.get(path)
      if (mounted) {
        if (node.fs.lookup(node.inode, name) === null) return null
        node = this.rootOf(mounted)
        continue
      }
      if (name === HIDDEN_AT_PARTITION_ROOT && node.inode.ino === ROOT_INO) return null
      const ino = node.fs.lookup(node.inode, name)
      if (ino === null) return null
      const inode = node.fs.inode(ino)
      if (inode.mode === 0) throw corrupt(node.fs.where, `${path} names a free inode`)
      node = {fs: node.fs, inode}
    }
    return node
  }

  private statOf(n: Node): EntryStat {
    return {kind: n.inode.kind, mode: n.inode.mode & 0o7777, size: n.inode.kind === 'file' ? n.inode.size : 0}
  }

  stat(rel: string): EntryStat | null {
    const n = this.resolve(rel)
    return n ? this.statOf(n) : null
  }

  private fileNode(rel: string): Node | null {
    const n = this.resolve(rel)
    if (!n) return null
    if (n.inode.kind !== 'file') throw new UnsafePathError(`${rel} is not a regular file (${n.inode.kind}).`)
    return n
  }

  read(rel: string): Buffer | null {
    const n = this.fileNode(rel)
    return n ? n.fs.readAll(n.inode, MAX_READ_BYTES) : null
  }

  openRead(rel: string): Readable {
    const n = this.fileNode(rel)
    if (!n) throw new BadInputError(`${rel} is missing from the unit.`)
    return n.fs.stream(n.inode)
  }

  private children(n: Node): Array<{name: string; node: () => Node}> {
    const atRoot = n.inode.ino === ROOT_INO
    return n.fs.readDir(n.inode)
      .filter((e) => !(atRoot && e.name === HIDDEN_AT_PARTITION_ROOT))
      .map((e) => ({name: e.name, node: () => ({fs: n.fs, inode: n.fs.inode(e.ino)})}))
  }

  list(rel: string): string[] {
    const n = this.resolve(rel)
    if (!n) return []
    if (n.inode.kind !== 'dir') throw new UnsafePathError(`${rel} is not a folder.`)
    return this.children(n).map((c) => c.name).sort()
  }

  readlink(rel: string): string {
    const n = this.resolve(rel)
    if (!n) throw new BadInputError(`${rel} is missing from the unit.`)
    if (n.inode.kind !== 'symlink') throw new UnsafePathError(`${rel} is not a symbolic link.`)
    return n.fs.readlink(n.inode)
  }

  walk(rel: string, filter?: (rel: string) => boolean): WalkEntry[] {
    const start = this.resolve(rel)
    const out: WalkEntry[] = []
    if (!start || start.inode.kind !== 'dir') return out
    const visit = (n: Node, prefix: string, depth: number): void => {
      if (depth > MAX_DEPTH) throw corrupt(n.fs.where, `folders nest deeper than ${MAX_DEPTH} levels`)
      const kids = this.children(n).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      for (const kid of kids) {
        const childRel = prefix ? `${prefix}/${kid.name}` : kid.name
        if (filter && !filter(childRel)) continue
        const mounted = this.mountAt.get(childRel)
        const node = mounted ? this.rootOf(mounted) : kid.node()
        if (node.inode.mode === 0) throw corrupt(n.fs.where, `${childRel} names a free inode`)
        out.push({rel: childRel, stat: this.statOf(node)})
        if (out.length > MAX_ENTRIES) throw corrupt(n.fs.where, `the unit holds more than ${MAX_ENTRIES} entries`)
        if (node.inode.kind === 'dir') visit(node, childRel, depth + 1)
      }
    }
    visit(start, rel, 0)
    return out
  }
}
