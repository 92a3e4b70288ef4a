import {createReadStream} from 'node:fs'
import {mkdir, open, realpath, symlink} from 'node:fs/promises'
import {dirname, isAbsolute, join, posix, sep} from 'node:path'
import {Readable} from 'node:stream'
import {createGunzip, createGzip} from 'node:zlib'
import {BadInputError} from '../errors.js'

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

function header(name: string, mode: number, size: number, type: string, linkname = '', mtime = 0): Buffer {
  const h = Buffer.alloc(BLOCK)
  h.write(name, 0, 100, 'utf8')
  h.write(octal(mode & 0o7777, 8), 100, 8, 'ascii')
  h.write(octal(0, 8), 108, 8, 'ascii')
  h.write(octal(0, 8), 116, 8, 'ascii')
  h.write(octal(size, 12), 124, 12, 'ascii')
  h.write(octal(mtime, 12), 136, 12, 'ascii')
  h.write('        ', 148, 8, 'ascii')
  h.write(type, 156, 1, 'ascii')
  h.write(linkname, 157, 100, 'utf8')
  h.write('ustar\u000000', 257, 8, 'binary')
  h.write('root', 265, 32, 'ascii')
  h.write('root', 297, 32, 'ascii')
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += h[i]
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii')
  return h
}

function headersFor(entry: PackEntry, mtime: number): Buffer[] {
  const name = entry.kind === 'dir' ? `${entry.rel}/` : entry.rel
  const type = entry.kind === 'dir' ? '5' : entry.kind === 'symlink' ? '2' : '0'
  const size = entry.kind === 'file' ? entry.size : 0
  const link = entry.linkTarget ?? ''
  const out: Buffer[] = []
  const needsPax = Buffer.byteLength(name) > 99 || Buffer.byteLength(link) > 99 || size > 0o77777777777
  if (needsPax) {
    const records = [
      ...(Buffer.byteLength(name) > 99 ? [paxRecord('path', name)] : []),
      ...(Buffer.byteLength(link) > 99 ? [paxRecord('linkpath', link)] : []),
      ...(size > 0o77777777777 ? [paxRecord('size', String(size))] : []),
    ]
    const body = Buffer.concat(records)
    out.push(header('PaxHeader', 0o644, body.length, 'x', '', mtime), body, padding(body.length))
  }
  out.push(header(name.slice(0, 99), entry.mode, Math.min(size, 0o77777777777), type, link.slice(0, 99), mtime))
  return out
}

function padding(size: number): Buffer {
  const rest = size % BLOCK
  return rest === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rest)
}

/** A reproducible tar stream: fixed owners (root), fixed mtime, entries in the order given. */
export function tarStream(entries: PackEntry[], options: {mtime?: number} = {}): Readable {
  const mtime = options.mtime ?? 0
  async function* generate(): AsyncGenerator<Buffer> {
    for (const entry of entries) {
      for (const h of headersFor(entry, mtime)) if (h.length > 0) yield h
      if (entry.kind !== 'file') continue
      let written = 0
      if (entry.data) {
        yield entry.data
        written = entry.data.length
      } else if (entry.source) {
        for await (const chunk of createReadStream(entry.source, {highWaterMark: 1 << 20})) {
          const buf = chunk as Buffer
          const take = Math.min(buf.length, entry.size - written)
          if (take > 0) yield take === buf.length ? buf : buf.subarray(0, take)
          written += take
          if (written >= entry.size) break
        }
      }
      if (written !== entry.size) throw new Error(`${entry.rel} changed size while being packed`)
      const pad = padding(entry.size)
      if (pad.length > 0) yield pad
    }
    yield ZERO
    yield ZERO
  }
  return Readable.from(generate(), {objectMode: false, highWaterMark: 1 << 20})
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

function bad(message: string): BadInputError {
  return new BadInputError(message, {actions: ['Use an archive made by `xway image pack` (or another unit archive without such entries).']})
}

/** A relative, normalised path that stays inside the destination, or a refusal. */
export function safeRelative(name: string): string {
  const cleaned = name.replace(/\/+$/, '')
  if (cleaned === '' || cleaned === '.') return '.'
  if (cleaned.startsWith('/') || /^[A-Za-z]:[\\/]/.test(cleaned)) throw bad(`The archive holds an absolute path (${name}); refused.`)
  const parts = cleaned.split('/')
  if (parts.includes('..')) throw bad(`The archive holds a path with ".." (${name}); refused.`)
  if (cleaned.includes('\0')) throw bad('The archive holds a path with a NUL byte; refused.')
  return posix.normalize(cleaned)
}

function parseOctal(buf: Buffer, off: number, len: number): number {
  if (buf[off] & 0x80) {
    // base-256 (GNU) for large values
    let value = 0
    for (let i = off + 1; i < off + len; i++) value = value * 256 + buf[i]
    return value
  }
  const text = buf.toString('ascii', off, off + len).replace(/\0.*$/s, '').trim()
  return text === '' ? 0 : Number.parseInt(text, 8)
}

function cString(buf: Buffer, off: number, len: number): string {
  const slice = buf.subarray(off, off + len)
  const end = slice.indexOf(0)
  return slice.toString('utf8', 0, end === -1 ? len : end)
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 0
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos)
    if (space === -1) break
    const len = Number.parseInt(body.toString('ascii', pos, space), 10)
    if (!Number.isFinite(len) || len <= 0) throw bad('The archive has a malformed extended header.')
    const record = body.toString('utf8', space + 1, pos + len - 1)
    const eq = record.indexOf('=')
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1)
    pos += len
  }
  return out
}

