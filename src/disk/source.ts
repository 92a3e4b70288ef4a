import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {BadInputError} from '../errors.js'

/** Random read access to the bytes of a virtual disk (raw file, qcow2, vmdk, a member of an OVA). */
export interface BlockSource {
  /** bytes of the virtual disk */
  readonly size: number
  /** bytes [pos, pos+len) of the virtual disk; refused past its end */
  read(pos: number, len: number): Buffer
  close(): void
}

function outside(what: string, pos: number, len: number, size: number): BadInputError {
  return new BadInputError(`${what}: a read at ${pos} (+${len}) lies past its end (${size} bytes); the image is truncated or corrupt.`, {
    actions: ['Use an image written by `xway image export`.'],
  })
}

export function checkRange(what: string, pos: number, len: number, size: number): void {
  if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos + len > size) throw outside(what, pos, len, size)
}

/** A file read with pread; counts what it read (tests prove that a deletion never reads the data it frees). */
export class FileSource implements BlockSource {
  readonly size: number
  bytesRead = 0
  private fd: number | null

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r')
    this.size = fstatSync(this.fd).size
  }

  read(pos: number, len: number): Buffer {
    checkRange(this.path, pos, len, this.size)
    const buf = Buffer.allocUnsafe(len)
    this.readInto(buf, 0, len, pos)
    return buf
  }

  readInto(buf: Buffer, off: number, len: number, pos: number): void {
    if (this.fd === null) throw new Error(`${this.path} is closed`)
    let done = 0
    while (done < len) {
      const n = readSync(this.fd, buf, off + done, len - done, pos + done)
      if (n === 0) {
        buf.fill(0, off + done, off + len)
        break
      }
      done += n
    }
    this.bytesRead += len
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd)
    this.fd = null
  }
}

/** A window [offset, offset+size) of another source (an OVA member inside the tar). */
export class RangeSource implements BlockSource {
  constructor(private readonly parent: BlockSource, private readonly offset: number, readonly size: number, private readonly what: string) {
    checkRange(what, offset, size, parent.size)
  }

  read(pos: number, len: number): Buffer {
    checkRange(this.what, pos, len, this.size)
    return this.parent.read(this.offset + pos, len)
  }

  close(): void {
    this.parent.close()
  }
}
