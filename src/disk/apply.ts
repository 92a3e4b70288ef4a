import {createRequire} from 'node:module'
import {createReadStream} from 'node:fs'
import {FailedError, XwayError} from '../errors.js'
import type {StoreOp} from '../unit/store.js'
import {UnsafePathError} from './errors.js'
import {partitionOf, type PartitionName} from './layout.js'
import type {OverlayDisk} from './overlay.js'
import {releaseLargeFiles} from './release.js'

// Applies a commit's operations to the partitions of a disk with libext2fs (the ext2fs package:
// e2fsprogs' library in WebAssembly), over an OverlayDisk, so that the image itself is untouched
// until the journal is committed. Paths are resolved here component by component with lstat:
// a link is never followed, a path through one is refused.

/* eslint-disable @typescript-eslint/no-explicit-any */
type Ext2Fs = any
interface Ext2Module {
  mount(disk: unknown, offset: number): Promise<Ext2Fs>
  umount(fs: Ext2Fs): Promise<void>
}

let loaded: Ext2Module | null = null

/** Loads the ext2fs package on first use only, and takes back the process-wide handlers it installs at load. */
function ext2fs(): Ext2Module {
  if (loaded) return loaded
  const before = {u: process.listeners('uncaughtException'), r: process.listeners('unhandledRejection')}
  loaded = createRequire(import.meta.url)('ext2fs') as Ext2Module
  for (const l of process.listeners('uncaughtException')) if (!before.u.includes(l)) process.removeListener('uncaughtException', l)
  for (const l of process.listeners('unhandledRejection')) if (!before.r.includes(l)) process.removeListener('unhandledRejection', l)
  return loaded
}

const CHUNK = 256 * 1024
const S_IFMT = 0o170000

interface Entry {
  kind: 'file' | 'dir' | 'symlink' | 'other'
}

async function lstat(fs: Ext2Fs, path: string): Promise<Entry | null> {
  try {
    const st = await fs.promises.lstat(path)
    const t = st.mode & S_IFMT
    return {kind: t === 0o100000 ? 'file' : t === 0o040000 ? 'dir' : t === 0o120000 ? 'symlink' : 'other'}
  } catch (error) {
    if ((error as {code?: string}).code === 'ENOENT') return null
    throw error
  }
}

/** Creates missing parent folders of inner (0755); refuses a parent that is a link or not a folder. */
async function parents(fs: Ext2Fs, inner: string, rel: string, create: boolean): Promise<void> {
  const parts = inner.split('/').slice(0, -1)
  let path = ''
  for (const p of parts) {
    path += `/${p}`
    const st = await lstat(fs, path)
    if (!st) {
      if (!create) return
      await fs.promises.mkdir(path, 0o755)
      continue
    }
    if (st.kind === 'symlink') throw new UnsafePathError(`${rel}: a parent folder is a symbolic link; a disk image store never follows links.`)
    if (st.kind !== 'dir') throw new UnsafePathError(`${rel}: a parent is not a folder.`)
  }
}

async function removeTree(fs: Ext2Fs, path: string, keep?: string): Promise<void> {
  const st = await lstat(fs, path)
  if (!st) return
  if (st.kind === 'dir') {
    for (const name of (await fs.promises.readdir(path)) as string[]) {
      if (name === keep) continue
      await removeTree(fs, path === '/' ? `/${name}` : `${path}/${name}`)
    }
    if (path !== '/') await fs.promises.rmdir(path)
  } else {
    await fs.promises.unlink(path)
  }
}