/** True when `target`, a link placed at `rel`, resolves inside the destination root. */
function linkStaysInside(rel: string, target: string): boolean {
  if (isAbsolute(target)) return false
  const resolved = posix.normalize(posix.join(posix.dirname(rel), target))
  return !(resolved === '..' || resolved.startsWith('../'))
}

/**
 * Extracts a .tar.gz stream into dest (which must exist), refusing absolute paths, "..",
 * links that leave dest, hard links and devices. Files are written as they stream: memory stays
 * flat whatever the archive's size.
 */
export async function extractTarGz(input: Readable, dest: string, options: ExtractOptions = {}): Promise<ExtractedEntry[]> {
  const gunzip = createGunzip({chunkSize: 1 << 18})
  input.on('error', (e) => gunzip.destroy(e))
  const stream = input.pipe(gunzip)
  return extractTar(stream, dest, options)
}

export interface ExtractOptions {
  filter?: (rel: string) => boolean
  /** refuse archives whose files add up to more than this (an archive bomb) */
  maxBytes?: number
  /** refuse archives with more entries than this */
  maxEntries?: number
}

export async function extractTar(stream: AsyncIterable<Buffer>, dest: string, options: ExtractOptions = {}): Promise<ExtractedEntry[]> {
  const root = await realpath(dest)
  let declaredBytes = 0
  const entries: ExtractedEntry[] = []
  let buffered: Buffer = Buffer.alloc(0)
  let pax: Record<string, string> = {}
  let longName: string | null = null
  let longLink: string | null = null
  let zeroBlocks = 0
  let ended = false

  type Pending = {kind: 'skip' | 'file' | 'pax' | 'longname' | 'longlink'; remaining: number; pad: number; fh?: Awaited<ReturnType<typeof open>>; body?: Buffer[]}
  let pending: Pending | null = null

  const finishPending = async (p: Pending): Promise<void> => {
    if (p.fh) await p.fh.close()
    if (p.kind === 'pax') pax = {...pax, ...parsePax(Buffer.concat(p.body!))}
    if (p.kind === 'longname') longName = cString(Buffer.concat(p.body!), 0, Number.MAX_SAFE_INTEGER)
    if (p.kind === 'longlink') longLink = cString(Buffer.concat(p.body!), 0, Number.MAX_SAFE_INTEGER)
  }

  const ensureInside = async (absDir: string): Promise<void> => {
    const real = await realpath(absDir)
    if (real !== root && !real.startsWith(root + sep)) throw bad('The archive writes through a link that leaves the unit; refused.')
  }

  const startEntry = async (h: Buffer): Promise<void> => {
    let sum = 0
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]
    if (sum !== parseOctal(h, 148, 8)) throw bad('The archive is corrupt (header checksum mismatch).')
    const type = String.fromCharCode(h[156] || 48)
    let size = parseOctal(h, 124, 12)
    const prefix = cString(h, 345, 155)
    let name = longName ?? pax.path ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100))
    const link = longLink ?? pax.linkpath ?? cString(h, 157, 100)
    if (pax.size) size = Number(pax.size)
    const pad = (BLOCK - (size % BLOCK)) % BLOCK
    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (size > 1 << 20) throw bad('The archive has an oversized extended header.')
      pending = {kind: type === 'x' ? 'pax' : type === 'g' ? 'skip' : type === 'L' ? 'longname' : 'longlink', remaining: size, pad, body: []}
      return
    }
    pax = {}
    longName = null
    longLink = null
    if (options.maxEntries !== undefined && entries.length >= options.maxEntries) throw bad(`The archive holds more than ${options.maxEntries} entries; refused.`)
    name = name.replace(/^\.\//, '')
    const rel = safeRelative(name)
    const mode = parseOctal(h, 100, 8) & 0o7777
    if (type === '1') throw bad(`The archive holds a hard link (${name}); refused.`)
    if (type === '3' || type === '4' || type === '6') throw bad(`The archive holds a device or FIFO (${name}); refused.`)
    if (options.filter && rel !== '.' && !options.filter(rel)) {
      pending = {kind: 'skip', remaining: type === '0' || type === '\0' || type === '7' ? size : 0, pad: type === '0' || type === '7' ? pad : 0}
      return
    }
    const abs = rel === '.' ? root : join(root, rel)
    if (type === '5') {
      if (rel !== '.') {
        await ensureInside(await nearestExisting(dirname(abs), root))
        await mkdir(abs, {recursive: true, mode: 0o755})
        await ensureInside(abs)
      }
      entries.push({rel, kind: 'dir', mode, size: 0})
      return
    }
    if (type === '2') {
      if (!linkStaysInside(rel, link)) throw bad(`The archive holds a link leaving the unit (${name} -> ${link}); refused.`)
      await mkdir(dirname(abs), {recursive: true})
      await ensureInside(dirname(abs))
      await symlink(link, abs)
      entries.push({rel, kind: 'symlink', mode, size: 0})
      return
    }
    if (type !== '0' && type !== '7') throw bad(`The archive holds an entry of unsupported type "${type}" (${name}); refused.`)
    declaredBytes += size
    if (options.maxBytes !== undefined && declaredBytes > options.maxBytes) throw bad(`The archive unpacks to more than ${options.maxBytes} bytes; refused.`)
    await mkdir(dirname(abs), {recursive: true})
    await ensureInside(dirname(abs))
    const fh = await open(abs, 'wx', mode & 0o777)
    entries.push({rel, kind: 'file', mode, size})
    pending = {kind: 'file', remaining: size, pad, fh}
  }

  for await (const chunk of stream) {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    let pos = 0
    while (!ended) {
      if (pending) {
        const p: Pending = pending
        if (p.remaining > 0) {
          const take = Math.min(p.remaining, buffered.length - pos)
          if (take === 0) break
          const part = buffered.subarray(pos, pos + take)
          if (p.fh) await p.fh.write(part)
          else if (p.body) p.body.push(Buffer.from(part))
          p.remaining -= take
          pos += take
          if (p.remaining > 0) break
        }
        const skip = Math.min(p.pad, buffered.length - pos)
        p.pad -= skip
        pos += skip
        if (p.pad > 0) break
        pending = null
        await finishPending(p)
        continue
      }
      if (buffered.length - pos < BLOCK) break
      const h = buffered.subarray(pos, pos + BLOCK)
      pos += BLOCK
      if (h.equals(ZERO)) {
        zeroBlocks++
        if (zeroBlocks >= 2) ended = true
        continue
      }
      zeroBlocks = 0
      await startEntry(Buffer.from(h))
    }
    buffered = buffered.subarray(pos)
  }
  if (pending) {
    await (pending as Pending).fh?.close()
    throw bad('The archive is truncated.')
  }
  if (!ended) throw bad('The archive is truncated (no end-of-archive marker).')
  return entries
}

async function nearestExisting(path: string, root: string): Promise<string> {
  let current = path
  for (let i = 0; i < 256; i++) {
    try {
      await realpath(current)
      return current
    } catch {
      if (current === root || current === dirname(current)) return root
      current = dirname(current)
    }
  }
  return root
}
