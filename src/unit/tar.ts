import {isUtf8} from 'node:buffer'
import {chmodSync, closeSync, constants, createReadStream, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, readSync, symlinkSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {createGunzip, createGzip, type ZlibOptions} from 'node:zlib'
import {BadInputError, FailedError} from '../errors.js'
import {entryRefusal, type EntryType, UnitTreePolicy} from './entry-policy.js'

/** Entries as the tar writer takes them: relative POSIX paths under root. */
export interface PackEntry {
  rel: string
  kind: 'file' | 'dir' | 'symlink'
  mode: number
  size: number
  /** absolute path to read a file's content from */
  source?: string
  /** content given inline (small files) */
  data?: Buffer
  linkTarget?: string
}

const BLOCK = 512
const ZERO = Buffer.alloc(BLOCK)

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`
  let len = Buffer.byteLength(body) + 1
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body)
  return Buffer.from(`${len}${body}`)
}

/** Writes a ustar header at h[at..at+512] (which must be zeros). */
function writeHeader(h: Buffer, at: number, name: string, mode: number, size: number, type: string, linkname = '', mtime = 0): void {
  h.write(name, at, 100, 'utf8')
  h.write(octal(mode & 0o7777, 8), at + 100, 8, 'ascii')
  h.write('0000000\0', at + 108, 8, 'ascii')
  h.write('0000000\0', at + 116, 8, 'ascii')
  h.write(octal(size, 12), at + 124, 12, 'ascii')
  h.write(octal(mtime, 12), at + 136, 12, 'ascii')
  h.write('        ', at + 148, 8, 'ascii')
  h.write(type, at + 156, 1, 'ascii')
  if (linkname) h.write(linkname, at + 157, 100, 'utf8')
  h.write('ustar\u000000', at + 257, 8, 'binary')
  h.write('root', at + 265, 32, 'ascii')
  h.write('root', at + 297, 32, 'ascii')
  let sum = 0
  for (let i = at; i < at + BLOCK; i++) sum += h[i]
  h.write(octal(sum, 7) + ' ', at + 148, 8, 'ascii')
}

function header(name: string, mode: number, size: number, type: string, linkname = '', mtime = 0): Buffer {
  const h = Buffer.alloc(BLOCK)
  writeHeader(h, 0, name, mode, size, type, linkname, mtime)
  return h
}

/** The header of an entry, into the batch; a pax extended header first where ustar fields are too small. */
function addHeaders(batch: Batch, entry: PackEntry, mtime: number): void {
  const name = entry.kind === 'dir' ? `${entry.rel}/` : entry.rel
  const type = entry.kind === 'dir' ? '5' : entry.kind === 'symlink' ? '2' : '0'
  const size = entry.kind === 'file' ? entry.size : 0
  const link = entry.linkTarget ?? ''
  const longName = name.length > 33 && Buffer.byteLength(name) > 99
  const longLink = link.length > 33 && Buffer.byteLength(link) > 99
  if (longName || longLink || size > 0o77777777777) {
    const records = [
      ...(longName ? [paxRecord('path', name)] : []),
      ...(longLink ? [paxRecord('linkpath', link)] : []),
      ...(size > 0o77777777777 ? [paxRecord('size', String(size))] : []),
    ]
    const body = Buffer.concat(records)
    batch.add(header('PaxHeader', 0o644, body.length, 'x', '', mtime))
    batch.add(body)
    batch.add(padding(body.length))
  }
  writeHeader(batch.zeros(BLOCK), batch.used - BLOCK, name.slice(0, 99), entry.mode, Math.min(size, 0o77777777777), type, link.slice(0, 99), mtime)
}

function padding(size: number): Buffer {
  return ZERO.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK)
}

/** Files up to this size are read in one call, straight into the batch beside their headers. */
const SMALL_FILE = 256 * 1024
/** Bytes handed to gzip at a time: one zlib call per batch, never one per 512-byte header. */
const BATCH = 1 << 20

/**
 * The bytes on their way to gzip, built in place: headers and small files are written into one
 * buffer (no Buffer per entry), handed on whole when the next entry would not fit.
 */
class Batch {
  buf = Buffer.allocUnsafe(BATCH)
  used = 0

  /** Makes room for n more bytes; returns what must be handed on first, if anything. */
  reserve(n: number): Buffer | null {
    if (this.used + n <= this.buf.length) return null
    const full = this.take()
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n)
    return full
  }

  /** n zero bytes appended (room already reserved or grown); the buffer they are in */
  zeros(n: number): Buffer {
    this.grow(n)
    this.buf.fill(0, this.used, this.used + n)
    this.used += n
    return this.buf
  }

  add(data: Buffer): void {
    this.grow(data.length)
    data.copy(this.buf, this.used)
    this.used += data.length
  }

  /** what was built, handed on; the next bytes go into a new buffer (gzip may still hold this one) */
  take(): Buffer | null {
    if (this.used === 0) return null
    const full = this.buf.subarray(0, this.used)
    this.buf = Buffer.allocUnsafe(BATCH)
    this.used = 0
    return full
  }

  /** room for n more bytes in this buffer, growing it if need be */
  grow(n: number): void {
    if (this.used + n <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + n))
    this.buf.copy(bigger, 0, 0, this.used)
    this.buf = bigger
  }
}

function changed(entry: PackEntry, what: string): FailedError {
  return new FailedError(`${entry.rel} ${what} while being packed.`, {actions: ['Pack again when nothing else is changing the unit.']})
}

/** Opens a file to pack without following a link. */
function openSource(entry: PackEntry): number {
  try {
    // O_NONBLOCK: a FIFO put in the file's place must not hang the pack (a regular file ignores it)
    return openSync(entry.source!, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (error) {
    throw (error as NodeJS.ErrnoException).code === 'ELOOP' ? changed(entry, 'became a link') : changed(entry, 'disappeared')
  }
}

/** The same, checking it is still a regular file of the size that was listed. */
function openListed(entry: PackEntry): number {
  const fd = openSource(entry)
  const stat = fstatSync(fd)
  if (!stat.isFile() || stat.size !== entry.size) {
    closeSync(fd)
    throw changed(entry, 'changed')
  }
  return fd
}

/**
 * Reads a small file into the batch (room for size + 1 bytes reserved): one pread in the usual
 * case, whose one byte more tells a file that grew since it was listed.
 */
function readSmallInto(batch: Batch, entry: PackEntry): void {
  batch.grow(entry.size + 1)
  const fd = openSource(entry)
  try {
    let got = 0
    for (;;) {
      let n: number
      try {
        n = readSync(fd, batch.buf, batch.used + got, entry.size + 1 - got, got)
      } catch {
        throw changed(entry, 'changed') // a folder or FIFO put in its place
      }
      if (n === 0) break
      got += n
      if (got > entry.size) throw changed(entry, 'changed')
    }
    if (got !== entry.size) throw changed(entry, 'changed')
    batch.used += got
  } finally {
    closeSync(fd)
  }
}

/** A reproducible tar stream: fixed owners (root), fixed mtime, entries in the order given. */
export function tarStream(entries: PackEntry[], options: {mtime?: number} = {}): Readable {
  const mtime = options.mtime ?? 0
  async function* generate(): AsyncGenerator<Buffer> {
    const batch = new Batch()
    for (const entry of entries) {
      const small = entry.kind !== 'file' || entry.data !== undefined || entry.size <= SMALL_FILE
      // headers (a pax one at most 3 blocks beyond the usual) and, for a small file, its content
      const full = batch.reserve(4 * BLOCK + (entry.kind === 'file' && small ? entry.size + BLOCK + 1 : 0))
      if (full) yield full
      addHeaders(batch, entry, mtime)
      if (entry.kind !== 'file') continue
      if (entry.data) {
        if (entry.data.length !== entry.size) throw changed(entry, 'changed size')
        batch.add(entry.data)
      } else if (entry.source && small) {
        readSmallInto(batch, entry)
      } else if (entry.source) {
        const before = batch.take()
        if (before) yield before
        let written = 0
        for await (const chunk of createReadStream('', {fd: openListed(entry), start: 0, end: entry.size - 1, highWaterMark: BATCH})) {
          written += (chunk as Buffer).length
          yield chunk as Buffer
        }
        if (written !== entry.size) throw changed(entry, 'shrank')
      } else if (entry.size !== 0) {
        throw changed(entry, 'lost its content')
      }
      batch.add(padding(entry.size))
    }
    batch.zeros(2 * BLOCK)
    yield batch.take()!
  }
  return Readable.from(generate(), {objectMode: false, highWaterMark: BATCH})
}

export function tarGzStream(entries: PackEntry[], options: {mtime?: number; level?: number} = {}): Readable {
  const gzip = createGzip({level: options.level ?? 6, chunkSize: 1 << 18})
  const tar = tarStream(entries, options)
  tar.on('error', (e) => gzip.destroy(e))
  return tar.pipe(gzip)
}

export interface ExtractedEntry {
  rel: string
  kind: 'file' | 'dir' | 'symlink'
  mode: number
  size: number
}

export interface ExtractOptions {
  filter?: (rel: string) => boolean
  /** refuse archives whose files add up to more than this (an archive bomb) */
  maxBytes?: number
  /** refuse archives with more entries than this */
  maxEntries?: number
  /** stops the extraction between two chunks; the signal's reason is thrown */
  signal?: AbortSignal
}

const ARCHIVE_ACTIONS = ['Use an archive made by `xway image pack` (or another unit archive without such entries).']

function bad(message: string): BadInputError {
  return new BadInputError(message, {actions: ARCHIVE_ACTIONS})
}

function malformed(what: string): BadInputError {
  return bad(`The archive is malformed: ${what}; refused.`)
}

/** Extended headers and GNU long names are small: more is an attempt to exhaust memory. */
export const MAX_META_BYTES = 1 << 20
/** Longest entry path and name part accepted (Linux PATH_MAX and NAME_MAX). */
const MAX_PATH_BYTES = 4095
const MAX_NAME_BYTES = 255

/** A relative, normalised path that stays inside the destination, or a refusal. */
export function safeRelative(name: string): string {
  if (name.includes('\0')) throw bad(entryRefusal(name.replaceAll('\0', '\\0'), 'has a name holding a NUL byte'))
  const cleaned = name.replace(/\/+$/, '')
  if (cleaned === '' || cleaned === '.') return '.'
  if (cleaned.startsWith('/') || /^[A-Za-z]:[\\/]/.test(cleaned)) throw bad(entryRefusal(name, 'has an absolute path'))
  const parts = cleaned.split('/')
  if (parts.includes('..')) throw bad(entryRefusal(name, 'has a ".." in its path'))
  const rel = parts.filter((p) => p !== '' && p !== '.').join('/')
  if (rel === '') return '.'
  if (Buffer.byteLength(rel) > MAX_PATH_BYTES || parts.some((p) => Buffer.byteLength(p) > MAX_NAME_BYTES)) throw malformed(`an entry's path is longer than ${MAX_PATH_BYTES} bytes or has a name longer than ${MAX_NAME_BYTES} (${rel.slice(0, 80)}…)`)
  return rel
}

