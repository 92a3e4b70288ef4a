import type {BlockSource} from './source.js'

/**
 * A copy-on-write view of a disk: reads come from the base (the image, never written here) unless
 * a block was written, writes go to memory. After a commit's changes are applied to it, its dirty
 * blocks are exactly what the image must receive: they go to the redo journal, then in place.
 * It has the shape libext2fs (the ext2fs package) expects of a disk.
 */
export class OverlayDisk {
  static readonly BLOCK = 4096
  private readonly dirty = new Map<number, Buffer>()
  /** bytes read from the base: proves that a deletion never reads the data it frees */
  baseBytesRead = 0

  constructor(private readonly base: BlockSource) {}

  get size(): number {
    return this.base.size
  }

  private blockAt(index: number): Buffer {
    const hit = this.dirty.get(index)
    if (hit) return hit
    const start = index * OverlayDisk.BLOCK
    const len = Math.min(OverlayDisk.BLOCK, this.base.size - start)
    this.baseBytesRead += len
    const b = Buffer.alloc(OverlayDisk.BLOCK)
    this.base.read(start, len).copy(b)
    return b
  }

  readSync(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number): number {
    if (fileOffset < 0 || fileOffset + length > this.base.size) throw new Error(`read past the end of the disk (${fileOffset}+${length})`)
    let done = 0
    const B = OverlayDisk.BLOCK
    while (done < length) {
      const at = fileOffset + done
      const index = Math.floor(at / B)
      const inOff = at % B
      const take = Math.min(B - inOff, length - done)
      const hit = this.dirty.get(index)
      if (hit) hit.copy(buffer, bufferOffset + done, inOff, inOff + take)
      else {
        // runs of clean blocks are read from the base in one go
        let run = take
        while (done + run < length && !this.dirty.has(Math.floor((at + run) / B))) run = Math.min(run + B, length - done)
        this.baseBytesRead += run
        this.base.read(at, run).copy(buffer, bufferOffset + done)
        done += run
        continue
      }
      done += take
    }
    return length
  }

  async read(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number): Promise<{bytesRead: number; buffer: Buffer}> {
    return {bytesRead: this.readSync(buffer, bufferOffset, length, fileOffset), buffer}
  }

  async write(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number): Promise<{bytesWritten: number; buffer: Buffer}> {
    return {bytesWritten: this.writeSync(buffer, bufferOffset, length, fileOffset), buffer}
  }

  /** This view as a read-only block source (for the in-process ext4 reader). */
  source(): BlockSource {
    return {
      size: this.base.size,
      read: (pos: number, len: number) => {
        const b = Buffer.alloc(len)
        this.readSync(b, 0, len, pos)
        return b
      },
      close: () => {},
    }
  }

  writeSync(buffer: Buffer, bufferOffset: number, length: number, fileOffset: number): number {
    if (fileOffset < 0 || fileOffset + length > this.base.size) throw new Error(`write past the end of the disk (${fileOffset}+${length})`)
    const B = OverlayDisk.BLOCK
    let done = 0
    while (done < length) {
      const at = fileOffset + done
      const index = Math.floor(at / B)
      const inOff = at % B
      const take = Math.min(B - inOff, length - done)
      const block = take === B ? Buffer.alloc(B) : Buffer.from(this.blockAt(index))
      buffer.copy(block, inOff, bufferOffset + done, bufferOffset + done + take)
      this.dirty.set(index, block)
      done += take
    }
    return length
  }

  async discard(): Promise<void> {
    // freed blocks keep their bytes: nothing in ext4 relies on discarded blocks reading as zeros
  }

  async flush(): Promise<void> {}

  /** The dirty blocks that differ from the base, as runs (offset, bytes), in disk order. */
  changes(): Array<{offset: number; data: Buffer}> {
    const B = OverlayDisk.BLOCK
    const indexes = [...this.dirty.keys()].sort((a, b) => a - b)
    const runs: Array<{offset: number; data: Buffer[]; next: number}> = []
    for (const i of indexes) {
      const block = this.dirty.get(i)!
      const len = Math.min(B, this.base.size - i * B)
      if (this.base.read(i * B, len).equals(block.subarray(0, len))) continue
      const last = runs[runs.length - 1]
      if (last && last.next === i && last.data.length < 256) {
        last.data.push(block.subarray(0, len))
        last.next = i + 1
      } else runs.push({offset: i * B, data: [block.subarray(0, len)], next: i + 1})
    }
    return runs.map((r) => ({offset: r.offset, data: Buffer.concat(r.data)}))
  }

  get dirtyBlocks(): number {
    return this.dirty.size
  }
}
