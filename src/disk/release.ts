import {crc32cRaw} from './crc32c.js'
import {Ext4, type Inode, ROOT_INO} from './ext4.js'
import type {OverlayDisk} from './overlay.js'

// libext2fs frees a deleted file's blocks one at a time (with a group-descriptor checksum per
// block): deleting 2 GB of logs costs ~1 s of CPU. Before such a delete is handed to libext2fs,
// the large files under it are emptied here in bulk: their extents cleared from the block bitmaps
// a word at a time, the group and superblock free counts and checksums updated, the inodes left
// as empty files, all on the overlay. libext2fs then deletes small files. Anything unexpected
// (a block already free, a group not initialised, no metadata_csum) leaves the overlay untouched
// and the delete takes the ordinary path.

const EXTENT_FLAG = 0x80000
const INLINE_FLAG = 0x10000000
const BLOCK_UNINIT = 0x2
/** files smaller than this are freed by libext2fs itself */
export const BULK_FREE_MIN_BYTES = 8 * 1024 * 1024

/** Clears bits [first, first+count) of a bitmap, whole bytes at a time; false when one was already clear. */
function clearBits(map: Buffer, first: number, count: number): boolean {
  let bit = first
  const end = first + count
  while (bit < end) {
    if ((bit & 7) === 0 && bit + 8 <= end) {
      if (map[bit >> 3] !== 0xFF) return false
      map[bit >> 3] = 0
      bit += 8
      continue
    }
    const mask = 1 << (bit & 7)
    if (!(map[bit >> 3] & mask)) return false
    map[bit >> 3] &= ~mask
    bit++
  }
  return true
}

interface Planned {
  inode: Inode
  runs: Array<[number, number]>
}

function resolveInner(fs: Ext4, inner: string): Inode | null {
  let node = fs.inode(ROOT_INO)
  for (const name of inner === '' ? [] : inner.split('/')) {
    if (node.kind !== 'dir') return null
    const ino = fs.lookup(node, name)
    if (ino === null) return null
    node = fs.inode(ino)
  }
  return node
}

function collect(fs: Ext4, root: Inode, out: Planned[], depth = 0): void {
  if (depth > 64 || out.length > 100_000) throw new Error('tree too deep or too large')
  if (root.kind === 'file') {
    const xattrBlock = root.raw.readUInt32LE(0x68) + root.raw.readUInt16LE(0x76)
    if (root.links === 1 && xattrBlock === 0 && root.size >= BULK_FREE_MIN_BYTES && root.flags & EXTENT_FLAG && !(root.flags & INLINE_FLAG)) out.push({inode: root, runs: fs.allocatedRuns(root)})
    return
  }
  if (root.kind !== 'dir') return
  for (const e of fs.readDir(root)) collect(fs, fs.inode(e.ino), out, depth + 1)
}