/** A numeric header field: octal digits (space or NUL terminated), or GNU base-256. */
function headerNumber(h: Buffer, off: number, len: number, field: string): number {
  if (h[off] === 0x80) {
    let value = 0
    for (let i = off + 1; i < off + len; i++) value = value * 256 + h[i]
    if (!Number.isSafeInteger(value)) throw malformed(`the ${field} field is out of range`)
    return value
  }
  if (h[off] & 0x80) throw malformed(`the ${field} field is negative`)
  let i = off
  const end = off + len
  while (i < end && h[i] === 0x20) i++
  let value = 0
  let digits = 0
  for (; i < end && h[i] >= 0x30 && h[i] <= 0x37; i++, digits++) value = value * 8 + (h[i] - 0x30)
  for (; i < end; i++) if (h[i] !== 0 && h[i] !== 0x20) throw malformed(`the ${field} field is not an octal number`)
  if (!Number.isSafeInteger(value)) throw malformed(`the ${field} field is out of range`)
  return digits === 0 ? 0 : value
}

function verifyChecksum(h: Buffer, offset: number): void {
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  const stored = headerNumber(h, 148, 8, 'checksum')
  if (stored !== unsigned && stored !== signed) throw malformed(`header checksum mismatch at byte ${offset}`)
}

/** A NUL-terminated UTF-8 string of a header or a GNU long-name body. */
function headerString(buf: Buffer, off: number, len: number, what: string): string {
  const slice = buf.subarray(off, off + len)
  const end = slice.indexOf(0)
  const bytes = end === -1 ? slice : slice.subarray(0, end)
  if (!isUtf8(bytes)) throw malformed(`${what} is not valid UTF-8`)
  return bytes.toString('utf8')
}

