import {Readable} from 'node:stream'
import {crc32cRaw} from './crc32c.js'
import {corrupt} from './errors.js'
import type {BlockSource} from './source.js'

// A synchronous, read-only ext2/3/4 reader over a block source. It trusts nothing it reads: every
// block number, offset, size, count and depth is checked before use, loops are bounded, and any
// inconsistency is a BadInputError (exit 4), never a crash or a hang.

export const ROOT_INO = 2
const EXT4_MAGIC = 0xEF53
const EXTENT_MAGIC = 0xF30A
const EXTENTS_FL = 0x80000
const INLINE_DATA_FL = 0x10000000
const INCOMPAT_FILETYPE = 0x2
const INCOMPAT_RECOVER = 0x4
const INCOMPAT_64BIT = 0x80
const RO_COMPAT_METADATA_CSUM = 0x400
const INCOMPAT_CSUM_SEED = 0x2000
/** incompat features this reader understands; others are refused */
const INCOMPAT_KNOWN = 0x2 | 0x4 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x2000 | 0x4000 | 0x8000 | 0x20000
const MAX_EXTENT_DEPTH = 5
const MAX_DIR_BYTES = 64 * 1024 * 1024
const MAX_SYMLINK = 4096
const CACHE_BLOCKS = 2048

export type InodeKind = 'file' | 'dir' | 'symlink' | 'other'

export interface Inode {
  ino: number
  mode: number
  kind: InodeKind
  size: number
  flags: number
  links: number
  /** the 60 bytes of i_block */
  iblock: Buffer
  /** the whole on-disk inode */
  raw: Buffer
  /** byte offset of the inode inside the partition */
  at: number
}

export interface DirEntry {
  name: string
  ino: number
}

interface Extent {
  logical: number
  physical: number
  len: number
  uninit: boolean
}

function kindOf(mode: number): InodeKind {
  switch (mode & 0xF000) {
    case 0x8000: return 'file'
    case 0x4000: return 'dir'
    case 0xA000: return 'symlink'
    default: return 'other'
  }
}

export class Ext4 {
  readonly blockSize: number
  readonly blocksCount: number
  readonly inodesCount: number
  readonly inodesPerGroup: number
  readonly inodeSize: number
  readonly groupCount: number
  readonly label: string
  readonly uuid: Buffer
  readonly incompat: number
  readonly roCompat: number
  readonly csumSeed: number
  readonly descSize: number
  readonly firstDataBlock: number
  readonly blocksPerGroup: number
  /** byte offset of the group descriptor table inside the partition */
  readonly gdtOffset: number
  private readonly inodeTables: number[] = []
  private readonly cache = new Map<number, Buffer>()
  private readonly dirCache = new Map<number, Map<string, number>>()

