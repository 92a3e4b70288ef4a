import {inflateSync} from 'node:zlib'
import {corrupt} from './errors.js'
import {type BlockSource, checkRange} from './source.js'

// VMDK hosted sparse extents (monolithicSparse and streamOptimized), read in process: the header
// (or the footer of a stream), the grain directory and tables, plain and deflate-compressed
// grains. A VMDK is checked before anything else is read: a text descriptor (its extents are other
// files, the classic way to make a tool read the host's files) is refused, and so is an embedded
// descriptor naming anything but this one sparse extent, or a header whose capacity is 0 (qemu
// would then follow the descriptor's extents).

export const VMDK_SPARSE_MAGIC = 0x564D444B // 'KDMV' little-endian
const FLAG_COMPRESSED = 1 << 16
const FLAG_MARKERS = 1 << 17
const GD_AT_END = 0xFFFFFFFFFFFFFFFFn
const SECTOR = 512

export interface VmdkDescriptor {
  createType: string | null
  cid: string | null
  extents: Array<{access: string; sectors: number; type: string; file: string | null}>
}

export function parseDescriptor(text: string): VmdkDescriptor {
  const out: VmdkDescriptor = {createType: null, cid: null, extents: []}
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const kv = /^([A-Za-z.]+)\s*=\s*"?([^"]*)"?$/.exec(line)
    if (kv) {
      if (kv[1] === 'createType') out.createType = kv[2]
      if (kv[1] === 'CID') out.cid = kv[2]
      continue
    }
    const ext = /^(RW|RDONLY|NOACCESS)\s+(\d+)\s+(\w+)(?:\s+"([^"]*)")?/.exec(line)
    if (ext) out.extents.push({access: ext[1], sectors: Number(ext[2]), type: ext[3], file: ext[4] ?? null})
  }
  return out
}

/** True for a VMDK text descriptor file (its data lives in other files). */
export function isDescriptorText(head: Buffer): boolean {
  return head.toString('latin1', 0, 21) === '# Disk DescriptorFile' || /^\s*(version|CID|createType)\s*=/m.test(head.toString('latin1', 0, 1024))
}

export class VmdkSource implements BlockSource {
  readonly size: number
  readonly descriptor: VmdkDescriptor
  private readonly grainBytes: number
  private readonly compressed: boolean
  private readonly markers: boolean
  private readonly gd: number[]
  private readonly gtEntries: number
  private readonly gtCache = new Map<number, Buffer>()
  private lastGrain: {sector: number; data: Buffer} | null = null

