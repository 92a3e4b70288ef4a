import {createHash} from 'node:crypto'
import {UsageError} from '../errors.js'
import type {ProductInfo} from '../product.js'
import {LINUX_FS_TYPE, SECTOR, type GptLayout} from './gpt.js'

// The disk of a unit (SPEC 9, docs/disk-images.md): GPT, 1 MiB aligned, three ext4 partitions whose
// GPT names equal their filesystem labels.

export const MiB = 1024 * 1024
export const GiB = 1024 * MiB
export const ROOT_BYTES = 2 * GiB
export const TANDBERG_BYTES = 2 * GiB
/** the smallest harddisk partition export accepts */
export const MIN_HARDDISK_BYTES = 512 * MiB
export const DEFAULT_DISK_BYTES = 132 * GiB
export const MIN_DISK_BYTES = MiB + ROOT_BYTES + TANDBERG_BYTES + MIN_HARDDISK_BYTES + MiB

export type PartitionName = 'root' | 'tandberg' | 'harddisk'
export const PARTITIONS: readonly PartitionName[] = ['root', 'tandberg', 'harddisk']

/** Where each partition is mounted in the unit ('' for root). */
export const MOUNTS: Record<PartitionName, string> = {root: '', tandberg: 'tandberg', harddisk: 'mnt/harddisk'}

/** The partition holding a unit-relative path, and the path inside it. */
export function partitionOf(rel: string): {part: PartitionName; inner: string} {
  if (rel === 'tandberg' || rel.startsWith('tandberg/')) return {part: 'tandberg', inner: rel.slice('tandberg/'.length)}
  if (rel === 'mnt/harddisk' || rel.startsWith('mnt/harddisk/')) return {part: 'harddisk', inner: rel.slice('mnt/harddisk/'.length)}
  return {part: 'root', inner: rel}
}

export interface PlannedPartition {
  name: PartitionName
  offset: number
  size: number
}

/** "132G", "10GiB", "6442450944": bytes, a whole number of MiB, at least MIN_DISK_BYTES. */
export function parseDiskSize(text: string): number {
  const m = /^(\d+)\s*([KMGT]?)(i?B)?$/i.exec(text.trim())
  if (!m) throw new UsageError(`--disk-size ${text}: not a size (use e.g. 132G, 20GiB or a number of bytes).`)
  const mult = {'': 1, K: 1024, M: MiB, G: GiB, T: 1024 * GiB}[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T']
  const bytes = Number(m[1]) * mult
  if (!Number.isSafeInteger(bytes) || bytes % MiB !== 0) throw new UsageError(`--disk-size ${text}: must be a whole number of MiB.`)
  if (bytes < MIN_DISK_BYTES) throw new UsageError(`--disk-size ${text}: too small; a unit's disk needs at least ${MIN_DISK_BYTES / MiB} MiB (root ${ROOT_BYTES / GiB} GiB, tandberg ${TANDBERG_BYTES / GiB} GiB, harddisk at least ${MIN_HARDDISK_BYTES / MiB} MiB).`)
  if (bytes > 64 * 1024 * GiB) throw new UsageError(`--disk-size ${text}: larger than 64 TiB.`)
  return bytes
}

export function planPartitions(diskBytes: number): PlannedPartition[] {
  const rootOff = MiB
  const tandOff = rootOff + ROOT_BYTES
  const hdOff = tandOff + TANDBERG_BYTES
  // the backup GPT takes the last 33 sectors; the harddisk ends at the last whole MiB before them
  const hdEnd = Math.floor((diskBytes - 33 * SECTOR) / MiB) * MiB
  return [
    {name: 'root', offset: rootOff, size: ROOT_BYTES},
    {name: 'tandberg', offset: tandOff, size: TANDBERG_BYTES},
    {name: 'harddisk', offset: hdOff, size: hdEnd - hdOff},
  ]
}

/** A GUID from a hash (RFC 4122 version 5 layout): the same unit gives the same GUIDs, never random ones. */
export function derivedGuid(...parts: string[]): string {
  const b = createHash('sha256').update(['xway-disk', ...parts].join('\0')).digest().subarray(0, 16)
  b[6] = (b[6] & 0x0F) | 0x50
  b[8] = (b[8] & 0x3F) | 0x80
  const h = b.toString('hex').toUpperCase()
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** What a unit's disk identity derives from: its UDI (PID and serial). */
export function identityOf(info: Pick<ProductInfo, 'pid' | 'serial'>): string {
  return `PID:${info.pid},SN:${info.serial}`
}

export function gptLayout(identity: string, parts: PlannedPartition[]): GptLayout {
  return {
    diskGuid: derivedGuid(identity, 'disk'),
    partitions: parts.map((p) => ({
      name: p.name,
      guid: derivedGuid(identity, 'partition', p.name),
      typeGuid: LINUX_FS_TYPE,
      firstLba: p.offset / SECTOR,
      lastLba: (p.offset + p.size) / SECTOR - 1,
    })),
  }
}

/**
 * The time written into the image (superblocks, every inode): the unit's last audited change
 * (the `at` of the last line of var/lib/xway/audit.jsonl), else 2000-01-01; never the clock.
 */
export function unitTime(audit: Buffer | null): number {
  const fallback = 946_684_800
  if (!audit) return fallback
  const lines = audit.toString('utf8').trimEnd().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const at = Date.parse((JSON.parse(lines[i]) as {at?: string}).at ?? '')
      if (Number.isFinite(at) && at > 0) return Math.floor(at / 1000)
    } catch {}
  }
  return fallback
}
