import {crc32} from 'node:zlib'
import {corrupt} from './errors.js'
import type {BlockSource} from './source.js'

// GUID Partition Table (UEFI 2.x, chapter 5), written and read here with 512-byte sectors:
// protective MBR (LBA 0), primary header (LBA 1) and 128 entries (LBA 2-33), backup entries and
// backup header at the end of the disk. CRC32 is zlib's (IEEE), as the format wants.

export const SECTOR = 512
const ENTRY_SIZE = 128
const ENTRY_COUNT = 128
const ENTRIES_SECTORS = (ENTRY_SIZE * ENTRY_COUNT) / SECTOR
/** Linux filesystem data */
export const LINUX_FS_TYPE = '0FC63DAF-8483-4772-8E79-3D69D8477DE4'

export interface GptPartition {
  name: string
  /** GUID text, upper case */
  guid: string
  typeGuid: string
  /** first and last LBA, inclusive */
  firstLba: number
  lastLba: number
}

export interface GptLayout {
  diskGuid: string
  partitions: GptPartition[]
}

/** GUID text → the 16 bytes GPT stores (first three fields little-endian). */
export function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, '')
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${guid}`)
  const b = Buffer.from(hex, 'hex')
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)])
}

export function guidText(b: Buffer): string {
  const h = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8, 16)]).toString('hex').toUpperCase()
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

function entries(layout: GptLayout): Buffer {
  const buf = Buffer.alloc(ENTRY_SIZE * ENTRY_COUNT)
  layout.partitions.forEach((p, i) => {
    const e = buf.subarray(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE)
    guidBytes(p.typeGuid).copy(e, 0)
    guidBytes(p.guid).copy(e, 16)
    e.writeBigUInt64LE(BigInt(p.firstLba), 32)
    e.writeBigUInt64LE(BigInt(p.lastLba), 40)
    e.writeBigUInt64LE(0n, 48)
    e.write(p.name.slice(0, 36), 56, 72, 'utf16le')
  })
  return buf
}

function header(layout: GptLayout, myLba: number, altLba: number, entriesLba: number, totalSectors: number, entriesCrc: number): Buffer {
  const h = Buffer.alloc(SECTOR)
  h.write('EFI PART', 0, 'ascii')
  h.writeUInt32LE(0x00010000, 8)
  h.writeUInt32LE(92, 12)
  h.writeBigUInt64LE(BigInt(myLba), 24)
  h.writeBigUInt64LE(BigInt(altLba), 32)
  h.writeBigUInt64LE(BigInt(2 + ENTRIES_SECTORS), 40)
  h.writeBigUInt64LE(BigInt(totalSectors - 2 - ENTRIES_SECTORS), 48)
  guidBytes(layout.diskGuid).copy(h, 56)
  h.writeBigUInt64LE(BigInt(entriesLba), 72)
  h.writeUInt32LE(ENTRY_COUNT, 80)
  h.writeUInt32LE(ENTRY_SIZE, 84)
  h.writeUInt32LE(entriesCrc, 88)
  h.writeUInt32LE(crc32(h.subarray(0, 92)), 16)
  return h
}

/** The GPT of a disk: `head` goes at offset 0 (MBR, header, entries), `tail` at the disk's last 33 sectors. */
export function buildGpt(diskBytes: number, layout: GptLayout): {head: Buffer; tail: Buffer; tailOffset: number} {
  const total = diskBytes / SECTOR
  const last = total - 1
  const ents = entries(layout)
  const ecrc = crc32(ents)
  const mbr = Buffer.alloc(SECTOR)
  mbr.writeUInt8(0x00, 446)
  mbr.writeUInt8(0x00, 447)
  mbr.writeUInt8(0x02, 448) // CHS of LBA 1
  mbr.writeUInt8(0x00, 449)
  mbr.writeUInt8(0xEE, 450)
  mbr.writeUInt8(0xFF, 451)
  mbr.writeUInt8(0xFF, 452)
  mbr.writeUInt8(0xFF, 453)
  mbr.writeUInt32LE(1, 454)
  mbr.writeUInt32LE(Math.min(total - 1, 0xFFFFFFFF), 458)
  mbr.writeUInt16LE(0xAA55, 510)
  const head = Buffer.concat([mbr, header(layout, 1, last, 2, total, ecrc), ents])
  const tail = Buffer.concat([ents, header(layout, last, 1, last - ENTRIES_SECTORS, total, ecrc)])
  return {head, tail, tailOffset: (last - ENTRIES_SECTORS) * SECTOR}
}

export interface FoundPartition {
  name: string
  guid: string
  /** byte offset and length on the disk */
  offset: number
  size: number
}

/**
 * Reads and checks the primary GPT of a disk: protective MBR, signature, header and entries CRCs,
 * bounds (every partition inside the usable area, none overlapping). Anything else is refused.
 */
export function readGpt(src: BlockSource, what: string): {diskGuid: string; partitions: FoundPartition[]} {
  if (src.size < 34 * SECTOR * 2) throw corrupt(what, 'too small to hold a GPT disk')
  const mbr = src.read(0, SECTOR)
  const h = src.read(SECTOR, SECTOR)
  if (h.toString('ascii', 0, 8) !== 'EFI PART') {
    if (mbr.readUInt16LE(510) === 0xAA55) throw corrupt(what, 'the partition table is not GPT (an MBR/DOS table; xway disk images are GPT)')
    throw corrupt(what, 'no GPT partition table (signature "EFI PART" missing at LBA 1)')
  }
  if (mbr.readUInt16LE(510) !== 0xAA55 || ![mbr[450], mbr[466], mbr[482], mbr[498]].includes(0xEE)) throw corrupt(what, 'the protective MBR of the GPT is missing')
  const hsize = h.readUInt32LE(12)
  if (hsize < 92 || hsize > SECTOR) throw corrupt(what, `GPT header size ${hsize} is invalid`)
  const stored = h.readUInt32LE(16)
  const copy = Buffer.from(h.subarray(0, hsize))
  copy.writeUInt32LE(0, 16)
  if (crc32(copy) !== stored) throw corrupt(what, 'the GPT header checksum does not match')
  const totalSectors = Math.floor(src.size / SECTOR)
  const num = (off: number): number => {
    const v = h.readBigUInt64LE(off)
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(what, 'a GPT header field is out of range')
    return Number(v)
  }
  const firstUsable = num(40)
  const lastUsable = num(48)
  const entriesLba = num(72)
  const count = h.readUInt32LE(80)
  const esize = h.readUInt32LE(84)
  if (count < 1 || count > 1024 || esize < 128 || esize > 1024 || esize % 8 !== 0) throw corrupt(what, `GPT entry array (${count} × ${esize} bytes) is invalid`)
  if (lastUsable >= totalSectors || firstUsable > lastUsable) throw corrupt(what, 'the GPT usable area lies past the end of the disk')
  const ebytes = count * esize
  if (entriesLba < 2 || (entriesLba + Math.ceil(ebytes / SECTOR)) * SECTOR > src.size) throw corrupt(what, 'the GPT entries lie past the end of the disk')
  const ents = src.read(entriesLba * SECTOR, ebytes)
  if (crc32(ents) !== h.readUInt32LE(88)) throw corrupt(what, 'the GPT entries checksum does not match')
  const partitions: Array<FoundPartition & {first: number; last: number}> = []
  for (let i = 0; i < count; i++) {
    const e = ents.subarray(i * esize, i * esize + 128)
    if (e.subarray(0, 16).every((b) => b === 0)) continue
    const first = Number(e.readBigUInt64LE(32))
    const last = Number(e.readBigUInt64LE(40))
    const raw = e.toString('utf16le', 56, 128)
    const name = raw.includes('\0') ? raw.slice(0, raw.indexOf('\0')) : raw
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first > last) throw corrupt(what, `partition "${name}" has an invalid extent`)
    if (first < firstUsable || last > lastUsable || (last + 1) * SECTOR > src.size) throw corrupt(what, `partition "${name}" ends past the end of the disk (or outside its usable area)`)
    partitions.push({name, guid: guidText(e.subarray(16, 32)), offset: first * SECTOR, size: (last - first + 1) * SECTOR, first, last})
  }
  const sorted = [...partitions].sort((a, b) => a.first - b.first)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].first <= sorted[i - 1].last) throw corrupt(what, `partitions "${sorted[i - 1].name}" and "${sorted[i].name}" overlap`)
  }
  return {diskGuid: guidText(h.subarray(56, 72)), partitions: partitions.map(({name, guid, offset, size}) => ({name, guid, offset, size}))}
}