/** POSIX extended header records: "LEN key=value\n", LEN counting the whole record. */
function parsePax(body: Buffer, into: Record<string, string>): void {
  let pos = 0
  while (pos < body.length) {
    if (body[pos] === 0) break
    const space = body.indexOf(0x20, pos)
    const digits = space === -1 ? '' : body.toString('latin1', pos, space)
    if (!/^[1-9]\d{0,7}$/.test(digits)) throw malformed('an extended header record has no valid length')
    const len = Number(digits)
    const end = pos + len
    if (end > body.length || end <= space + 1 || body[end - 1] !== 0x0a) throw malformed('an extended header record overruns its header')
    const record = body.subarray(space + 1, end - 1)
    const eq = record.indexOf(0x3d)
    if (eq <= 0 || !isUtf8(record)) throw malformed('an extended header record is not key=value in UTF-8')
    into[record.toString('utf8', 0, eq)] = record.toString('utf8', eq + 1)
    pos = end
  }
}

type Pending = {kind: 'file'; fd: number | null} | {kind: 'meta'; type: number; parts: Buffer[]} | {kind: 'skip'}

const UMASK = process.umask()
const FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW
const T = {file: 0x30, nul: 0x00, hard: 0x31, sym: 0x32, chr: 0x33, blk: 0x34, dir: 0x35, fifo: 0x36, contiguous: 0x37, pax: 0x78, paxGlobal: 0x67, longName: 0x4c, longLink: 0x4b}

