import {inflateRawSync} from 'node:zlib'
import {corrupt} from './errors.js'
import {type BlockSource, checkRange, FileSource} from './source.js'

// qcow2 (versions 2 and 3), read in process: header, L1 and L2 tables, zero and compressed (deflate)
// clusters. Refused before any cluster is read: a backing file (it would make us read another host
// file), an external data file, encryption, zstd compression, extended L2 entries, the corrupt bit,
// and any incompatible feature this reader does not know.

export const QCOW2_MAGIC = 0x514649FB
const INCOMPAT_DIRTY = 1n
const INCOMPAT_CORRUPT = 2n
const INCOMPAT_DATA_FILE = 4n
const INCOMPAT_COMPRESSION = 8n
const INCOMPAT_EXTL2 = 16n
const EXT_DATA_FILE = 0x44415441
const EXT_CRYPTO = 0x0537BE77
const L2_CACHE = 64

export class Qcow2Source implements BlockSource {
  readonly size: number
  private readonly file: FileSource
  private readonly clusterBits: number
  private readonly clusterSize: number
  private readonly l1: bigint[]
  private readonly l2Cache = new Map<number, Buffer>()

  constructor(path: string) {
    this.file = new FileSource(path)
    try {
      const where = path
      const h = this.file.read(0, Math.min(this.file.size, 4096))
      if (h.length < 72 || h.readUInt32BE(0) !== QCOW2_MAGIC) throw corrupt(where, 'not a qcow2 image')
      const version = h.readUInt32BE(4)
      if (version !== 2 && version !== 3) throw corrupt(where, `qcow2 version ${version} is not supported`)
      const backingOffset = h.readBigUInt64BE(8)
      const backingSize = h.readUInt32BE(16)
      if (backingOffset !== 0n || backingSize !== 0) throw corrupt(where, 'the qcow2 image names a backing file (a way to make a tool read another file of the host); never opened')
      this.clusterBits = h.readUInt32BE(20)
      if (this.clusterBits < 9 || this.clusterBits > 21) throw corrupt(where, `qcow2 cluster size 2^${this.clusterBits} is invalid`)
      this.clusterSize = 2 ** this.clusterBits
      const size = h.readBigUInt64BE(24)
      if (size > 2n ** 46n) throw corrupt(where, 'the qcow2 virtual size is too large')
      this.size = Number(size)
      if (h.readUInt32BE(32) !== 0) throw corrupt(where, 'the qcow2 image is encrypted; not supported')
      const l1Size = h.readUInt32BE(36)
      const l1Offset = Number(h.readBigUInt64BE(40))
      let headerLength = 72
      if (version === 3) {
        if (h.length < 104) throw corrupt(where, 'the qcow2 v3 header is truncated')
        const incompat = h.readBigUInt64BE(72)
        if (incompat & INCOMPAT_CORRUPT) throw corrupt(where, 'the qcow2 image is marked corrupt')
        if (incompat & INCOMPAT_DATA_FILE) throw corrupt(where, 'the qcow2 image keeps its data in an external file; never opened')
        if (incompat & INCOMPAT_EXTL2) throw corrupt(where, 'qcow2 extended L2 entries are not supported')
        if (incompat & INCOMPAT_COMPRESSION) throw corrupt(where, 'qcow2 zstd compression is not supported')
        if (incompat & ~(INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2)) throw corrupt(where, 'the qcow2 image uses unknown incompatible features')
        headerLength = h.readUInt32BE(100)
        if (headerLength < 104 || headerLength > h.length) throw corrupt(where, 'the qcow2 header length is invalid')
      }
      // header extensions: refuse an external data file or an encryption header even without the feature bit
      let pos = (headerLength + 7) & ~7
      for (let n = 0; n < 64 && pos + 8 <= h.length; n++) {
        const type = h.readUInt32BE(pos)
        const len = h.readUInt32BE(pos + 4)
        if (type === 0) break
        if (type === EXT_DATA_FILE) throw corrupt(where, 'the qcow2 image names an external data file; never opened')
        if (type === EXT_CRYPTO) throw corrupt(where, 'the qcow2 image is encrypted; not supported')
        pos += 8 + ((len + 7) & ~7)
      }
      const l2Entries = this.clusterSize / 8
      const needed = Math.ceil(this.size / (this.clusterSize * l2Entries))
      if (l1Size < needed || l1Size > needed + 1024) throw corrupt(where, 'the qcow2 L1 table size does not match the virtual size')
      if (l1Offset % this.clusterSize !== 0) throw corrupt(where, 'the qcow2 L1 table is not cluster aligned')
      checkRange(where, l1Offset, l1Size * 8, this.file.size)
      const l1 = this.file.read(l1Offset, l1Size * 8)
      this.l1 = []
      for (let i = 0; i < l1Size; i++) this.l1.push(l1.readBigUInt64BE(i * 8))
    } catch (error) {
      this.file.close()
      throw error
    }
  }