  constructor(private readonly src: BlockSource, readonly start: number, readonly length: number, readonly where: string) {
    if (length < 2048) throw corrupt(where, 'the partition is too small for a filesystem')
    const sb = this.bytes(1024, 1024)
    if (sb.readUInt16LE(0x38) !== EXT4_MAGIC) throw corrupt(where, 'no ext2/3/4 filesystem (bad superblock magic)')
    const logBs = sb.readUInt32LE(0x18)
    if (logBs > 6) throw corrupt(where, 'the superblock block size is invalid')
    this.blockSize = 1024 << logBs
    this.incompat = sb.readUInt32LE(0x60)
    this.roCompat = sb.readUInt32LE(0x64)
    const unknown = this.incompat & ~INCOMPAT_KNOWN
    if (unknown) throw corrupt(where, `the filesystem uses features this reader does not support (incompat 0x${unknown.toString(16)})`)
    const is64 = (this.incompat & INCOMPAT_64BIT) !== 0
    this.blocksCount = sb.readUInt32LE(0x04) + (is64 ? sb.readUInt32LE(0x150) * 2 ** 32 : 0)
    this.inodesCount = sb.readUInt32LE(0x00)
    const firstData = sb.readUInt32LE(0x14)
    const blocksPerGroup = sb.readUInt32LE(0x20)
    this.firstDataBlock = firstData
    this.blocksPerGroup = blocksPerGroup
    this.inodesPerGroup = sb.readUInt32LE(0x28)
    const rev = sb.readUInt32LE(0x4C)
    this.inodeSize = rev === 0 ? 128 : sb.readUInt16LE(0x58)
    this.descSize = is64 ? sb.readUInt16LE(0xFE) : 32
    if (this.blocksCount * this.blockSize > length || this.blocksCount < 8) throw corrupt(where, 'the filesystem is larger than its partition')
    if (blocksPerGroup < 8 || blocksPerGroup > 8 * this.blockSize) throw corrupt(where, 'the superblock blocks-per-group is invalid')
    if (this.inodesPerGroup < 1 || this.inodesPerGroup > 8 * this.blockSize) throw corrupt(where, 'the superblock inodes-per-group is invalid')
    if (this.inodeSize < 128 || this.inodeSize > this.blockSize || (this.inodeSize & (this.inodeSize - 1)) !== 0) throw corrupt(where, 'the superblock inode size is invalid')
    if (this.descSize < 32 || this.descSize > 1024 || (this.descSize & (this.descSize - 1)) !== 0) throw corrupt(where, 'the group descriptor size is invalid')
    if (firstData >= this.blocksCount) throw corrupt(where, 'the superblock first data block is invalid')
    this.groupCount = Math.ceil((this.blocksCount - firstData) / blocksPerGroup)
    if (this.groupCount < 1 || this.groupCount * this.inodesPerGroup < this.inodesCount) throw corrupt(where, 'the superblock inode count is inconsistent')
    const name = sb.subarray(0x78, 0x88)
    this.label = name.toString('utf8', 0, name.indexOf(0) === -1 ? 16 : name.indexOf(0))
    this.uuid = Buffer.from(sb.subarray(0x68, 0x78))
    this.csumSeed = this.incompat & INCOMPAT_CSUM_SEED ? sb.readUInt32LE(0x270) : crc32cRaw(0xFFFFFFFF, this.uuid)
    const gdtBlock = firstData + 1
    this.gdtOffset = gdtBlock * this.blockSize
    const gdtBytes = this.groupCount * this.descSize
    if ((gdtBlock * this.blockSize) + gdtBytes > this.blocksCount * this.blockSize) throw corrupt(where, 'the group descriptors lie past the end of the filesystem')
    const gdt = this.bytes(gdtBlock * this.blockSize, gdtBytes)
    const tableBlocks = Math.ceil((this.inodesPerGroup * this.inodeSize) / this.blockSize)
    for (let g = 0; g < this.groupCount; g++) {
      const d = gdt.subarray(g * this.descSize, (g + 1) * this.descSize)
      const table = d.readUInt32LE(0x08) + (is64 && this.descSize >= 64 ? d.readUInt32LE(0x28) * 2 ** 32 : 0)
      if (table + tableBlocks > this.blocksCount) throw corrupt(where, `the inode table of group ${g} lies past the end of the filesystem`)
      this.inodeTables.push(table)
    }
  }

  get needsRecovery(): boolean {
    return (this.incompat & INCOMPAT_RECOVER) !== 0
  }

  get hasMetadataCsum(): boolean {
    return (this.roCompat & RO_COMPAT_METADATA_CSUM) !== 0
  }

  /** bytes [pos, pos+len) of the partition */
  bytes(pos: number, len: number): Buffer {
    if (!Number.isSafeInteger(pos) || pos < 0 || len < 0 || pos + len > this.length) throw corrupt(this.where, `a structure at byte ${pos} lies past the end of the partition`)
    return this.src.read(this.start + pos, len)
  }