function typeOf(flag: number, name: string): EntryType {
  switch (flag) {
    case T.file: case T.nul: case T.contiguous: return name.endsWith('/') ? 'dir' : 'file'
    case T.dir: return 'dir'
    case T.sym: return 'symlink'
    case T.hard: return 'hardlink'
    case T.chr: case T.blk: return 'device'
    case T.fifo: return 'fifo'
    default: return 'unsupported'
  }
}

/** What a failed filesystem call means, in words (no errno codes for users). */
function fsFailure(rel: string, error: unknown): FailedError {
  const code = (error as NodeJS.ErrnoException).code
  const why = code === 'ENOSPC' || code === 'EDQUOT' ? 'no space is left on the device'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'permission was denied'
    : code === 'EEXIST' ? 'something of that name already exists in the destination'
    : code === 'ENAMETOOLONG' ? 'its path is too long for this filesystem'
    : (error as Error).message
  return new FailedError(`Could not write ${rel} while extracting: ${why}.`, {actions: ['Free space or fix the destination folder, then run again.'], cause: error})
}

/**
 * A synchronous tar reader writing into dest as chunks arrive. It trusts nothing in the archive:
 * every header is checked (checksum, numbers, sizes, UTF-8 names), every entry admitted by the unit
 * entry policy, and it never asks the filesystem where a path leads: the policy's tree says, since
 * dest holds only what this extraction made (plus, at most, real folders found there at the start).
 * Files are opened O_EXCL|O_NOFOLLOW all the same. Small files cost one open, write and close.
 */
class Extractor {
  readonly entries: ExtractedEntry[] = []
  private readonly policy = new UnitTreePolicy(bad)
  /** folders and the modes they get once every entry is in (made 0700 so that they can be filled) */
  private readonly dirModes: Array<[string, number]> = []
  private carry: Buffer | null = null
  private pending: Pending | null = null
  private remaining = 0
  private pad = 0
  private offset = 0
  private zeroBlocks = 0
  private ended = false
  private declaredBytes = 0
  private pax: Record<string, string> = {}
  private longName: string | null = null
  private longLink: string | null = null

  constructor(private readonly root: string, private readonly options: ExtractOptions) {}