  constructor(private readonly file: BlockSource, private readonly where: string) {
    if (file.size < 4 * SECTOR) throw corrupt(where, 'too small to be a VMDK')
    const head = file.read(0, SECTOR)
    if (head.readUInt32LE(0) !== VMDK_SPARSE_MAGIC) {
      if (isDescriptorText(head)) throw corrupt(where, 'this VMDK is a text descriptor whose extents are other files; only single-file (monolithicSparse or streamOptimized) VMDKs are read, and none of their extents is ever opened')
      throw corrupt(where, 'not a VMDK sparse extent')
    }
    let h = head
    if (h.readBigUInt64LE(56) === GD_AT_END) {
      // streamOptimized: the real header is the footer, 1024 bytes before the end
      h = file.read(file.size - 2 * SECTOR, SECTOR)
      if (h.readUInt32LE(0) !== VMDK_SPARSE_MAGIC || h.readBigUInt64LE(56) === GD_AT_END) throw corrupt(where, 'the streamOptimized VMDK has no footer')
    }
    const version = h.readUInt32LE(4)
    if (version < 1 || version > 3) throw corrupt(where, `VMDK version ${version} is not supported`)
    const flags = h.readUInt32LE(8)
    const capacity = h.readBigUInt64LE(12)
    const grainSize = h.readBigUInt64LE(20)
    const descOffset = h.readBigUInt64LE(28)
    const descSize = h.readBigUInt64LE(36)
    const gtes = h.readUInt32LE(44)
    const gdOffset = h.readBigUInt64LE(56)
    if (capacity === 0n) throw corrupt(where, 'the VMDK header has capacity 0 (its descriptor would point at other extents); refused')
    if (capacity > 2n ** 37n) throw corrupt(where, 'the VMDK capacity is too large')
    if (grainSize < 8n || grainSize > 2048n || (grainSize & (grainSize - 1n)) !== 0n) throw corrupt(where, 'the VMDK grain size is invalid')
    if (gtes < 1 || gtes > 65536) throw corrupt(where, 'the VMDK grain table size is invalid')
    if (descSize > 2048n || descOffset * 512n + descSize * 512n > BigInt(file.size)) throw corrupt(where, 'the VMDK descriptor lies outside the file')
    this.compressed = (flags & FLAG_COMPRESSED) !== 0
    this.markers = (flags & FLAG_MARKERS) !== 0
    if (this.compressed && h.readUInt16LE(77) !== 1) throw corrupt(where, 'the VMDK compression algorithm is not deflate')
    this.size = Number(capacity) * SECTOR
    this.grainBytes = Number(grainSize) * SECTOR
    this.gtEntries = gtes
    const text = descSize > 0n ? file.read(Number(descOffset) * SECTOR, Number(descSize) * SECTOR).toString('latin1').replace(/\0[\s\S]*$/, '') : ''
    this.descriptor = parseDescriptor(text)
    if (text) {
      const ext = this.descriptor.extents
      if (ext.length !== 1 || ext[0].type !== 'SPARSE' || !ext[0].file || /[/\\]|^\.\.?$/.test(ext[0].file) || ext[0].sectors !== Number(capacity)) {
        throw corrupt(where, `the VMDK descriptor names extents other than this file (${ext.map((e) => `${e.type} "${e.file ?? ''}"`).join(', ') || 'none'}); never opened`)
      }
    }
    const grains = Math.ceil(Number(capacity) / Number(grainSize))
    const gdCount = Math.ceil(grains / gtes)
    const gdPos = Number(gdOffset) * SECTOR
    checkRange(where, gdPos, gdCount * 4, file.size)
    const gdBuf = file.read(gdPos, gdCount * 4)
    this.gd = []
    for (let i = 0; i < gdCount; i++) this.gd.push(gdBuf.readUInt32LE(i * 4))
  }

  private gt(index: number): Buffer | null {
    const sector = this.gd[index] ?? 0
    if (sector === 0) return null
    const hit = this.gtCache.get(sector)
    if (hit) return hit
    checkRange(this.where, sector * SECTOR, this.gtEntries * 4, this.file.size)
    const t = this.file.read(sector * SECTOR, this.gtEntries * 4)
    if (this.gtCache.size > 256) this.gtCache.delete(this.gtCache.keys().next().value as number)
    this.gtCache.set(sector, t)
    return t
  }

  private grain(g: number): Buffer | null {
    const t = this.gt(Math.floor(g / this.gtEntries))
    if (!t) return null
    const sector = t.readUInt32LE((g % this.gtEntries) * 4)
    if (sector <= 1) return null // 0: unallocated, 1: zeroed grain
    if (this.lastGrain?.sector === sector) return this.lastGrain.data
    const pos = sector * SECTOR
    let data: Buffer
    if (this.compressed) {
      const headerLen = this.markers ? 12 : 12
      checkRange(this.where, pos, headerLen, this.file.size)
      const marker = this.file.read(pos, headerLen)
      const len = marker.readUInt32LE(8)
      if (len === 0 || len > this.grainBytes * 2 + 4096) throw corrupt(this.where, 'a compressed VMDK grain has an invalid size')
      checkRange(this.where, pos + headerLen, len, this.file.size)
      try {
        data = inflateSync(this.file.read(pos + headerLen, len), {maxOutputLength: this.grainBytes})
      } catch {
        throw corrupt(this.where, 'a compressed VMDK grain does not decompress')
      }
      if (data.length < this.grainBytes) data = Buffer.concat([data, Buffer.alloc(this.grainBytes - data.length)])
    } else {
      checkRange(this.where, pos, this.grainBytes, this.file.size)
      data = this.file.read(pos, this.grainBytes)
    }
    this.lastGrain = {sector, data}
    return data
  }

  read(pos: number, len: number): Buffer {
    checkRange(this.where, pos, len, this.size)
    const out = Buffer.alloc(len)
    let done = 0
    while (done < len) {
      const at = pos + done
      const g = Math.floor(at / this.grainBytes)
      const inOff = at % this.grainBytes
      const take = Math.min(this.grainBytes - inOff, len - done)
      const data = this.grain(g)
      if (data) data.copy(out, done, inOff, inOff + take)
      done += take
    }
    return out
  }

  close(): void {
    this.file.close()
  }
}