/** Empties the large files under `inner` (a path inside the partition) in bulk; returns the blocks freed. */
export function releaseLargeFiles(disk: OverlayDisk, offset: number, size: number, inner: string): number {
  const fs = new Ext4(disk.source(), offset, size, 'partition')
  if (!fs.hasMetadataCsum || fs.needsRecovery) return 0
  let target: Inode | null
  const files: Planned[] = []
  try {
    target = resolveInner(fs, inner)
    if (!target || target.kind === 'symlink') return 0
    collect(fs, target, files)
  } catch {
    return 0
  }
  if (files.length === 0) return 0
  const bs = fs.blockSize
  const bitmaps = new Map<number, {block: number; data: Buffer; freed: number}>()
  const descOf = (g: number): Buffer => fs.bytes(fs.gdtOffset + g * fs.descSize, fs.descSize)
  const descs = new Map<number, Buffer>()
  let freed = 0
  for (const f of files) {
    for (const [start, len] of f.runs) {
      for (let blk = start; blk < start + len;) {
        const g = Math.floor((blk - fs.firstDataBlock) / fs.blocksPerGroup)
        if (g < 0 || g >= fs.groupCount) return 0
        let d = descs.get(g)
        if (!d) {
          d = Buffer.from(descOf(g))
          descs.set(g, d)
        }
        if (d.readUInt16LE(0x12) & BLOCK_UNINIT) return 0
        let bm = bitmaps.get(g)
        if (!bm) {
          const block = d.readUInt32LE(0x00) + (fs.descSize >= 64 ? d.readUInt32LE(0x20) * 2 ** 32 : 0)
          bm = {block, data: Buffer.from(fs.bytes(block * bs, bs)), freed: 0}
          bitmaps.set(g, bm)
        }
        const first = blk - fs.firstDataBlock - g * fs.blocksPerGroup
        const end = Math.min(start + len, fs.firstDataBlock + (g + 1) * fs.blocksPerGroup)
        if (!clearBits(bm.data, first, end - blk)) return 0 // a block already free: the filesystem is not what we think; let libext2fs decide
        bm.freed += end - blk
        freed += end - blk
        blk = end
      }
    }
  }
  // every change computed: now written, checksums first
  const group = Buffer.alloc(4)
  for (const [g, bm] of bitmaps) {
    const d = descs.get(g)!
    const free = d.readUInt16LE(0x0C) + (fs.descSize >= 64 ? d.readUInt16LE(0x2C) * 65536 : 0) + bm.freed
    d.writeUInt16LE(free & 0xFFFF, 0x0C)
    if (fs.descSize >= 64) d.writeUInt16LE(Math.floor(free / 65536), 0x2C)
    const csum = crc32cRaw(fs.csumSeed, bm.data, 0, fs.blocksPerGroup / 8)
    d.writeUInt16LE(csum & 0xFFFF, 0x18)
    if (fs.descSize >= 64) d.writeUInt16LE(csum >>> 16, 0x38)
    d.writeUInt16LE(0, 0x1E)
    group.writeUInt32LE(g, 0)
    d.writeUInt16LE(crc32cRaw(crc32cRaw(fs.csumSeed, group), d) & 0xFFFF, 0x1E)
    disk.writeSync(bm.data, 0, bs, offset + bm.block * bs)
    disk.writeSync(d, 0, d.length, offset + fs.gdtOffset + g * fs.descSize)
  }
  const sb = Buffer.from(fs.bytes(1024, 1024))
  const sbFree = sb.readUInt32LE(0x0C) + sb.readUInt32LE(0x158) * 2 ** 32 + freed
  sb.writeUInt32LE(sbFree % 2 ** 32, 0x0C)
  sb.writeUInt32LE(Math.floor(sbFree / 2 ** 32), 0x158)
  sb.writeUInt32LE(crc32cRaw(0xFFFFFFFF, sb, 0, 0x3FC), 0x3FC)
  disk.writeSync(sb, 0, sb.length, offset + 1024)
  for (const f of files) {
    const raw = Buffer.from(f.inode.raw)
    raw.writeUInt32LE(0, 0x04) // size
    raw.writeUInt32LE(0, 0x6C)
    raw.writeUInt32LE(0, 0x1C) // i_blocks
    raw.writeUInt16LE(0, 0x74)
    raw.fill(0, 0x28, 0x28 + 60)
    raw.writeUInt16LE(0xF30A, 0x28) // an empty extent tree
    raw.writeUInt16LE(0, 0x2A)
    raw.writeUInt16LE(4, 0x2C)
    raw.writeUInt16LE(0, 0x2E)
    const c = fs.inodeChecksum(f.inode.ino, raw)
    raw.writeUInt16LE(c.lo, 0x7C)
    if (c.hi !== null) raw.writeUInt16LE(c.hi, 0x82)
    disk.writeSync(raw, 0, raw.length, offset + f.inode.at)
  }
  return freed
}