  write(chunk: Buffer): void {
    let pos = 0
    if (this.carry) {
      const need = BLOCK - this.carry.length
      const part = chunk.subarray(0, need)
      this.carry = Buffer.concat([this.carry, part])
      pos = part.length
      if (this.carry.length < BLOCK) return
      const h = this.carry
      this.carry = null
      this.header(h)
    }
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - pos)
        this.data(chunk.subarray(pos, pos + take))
        pos += take
        this.remaining -= take
        if (this.remaining === 0) this.endData()
        continue
      }
      if (this.pad > 0) {
        const skip = Math.min(this.pad, chunk.length - pos)
        pos += skip
        this.pad -= skip
        continue
      }
      if (this.ended) return
      if (chunk.length - pos < BLOCK) {
        this.carry = Buffer.from(chunk.subarray(pos))
        return
      }
      this.header(chunk.subarray(pos, pos + BLOCK))
      pos += BLOCK
    }
  }

  /** After the last chunk: the archive must be complete, then links are checked in the finished tree. */
  end(): void {
    if (!this.ended) throw bad(this.remaining > 0 || this.pending ? 'The archive is truncated (it ends inside an entry).' : 'The archive is truncated (no end-of-archive marker).')
    this.policy.finish()
    for (let i = this.dirModes.length - 1; i >= 0; i--) {
      const [rel, mode] = this.dirModes[i]
      try {
        chmodSync(this.path(rel), mode)
      } catch (error) {
        throw fsFailure(rel, error)
      }
    }
  }

  /** Closes what an interrupted extraction left open. */
  close(): void {
    if (this.pending?.kind === 'file' && this.pending.fd !== null) closeSync(this.pending.fd)
    this.pending = null
  }

  private header(h: Buffer): void {
    const at = this.offset
    this.offset += BLOCK
    if (h[148] === 0 && h.equals(ZERO)) {
      if (++this.zeroBlocks >= 2) this.ended = true
      return
    }
    this.zeroBlocks = 0
    verifyChecksum(h, at)
    const flag = h[156]
    const size = headerNumber(h, 124, 12, 'size')
    if (flag === T.pax || flag === T.paxGlobal || flag === T.longName || flag === T.longLink) {
      if (size > MAX_META_BYTES) throw malformed(`an extended header of ${size} bytes (more than ${MAX_META_BYTES})`)
      this.expect(size, {kind: 'meta', type: flag, parts: []})
      return
    }
    const pax = this.pax
    this.pax = {}
    const ustar = h.toString('latin1', 257, 263) === 'ustar\0'
    const prefix = ustar ? headerString(h, 345, 155, 'an entry name') : ''
    let name = this.longName ?? pax.path ?? (prefix ? `${prefix}/${headerString(h, 0, 100, 'an entry name')}` : headerString(h, 0, 100, 'an entry name'))
    const link = this.longLink ?? pax.linkpath ?? headerString(h, 157, 100, 'a link target')
    this.longName = null
    this.longLink = null
    let length = size
    if (pax.size !== undefined) {
      if (!/^\d{1,16}$/.test(pax.size) || !Number.isSafeInteger(Number(pax.size))) throw malformed('an extended header has an invalid size')
      length = Number(pax.size)
    }
    if (this.options.maxEntries !== undefined && this.entries.length >= this.options.maxEntries) throw bad(`The archive holds more than ${this.options.maxEntries} entries; refused.`)
    while (name.startsWith('./')) name = name.slice(2)
    const type = typeOf(flag, name)
    const rel = safeRelative(name)
    if (link.includes('\0')) throw malformed(`the link target of ${rel} holds a NUL byte`)
    const mode = headerNumber(h, 100, 8, 'mode') & 0o7777
    if (type !== 'file' && type !== 'unsupported' && length !== 0) throw malformed(`${rel} is not a file but has ${length} bytes of content`)
    if (this.options.filter && rel !== '.' && !this.options.filter(rel)) {
      // refused kinds stay refused even where the caller does not want the entry
      if (type !== 'file' && type !== 'dir' && type !== 'symlink') this.policy.admit(rel, type, link, `tar type "${String.fromCharCode(flag)}"`)
      this.expect(type === 'file' ? length : 0, {kind: 'skip'})
      return
    }
    if (rel === '.') {
      if (type !== 'dir') throw bad(entryRefusal('.', 'would replace the root folder'))
      this.entries.push({rel, kind: 'dir', mode, size: 0})
      return
    }
    const missing = this.policy.admit(rel, type, link, `tar type "${String.fromCharCode(flag)}"`)
    for (const dir of missing) this.mkdir(dir, 0o755)
    if (type === 'dir') {
      this.mkdir(rel, mode & 0o777)
      this.entries.push({rel, kind: 'dir', mode, size: 0})
      return
    }
    if (type === 'symlink') {
      try {
        symlinkSync(link, this.path(rel))
      } catch (error) {
        throw fsFailure(rel, error)
      }
      this.entries.push({rel, kind: 'symlink', mode, size: 0})
      return
    }
    this.declaredBytes += length
    if (this.options.maxBytes !== undefined && this.declaredBytes > this.options.maxBytes) throw bad(`The archive unpacks to more than ${this.options.maxBytes} bytes; refused.`)
    let fd: number
    try {
      fd = openSync(this.path(rel), FILE_FLAGS, mode & 0o777)
      if ((mode & 0o777 & UMASK) !== 0) fchmodSync(fd, mode & 0o777)
    } catch (error) {
      throw fsFailure(rel, error)
    }
    this.entries.push({rel, kind: 'file', mode, size: length})
    this.expect(length, {kind: 'file', fd})
  }

  /** rel is already normalised (safeRelative): no path.join per entry */
  private path(rel: string): string {
    return `${this.root}/${rel}`
  }

  private expect(size: number, pending: Pending): void {
    this.pending = pending
    this.remaining = size
    this.offset += size
    this.pad = (BLOCK - (size % BLOCK)) % BLOCK
    this.offset += this.pad
    if (size === 0) this.endData()
  }

  private mkdir(rel: string, mode: number): void {
    const abs = this.path(rel)
    try {
      mkdirSync(abs, 0o700)
    } catch (error) {
      // a real folder already in dest (a caller's scratch folder) is used as it is; nothing else
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !lstatSync(abs).isDirectory()) throw fsFailure(rel, error)
    }
    this.dirModes.push([rel, mode])
  }

  private data(part: Buffer): void {
    const p = this.pending!
    if (p.kind === 'file') {
      let off = 0
      while (off < part.length) {
        try {
          off += writeSync(p.fd!, part, off, part.length - off)
        } catch (error) {
          throw fsFailure(this.entries[this.entries.length - 1].rel, error)
        }
      }
    } else if (p.kind === 'meta') {
      p.parts.push(Buffer.from(part))
    }
  }

  private endData(): void {
    const p = this.pending!
    this.pending = null
    if (p.kind === 'file') {
      const fd = p.fd!
      p.fd = null
      closeSync(fd)
    } else if (p.kind === 'meta') {
      const body = Buffer.concat(p.parts)
      if (p.type === T.pax) parsePax(body, this.pax)
      else if (p.type === T.paxGlobal) parsePax(body, {})
      else if (p.type === T.longName) this.longName = headerString(body, 0, body.length, 'a long entry name')
      else this.longLink = headerString(body, 0, body.length, 'a long link target')
    }
  }
}

