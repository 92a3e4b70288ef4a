import {gzipSync} from 'node:zlib'

// Raw tar archives byte by byte, so that tests can craft what no honest packer writes.

export interface RawEntry {
  name: string
  /** tar type flag: '0' file, '2' symlink, '5' folder, '1' hard link, '3'/'4' devices, '6' FIFO, 'x' pax… */
  type: string
  data?: string | Buffer
  link?: string
  mode?: number
  /** overrides the size field (as written, before the checksum) */
  sizeField?: Buffer
}

/** A ustar header with a correct checksum (unless the caller spoils it afterwards). */
export function rawHeader(e: RawEntry, size: number): Buffer {
  const h = Buffer.alloc(512)
  h.write(e.name, 0, 100)
  h.write(`${(e.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  if (e.sizeField) e.sizeField.copy(h, 124, 0, 12)
  else h.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
  h.write('00000000000\0', 136)
  h.write('        ', 148)
  h.write(e.type, 156)
  h.write(e.link ?? '', 157, 100)
  h.write('ustar\u000000', 257, 'binary')
  setChecksum(h)
  return h
}

export function setChecksum(h: Buffer): void {
  h.write('        ', 148)
  let sum = 0
  for (const b of h) sum += b
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
}

/** A pax extended header body holding the given records, lengths computed. */
export function paxBody(records: Record<string, string>): Buffer {
  const parts = Object.entries(records).map(([k, v]) => {
    const body = ` ${k}=${v}\n`
    let len = Buffer.byteLength(body) + 1
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body)
    return Buffer.from(`${len}${body}`)
  })
  return Buffer.concat(parts)
}

/** The uncompressed archive: each entry, its data padded to 512, then the end-of-archive marker. */
export function rawTar(entries: RawEntry[], options: {end?: boolean} = {}): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : e.data ?? Buffer.alloc(0)
    parts.push(rawHeader(e, data.length))
    if (data.length > 0) parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

export function rawTarGz(entries: RawEntry[], options: {end?: boolean} = {}): Buffer {
  return gzipSync(rawTar(entries, options))
}

/** The least an archive needs to be taken for a unit. */
export const UNIT_BASE: RawEntry[] = [
  {name: 'info/', type: '5', mode: 0o755},
  {name: 'info/product_info.xml', type: '0', data: '<product_info><brand>Expressway</brand></product_info>'},
]
