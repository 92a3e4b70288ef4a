import {createHash} from 'node:crypto'
import {closeSync, constants, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, writeSync, type Stats} from 'node:fs'
import {join} from 'node:path'

export function fsyncPath(path: string): void {
  let fd: number | undefined
  try {
    fd = openSync(path, constants.O_RDONLY)
    fsyncSync(fd)
  } catch {
    // some filesystems refuse fsync on directories; durability then rests on the file fsyncs
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Writes a file and fsyncs it before returning; the mode is set at creation. */
export function writeFileDurable(path: string, data: Buffer | string, mode = 0o644): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode)
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    let off = 0
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

export function exists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

export function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}

export interface TreeEntry {
  rel: string
  stat: Stats
}

/** Every entry under root, depth first, names sorted so that output is reproducible. */
export function walk(root: string, filter: (rel: string) => boolean = () => true, prefix = ''): TreeEntry[] {
  const out: TreeEntry[] = []
  let names: string[]
  try {
    names = readdirSync(prefix ? join(root, prefix) : root)
  } catch {
    return out
  }
  names.sort()
  for (const name of names) {
    const rel = prefix ? `${prefix}/${name}` : name
    if (!filter(rel)) continue
    const stat = lstatSync(join(root, rel))
    out.push({rel, stat})
    if (stat.isDirectory()) out.push(...walk(root, filter, rel))
  }
  return out
}

/** A digest of files (contents, modes, links) under root: equal digests mean byte-for-byte equal trees. */
export function hashTree(root: string, filter: (rel: string) => boolean = () => true): string {
  const h = createHash('sha256')
  for (const {rel, stat} of walk(root, filter)) {
    const mode = (stat.mode & 0o7777).toString(8)
    if (stat.isDirectory()) h.update(`d ${rel} ${mode}\n`)
    else if (stat.isSymbolicLink()) h.update(`l ${rel} ${readlinkSync(join(root, rel))}\n`)
    else if (stat.isFile()) h.update(`f ${rel} ${mode} ${createHash('sha256').update(readFileSync(join(root, rel))).digest('hex')}\n`)
    else h.update(`o ${rel}\n`)
  }
  return h.digest('hex')
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}