/**
 * Extracts a .tar.gz stream into dest (which must exist), refusing what the unit entry policy
 * refuses (absolute paths, "..", hard links, devices, FIFOs, links leaving dest, anything under a
 * link) and malformed or oversized headers. Files are written as they stream: memory stays flat
 * whatever the archive's size. On a refusal dest holds a partial tree for the caller to remove.
 */
export async function extractTarGz(input: Readable, dest: string, options: ExtractOptions = {}): Promise<ExtractedEntry[]> {
  // a few chunks of room, so that gunzip (in the thread pool) keeps working while files are written
  const gunzip = createGunzip({chunkSize: 1 << 18, readableHighWaterMark: 4 << 20} as ZlibOptions)
  input.on('error', (e) => gunzip.destroy(e))
  const stream = input.pipe(gunzip)
  try {
    return await extractTar(stream, dest, options)
  } finally {
    input.destroy()
    gunzip.destroy()
  }
}

export async function extractTar(stream: AsyncIterable<Buffer>, dest: string, options: ExtractOptions = {}): Promise<ExtractedEntry[]> {
  const extractor = new Extractor(dest, options)
  try {
    options.signal?.throwIfAborted()
    for await (const chunk of stream) {
      options.signal?.throwIfAborted()
      extractor.write(chunk)
    }
    options.signal?.throwIfAborted()
    extractor.end()
  } finally {
    extractor.close()
  }
  return extractor.entries
}