async function writeChunks(fh: any, chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> {
  for await (const chunk of chunks) {
    for (let off = 0; off < chunk.length; off += CHUNK) await fh.write(Buffer.from(chunk.subarray(off, off + CHUNK)))
  }
}

function* slices(data: Buffer): Generator<Buffer> {
  for (let off = 0; off < data.length; off += CHUNK) yield data.subarray(off, off + CHUNK)
}

async function applyOne(fs: Ext2Fs, inner: string, op: StoreOp): Promise<void> {
  const path = `/${inner}`
  if (op.op === 'delete') {
    if (inner === '') return removeTree(fs, '/', 'lost+found')
    await parents(fs, inner, op.rel, false)
    return removeTree(fs, path)
  }
  if (op.op === 'mkdir') {
    if (inner === '') return
    await parents(fs, inner, op.rel, true)
    const st = await lstat(fs, path)
    if (!st) return fs.promises.mkdir(path, op.mode)
    if (st.kind === 'symlink') throw new UnsafePathError(`${op.rel} is a symbolic link; a disk image store never follows links.`)
    if (st.kind !== 'dir') throw new FailedError(`${op.rel} exists and is not a folder.`)
    return
  }
  if (inner === '') throw new FailedError(`${op.rel} is a partition's mount point; it can only be a folder.`)
  await parents(fs, inner, op.rel, true)
  const st = await lstat(fs, path)
  if (op.op === 'symlink') {
    if (st) await removeTree(fs, path)
    return fs.promises.symlink(op.target, path)
  }
  if (op.op === 'append') {
    if (st && st.kind !== 'file') throw new UnsafePathError(`${op.rel} is not a regular file (${st.kind}); appending would not be to a file.`)
    const fh = await fs.promises.open(path, 'a', 0o644)
    try {
      await writeChunks(fh, slices(op.data))
    } finally {
      await fh.close()
    }
    return
  }
  if (st && st.kind !== 'file') await removeTree(fs, path)
  const fh = await fs.promises.open(path, 'w', op.mode)
  try {
    if (op.op === 'write') await writeChunks(fh, slices(op.data))
    else await writeChunks(fh, createReadStream(op.source, {highWaterMark: CHUNK}) as AsyncIterable<Buffer>)
  } finally {
    await fh.close()
  }
  await fs.promises.chmod(path, op.mode)
}

/** Applies ops, in order, to the partitions of an overlay disk; only the partitions they touch are opened. */
export async function applyOps(disk: OverlayDisk, partitions: Record<PartitionName, {offset: number; size: number}>, ops: StoreOp[]): Promise<void> {
  const mounted = new Map<PartitionName, Ext2Fs>()
  const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)
  // large files a delete will drop are emptied in bulk first, unless an earlier op touches their path
  ops.forEach((op, i) => {
    if (op.op !== 'delete' || ops.slice(0, i).some((o) => overlaps(o.rel, op.rel))) return
    const {part, inner} = partitionOf(op.rel)
    releaseLargeFiles(disk, partitions[part].offset, partitions[part].size, inner)
  })
  const lib = ext2fs()
  // Each partition's ops in their order, one partition after the other (paths of different
  // partitions never overlap: the same change): libext2fs (WebAssembly) runs out of bounds when
  // ops go back to a filesystem after another one was mounted beside it.
  const rank = (op: StoreOp): number => ['root', 'tandberg', 'harddisk'].indexOf(partitionOf(op.rel).part)
  const ordered = ops.every((op) => op.rel !== '' && op.rel !== 'mnt' && !op.rel.startsWith('/')) ? ops.map((op, i) => ({op, i})).sort((a, b) => rank(a.op) - rank(b.op) || a.i - b.i).map((x) => x.op) : ops
  try {
    for (const op of ordered) {
      if (op.rel === '' || op.rel === 'mnt' || op.rel.startsWith('/') || op.rel.split('/').some((c) => c === '' || c === '.' || c === '..')) {
        throw new UnsafePathError(`"${op.rel}" cannot be changed in a disk image (not a clean unit-relative path, or a folder holding a partition).`)
      }
      const {part, inner} = partitionOf(op.rel)
      let fs = mounted.get(part)
      if (!fs) {
        fs = await lib.mount(disk, partitions[part].offset)
        mounted.set(part, fs)
      }
      try {
        await applyOne(fs, inner, op)
      } catch (error) {
        if (error instanceof XwayError) throw error
        const code = (error as {code?: string}).code
        const why = code === 'ENOSPC' ? `the ${part} partition is full` : (error as Error).message
        throw new FailedError(`Could not ${op.op} ${op.rel} in the image: ${why}. The image was not changed.`, {cause: error})
      }
    }
  } finally {
    for (const fs of mounted.values()) await lib.umount(fs)
  }
}
