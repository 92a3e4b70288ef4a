import {closeSync, openSync, readSync} from 'node:fs'
import {basename} from 'node:path'
import {BadInputError, XwayError} from '../errors.js'
import type {UnitReader} from '../unit/store.js'
import {corrupt} from './errors.js'
import {Ext4} from './ext4.js'
import {readGpt} from './gpt.js'
import {PARTITIONS, type PartitionName} from './layout.js'
import {looksLikeTar, openOva} from './ova.js'
import {Qcow2Source, QCOW2_MAGIC} from './qcow2.js'
import {DiskUnitReader} from './reader.js'
import {type BlockSource, FileSource} from './source.js'
import {isDescriptorText, VMDK_SPARSE_MAGIC, VmdkSource} from './vmdk.js'

export type ImageFormat = 'raw' | 'qcow2' | 'vmdk' | 'ova'

/** The format of an image file, by its content (never its name). */
export function detectFormat(path: string): ImageFormat {
  const head = Buffer.alloc(1024)
  const fd = openSync(path, 'r')
  let n: number
  try {
    n = readSync(fd, head, 0, head.length, 0)
  } finally {
    closeSync(fd)
  }
  const where = basename(path)
  if (n >= 4 && head.readUInt32BE(0) === QCOW2_MAGIC) return 'qcow2'
  if (n >= 4 && head.readUInt32LE(0) === VMDK_SPARSE_MAGIC) return 'vmdk'
  if (n >= 512 && looksLikeTar(head)) return 'ova'
  if (n >= 520 && head.toString('ascii', 512, 520) === 'EFI PART') return 'raw'
  if (isDescriptorText(head.subarray(0, n))) throw corrupt(where, 'this VMDK is a text descriptor whose extents are other files; only single-file (monolithicSparse or streamOptimized) VMDKs are read, and none of their extents is ever opened')
  if (n >= 512 && head.readUInt16LE(510) === 0xAA55) throw corrupt(where, 'the partition table is not GPT (an MBR/DOS table; xway disk images are GPT)')
  throw corrupt(where, 'not a disk image xway knows (no GPT, qcow2, VMDK or OVA signature)')
}

export interface OpenedImage {
  format: ImageFormat
  /** the virtual disk */
  disk: BlockSource
  /** byte offset and size of each partition on the virtual disk */
  partitions: Record<PartitionName, {offset: number; size: number}>
  fs: Record<PartitionName, Ext4>
  reader: UnitReader
  close(): void
}

/** Errors a hostile image might provoke in parsing code become bad input (exit 4), never a crash. */
function guarded<T extends object>(target: T, where: string): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const v = Reflect.get(obj, prop, receiver)
      if (typeof v !== 'function') return v
      return (...args: unknown[]) => {
        try {
          return (v as (...a: unknown[]) => unknown).apply(obj, args)
        } catch (error) {
          if (error instanceof XwayError) throw error
          throw new BadInputError(`${where}: the image is corrupt (${(error as Error).message}); refused.`, {cause: error})
        }
      }
    },
  })
}

export function openVirtualDisk(path: string, format: ImageFormat): BlockSource {
  const where = basename(path)
  if (format === 'raw') return new FileSource(path)
  if (format === 'qcow2') return new Qcow2Source(path)
  const file = new FileSource(path)
  try {
    if (format === 'vmdk') return new VmdkSource(file, where)
    const ova = openOva(file, where)
    return new VmdkSource(ova.disk, `${where}:${ova.diskName}`)
  } catch (error) {
    file.close()
    throw error
  }
}

/** Opens an image for reading: format by content, checked GPT, the three named ext4 partitions. */
export function openImage(path: string, options: {format?: ImageFormat} = {}): OpenedImage {
  const where = basename(path)
  const format = options.format ?? detectFormat(path)
  let disk: BlockSource
  try {
    disk = openVirtualDisk(path, format)
  } catch (error) {
    if (error instanceof XwayError) throw error
    throw new BadInputError(`${where}: the image is corrupt (${(error as Error).message}); refused.`, {cause: error})
  }
  try {
    const gpt = guarded({run: () => readGpt(disk, where)}, where).run()
    const partitions = {} as OpenedImage['partitions']
    const fs = {} as OpenedImage['fs']
    for (const name of PARTITIONS) {
      const found = gpt.partitions.filter((p) => p.name === name)
      if (found.length === 0) throw corrupt(where, `the disk has no partition named "${name}" (a unit's disk has root, tandberg and harddisk)`)
      if (found.length > 1) throw corrupt(where, `the disk has two partitions named "${name}"`)
      partitions[name] = {offset: found[0].offset, size: found[0].size}
      fs[name] = guarded({open: () => new Ext4(disk, found[0].offset, found[0].size, `${where}: partition ${name}`)}, where).open()
    }
    const reader = guarded(new DiskUnitReader(fs), where)
    return {format, disk, partitions, fs, reader, close: () => disk.close()}
  } catch (error) {
    disk.close()
    throw error
  }
}