  /** one filesystem block (metadata; cached) */
  block(n: number): Buffer {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.blocksCount) throw corrupt(this.where, `block ${n} lies past the end of the filesystem`)
    const hit = this.cache.get(n)
    if (hit) return hit
    const b = this.bytes(n * this.blockSize, this.blockSize)
    if (this.cache.size >= CACHE_BLOCKS) this.cache.delete(this.cache.keys().next().value as number)
    this.cache.set(n, b)
    return b
  }

  inodeOffset(ino: number): number {
    if (!Number.isInteger(ino) || ino < 1 || ino > this.inodesCount) throw corrupt(this.where, `inode ${ino} does not exist`)
    const g = Math.floor((ino - 1) / this.inodesPerGroup)
    const i = (ino - 1) % this.inodesPerGroup
    return this.inodeTables[g] * this.blockSize + i * this.inodeSize
  }

  inode(ino: number): Inode {
    const at = this.inodeOffset(ino)
    const blk = Math.floor(at / this.blockSize)
    const raw = Buffer.from(this.block(blk).subarray(at % this.blockSize, (at % this.blockSize) + this.inodeSize))
    const mode = raw.readUInt16LE(0)
    const kind = kindOf(mode)
    const size = raw.readUInt32LE(4) + raw.readUInt32LE(0x6C) * 2 ** 32
    if (!Number.isSafeInteger(size)) throw corrupt(this.where, `inode ${ino} has an impossible size`)
    return {ino, mode, kind, size, flags: raw.readUInt32LE(0x20), links: raw.readUInt16LE(0x1A), iblock: raw.subarray(0x28, 0x28 + 60), raw, at}
  }

  /** Every block an extent-mapped inode holds: its extents and the blocks of its extent tree. */
  allocatedRuns(inode: Inode): Array<[number, number]> {
    if (!(inode.flags & EXTENTS_FL)) throw corrupt(this.where, `inode ${inode.ino} is not extent mapped`)
    const nodes: number[] = []
    const runs: Array<[number, number]> = this.extents(inode, nodes).map((e) => [e.physical, e.len])
    for (const n of nodes) runs.push([n, 1])
    return runs
  }

  /** The extents of an inode (extent tree or classic block map), sorted and checked. */
  private extents(inode: Inode, nodeBlocks?: number[]): Extent[] {
    const out: Extent[] = []
    const maxLogical = Math.ceil(inode.size / this.blockSize)
    if (inode.flags & EXTENTS_FL) {
      let nodes = 0
      const walk = (node: Buffer, depth: number | null, level: number): void => {
        if (++nodes > 1 + Math.ceil(this.blocksCount / 64)) throw corrupt(this.where, `inode ${inode.ino}: the extent tree is too large`)
        if (node.readUInt16LE(0) !== EXTENT_MAGIC) throw corrupt(this.where, `inode ${inode.ino}: bad extent header`)
        const entries = node.readUInt16LE(2)
        const max = node.readUInt16LE(4)
        const d = node.readUInt16LE(6)
        if (max > (node.length - 12) / 12 || entries > max) throw corrupt(this.where, `inode ${inode.ino}: extent header counts exceed its node`)
        if (d > MAX_EXTENT_DEPTH || (depth !== null && d !== depth) || level > MAX_EXTENT_DEPTH) throw corrupt(this.where, `inode ${inode.ino}: extent tree depth is invalid`)
        for (let i = 0; i < entries; i++) {
          const e = node.subarray(12 + i * 12, 24 + i * 12)
          if (d === 0) {
            let len = e.readUInt16LE(4)
            const uninit = len > 32768
            if (uninit) len -= 32768
            const physical = e.readUInt16LE(6) * 2 ** 32 + e.readUInt32LE(8)
            const logical = e.readUInt32LE(0)
            if (len === 0) continue
            if (physical + len > this.blocksCount) throw corrupt(this.where, `inode ${inode.ino}: an extent points past the end of the filesystem`)
            out.push({logical, physical, len, uninit})
            if (out.length > 4_000_000) throw corrupt(this.where, `inode ${inode.ino}: too many extents`)
          } else {
            const leaf = e.readUInt32LE(4) + e.readUInt16LE(8) * 2 ** 32
            nodeBlocks?.push(leaf)
            walk(this.block(leaf), d - 1, level + 1)
          }
        }
      }
      walk(inode.iblock, null, 0)
    } else {
      const ptrs = inode.iblock
      const perBlock = this.blockSize / 4
      let logical = 0
      const add = (physical: number): void => {
        if (logical >= maxLogical) return
        if (physical !== 0) {
          if (physical >= this.blocksCount) throw corrupt(this.where, `inode ${inode.ino}: a block pointer points past the end of the filesystem`)
          const last = out[out.length - 1]
          if (last && last.logical + last.len === logical && last.physical + last.len === physical) last.len++
          else out.push({logical, physical, len: 1, uninit: false})
        }
        logical++
      }
      const indirect = (blk: number, level: number): void => {
        const span = perBlock ** level
        if (blk === 0) {
          logical += span
          return
        }
        const b = this.block(blk)
        for (let i = 0; i < perBlock && logical < maxLogical; i++) {
          const p = b.readUInt32LE(i * 4)
          if (level === 1) add(p)
          else indirect(p, level - 1)
        }
      }
      for (let i = 0; i < 12; i++) add(ptrs.readUInt32LE(i * 4))
      for (let level = 1; level <= 3 && logical < maxLogical; level++) indirect(ptrs.readUInt32LE((11 + level) * 4), level)
    }
    out.sort((a, b) => a.logical - b.logical)
    for (let i = 1; i < out.length; i++) {
      if (out[i].logical < out[i - 1].logical + out[i - 1].len) throw corrupt(this.where, `inode ${inode.ino}: extents overlap`)
    }
    return out
  }

  /** Inline data (the 60 bytes of i_block, then the system.data extended attribute in the inode). */
  private inlineData(inode: Inode): Buffer {
    const head = inode.iblock.subarray(0, Math.min(60, inode.size))
    if (inode.size <= 60) return Buffer.from(head)
    const extra = this.inodeSize > 128 ? inode.raw.readUInt16LE(0x80) : 0
    const base = 128 + extra
    if (base + 4 > this.inodeSize || inode.raw.readUInt32LE(base) !== 0xEA020000) throw corrupt(this.where, `inode ${inode.ino}: inline data without its attribute`)
    let pos = base + 4
    for (let n = 0; n < 256 && pos + 16 <= this.inodeSize; n++) {
      const nameLen = inode.raw[pos]
      if (nameLen === 0 && inode.raw.readUInt32LE(pos) === 0) break
      const index = inode.raw[pos + 1]
      const valueOffs = inode.raw.readUInt16LE(pos + 2)
      const valueSize = inode.raw.readUInt32LE(pos + 8)
      const name = inode.raw.toString('latin1', pos + 16, pos + 16 + nameLen)
      if (index === 7 && name === 'data') {
        const start = base + 4 + valueOffs
        if (start + valueSize > this.inodeSize || 60 + valueSize < inode.size) throw corrupt(this.where, `inode ${inode.ino}: inline data attribute out of bounds`)
        return Buffer.concat([head, inode.raw.subarray(start, start + inode.size - 60)])
      }
      pos += (16 + nameLen + 3) & ~3
    }
    throw corrupt(this.where, `inode ${inode.ino}: inline data attribute missing`)
  }

  /** bytes [offset, offset+len) of a file's content (holes and unwritten extents read as zeros) */
  readRange(inode: Inode, offset: number, len: number, extents?: Extent[]): Buffer {
    if (offset + len > inode.size) len = Math.max(0, inode.size - offset)
    if (inode.flags & INLINE_DATA_FL) return this.inlineData(inode).subarray(offset, offset + len)
    const out = Buffer.alloc(len)
    if (len === 0) return out
    const bs = this.blockSize
    for (const e of extents ?? this.extents(inode)) {
      const eStart = e.logical * bs
      const eEnd = eStart + e.len * bs
      const from = Math.max(eStart, offset)
      const to = Math.min(eEnd, offset + len)
      if (from >= to || e.uninit) continue
      const data = this.bytes(e.physical * bs + (from - eStart), to - from)
      data.copy(out, from - offset)
    }
    return out
  }

  /** a file's whole content, refused past maxBytes */
  readAll(inode: Inode, maxBytes: number): Buffer {
    if (inode.size > maxBytes) throw corrupt(this.where, `inode ${inode.ino} (${inode.size} bytes) is larger than the limit of ${maxBytes} bytes`)
    return this.readRange(inode, 0, inode.size)
  }

  /** a file's content as a stream of chunks (memory stays flat) */
  stream(inode: Inode, chunk = 1 << 20): Readable {
    const extents = inode.flags & INLINE_DATA_FL ? undefined : this.extents(inode)
    const self = this
    function* gen(): Generator<Buffer> {
      for (let off = 0; off < inode.size; off += chunk) yield self.readRange(inode, off, Math.min(chunk, inode.size - off), extents)
    }
    return Readable.from(gen(), {objectMode: false})
  }

  readlink(inode: Inode): string {
    if (inode.kind !== 'symlink') throw corrupt(this.where, `inode ${inode.ino} is not a link`)
    if (inode.size === 0 || inode.size > MAX_SYMLINK) throw corrupt(this.where, `inode ${inode.ino}: link target length ${inode.size} is invalid`)
    let data: Buffer
    if (inode.flags & (EXTENTS_FL | INLINE_DATA_FL)) data = this.readRange(inode, 0, inode.size)
    else if (inode.size < 60) data = Buffer.from(inode.iblock.subarray(0, inode.size))
    else data = this.readRange(inode, 0, inode.size)
    if (data.includes(0)) throw corrupt(this.where, `inode ${inode.ino}: link target holds a NUL byte`)
    return data.toString('utf8')
  }

  /** The entries of a folder ('.' and '..' left out), checked: sane records, no '/' or NUL, no duplicates. */
  readDir(inode: Inode): DirEntry[] {
    if (inode.kind !== 'dir') throw corrupt(this.where, `inode ${inode.ino} is not a folder`)
    if (inode.size > MAX_DIR_BYTES) throw corrupt(this.where, `folder inode ${inode.ino} is larger than ${MAX_DIR_BYTES} bytes`)
    const out: DirEntry[] = []
    const seen = new Set<string>()
    const typed = (this.incompat & INCOMPAT_FILETYPE) !== 0
    const parse = (buf: Buffer, blockLen: number): void => {
      for (let b = 0; b < buf.length; b += blockLen) {
        const end = Math.min(b + blockLen, buf.length)
        let pos = b
        while (pos + 8 <= end) {
          const ino = buf.readUInt32LE(pos)
          const recLen = buf.readUInt16LE(pos + 4)
          const nameLen = typed ? buf[pos + 6] : buf.readUInt16LE(pos + 6)
          if (recLen < 8 || recLen % 4 !== 0 || pos + recLen > end || 8 + nameLen > recLen) throw corrupt(this.where, `folder inode ${inode.ino} has a malformed entry`)
          if (ino !== 0 && nameLen > 0) {
            const raw = buf.subarray(pos + 8, pos + 8 + nameLen)
            const name = raw.toString('utf8')
            if (name !== '.' && name !== '..') {
              if (raw.includes(0x2F) || raw.includes(0) || !Buffer.from(name, 'utf8').equals(raw)) throw corrupt(this.where, `folder inode ${inode.ino} holds an invalid name`)
              if (ino > this.inodesCount) throw corrupt(this.where, `folder inode ${inode.ino} names an inode that does not exist`)
              if (seen.has(name)) throw corrupt(this.where, `folder inode ${inode.ino} holds "${name}" twice`)
              seen.add(name)
              out.push({name, ino})
            }
          }
          pos += recLen
        }
      }
    }
    if (inode.flags & INLINE_DATA_FL) {
      const data = this.inlineData(inode)
      // inline folders: 4 bytes of parent inode, then entries (the i_block part and the attribute part are separate runs)
      if (data.length >= 4) parse(data.subarray(4, Math.min(60, data.length)), 56)
      if (data.length > 60) parse(data.subarray(60), data.length - 60)
    } else {
      parse(this.readRange(inode, 0, inode.size), this.blockSize)
    }
    return out
  }

  /** name → inode number in a folder (cached), or null */
  lookup(dir: Inode, name: string): number | null {
    let map = this.dirCache.get(dir.ino)
    if (!map) {
      map = new Map(this.readDir(dir).map((e) => [e.name, e.ino]))
      if (this.dirCache.size > 4096) this.dirCache.clear()
      this.dirCache.set(dir.ino, map)
    }
    return map.get(name) ?? null
  }

  /** ext4's inode checksum (crc32c over number, generation and inode with the checksum fields zeroed) */
  inodeChecksum(ino: number, raw: Buffer): {lo: number; hi: number | null} {
    const copy = Buffer.from(raw)
    copy.writeUInt16LE(0, 0x7C)
    const extra = this.inodeSize > 128 ? copy.readUInt16LE(0x80) : 0
    const hasHi = this.inodeSize > 128 && extra >= 4
    if (hasHi) copy.writeUInt16LE(0, 0x82)
    const num = Buffer.alloc(8)
    num.writeUInt32LE(ino, 0)
    num.writeUInt32LE(copy.readUInt32LE(0x64), 4)
    let c = crc32cRaw(this.csumSeed, num, 0, 4)
    c = crc32cRaw(c, num, 4, 8)
    c = crc32cRaw(c, copy)
    return {lo: c & 0xFFFF, hi: hasHi ? c >>> 16 : null}
  }
}