  private l2(index: number): Buffer | null {
    const entry = this.l1[index] ?? 0n
    const offset = Number(entry & 0x00FFFFFFFFFFFE00n)
    if (offset === 0) return null
    const hit = this.l2Cache.get(offset)
    if (hit) return hit
    if (offset % this.clusterSize !== 0) throw corrupt(this.file.path, 'a qcow2 L2 table is not cluster aligned')
    checkRange(this.file.path, offset, this.clusterSize, this.file.size)
    const table = this.file.read(offset, this.clusterSize)
    if (this.l2Cache.size >= L2_CACHE) this.l2Cache.delete(this.l2Cache.keys().next().value as number)
    this.l2Cache.set(offset, table)
    return table
  }

  private cluster(vcluster: number): Buffer | null {
    const perL2 = this.clusterSize / 8
    const table = this.l2(Math.floor(vcluster / perL2))
    if (!table) return null
    const entry = table.readBigUInt64BE((vcluster % perL2) * 8)
    if (entry & (1n << 62n)) {
      const x = 62 - (this.clusterBits - 8)
      const off = Number(entry & ((1n << BigInt(x)) - 1n))
      const sectors = Number((entry >> BigInt(x)) & ((1n << BigInt(this.clusterBits - 8)) - 1n)) + 1
      const len = Math.min(sectors * 512 - (off % 512), this.file.size - off)
      checkRange(this.file.path, off, len, this.file.size)
      try {
        const out = inflateRawSync(this.file.read(off, len), {maxOutputLength: this.clusterSize, finishFlush: 2})
        return out.length === this.clusterSize ? out : Buffer.concat([out, Buffer.alloc(this.clusterSize - out.length)])
      } catch {
        throw corrupt(this.file.path, 'a compressed qcow2 cluster does not decompress')
      }
    }
    if (entry & 1n) return null
    const off = Number(entry & 0x00FFFFFFFFFFFE00n)
    if (off === 0) return null
    if (off % this.clusterSize !== 0) throw corrupt(this.file.path, 'a qcow2 data cluster is not cluster aligned')
    checkRange(this.file.path, off, this.clusterSize, this.file.size)
    return this.file.read(off, this.clusterSize)
  }

  read(pos: number, len: number): Buffer {
    checkRange(this.file.path, pos, len, this.size)
    const out = Buffer.alloc(len)
    let done = 0
    while (done < len) {
      const at = pos + done
      const vc = Math.floor(at / this.clusterSize)
      const inOff = at % this.clusterSize
      const take = Math.min(this.clusterSize - inOff, len - done)
      const perL2 = this.clusterSize / 8
      const table = this.l2(Math.floor(vc / perL2))
      if (table) {
        const entry = table.readBigUInt64BE((vc % perL2) * 8)
        const plain = (entry & (1n << 62n)) === 0n && (entry & 1n) === 0n && (entry & 0x00FFFFFFFFFFFE00n) !== 0n
        if (plain) {
          // a plain cluster: read only the bytes asked for
          const off = Number(entry & 0x00FFFFFFFFFFFE00n)
          if (off % this.clusterSize !== 0) throw corrupt(this.file.path, 'a qcow2 data cluster is not cluster aligned')
          checkRange(this.file.path, off + inOff, take, this.file.size)
          this.file.readInto(out, done, take, off + inOff)
        } else {
          const c = this.cluster(vc)
          if (c) c.copy(out, done, inOff, inOff + take)
        }
      }
      done += take
    }
    return out
  }

  close(): void {
    this.file.close()
  }
}
