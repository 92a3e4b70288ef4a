import {closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {BadInputError, UnitBusyError} from '../errors.js'
import {fsyncPath} from '../unit/fsutil.js'
import {acquireLock, liveLockOwner} from '../unit/lock.js'
import type {RecoverResult, StoreKind, StoreOp, UnitLock, UnitReader, UnitStore} from '../unit/store.js'
import {applyOps} from './apply.js'
import {corrupt} from './errors.js'
import {detectFormat, type ImageFormat, type OpenedImage, openImage} from './image.js'
import {applyJournal, commitJournal, dropIncompleteJournal, journalPath, readJournal} from './journal.js'
import {OverlayDisk} from './overlay.js'
import {FileSource} from './source.js'
import {requireQemuImg, runTool} from './tools.js'

// A unit kept as a disk image file (SPEC 9). Reads go through the in-process readers; a raw
// image is changed in place through a redo journal, a qcow2 image through a converted raw copy
// renamed back over it. vmdk and ova are distribution formats: read-only.

/** One writer per image: FILE.xway-lock, made with O_EXCL; a dead owner's lock is taken over safely. */
export function lockImage(image: string, command: string): UnitLock {
  return acquireLock(`${image}.xway-lock`, command)
}

export interface CommitStats {
  /** bytes the commit read from the image */
  bytesRead: number
  /** bytes it wrote (journal records) */
  bytesWritten: number
}

/** A commit on a raw image: ops applied over an overlay, dirty blocks journalled, then written in place. */
export async function commitRaw(image: string, command: string, ops: StoreOp[]): Promise<CommitStats> {
  const opened = openImage(image, {format: 'raw'})
  const partitions = opened.partitions
  for (const [name, fs] of Object.entries(opened.fs)) {
    if (fs.needsRecovery) throw corrupt(basename(image), `the ${name} filesystem has an unreplayed ext4 journal (it was not cleanly unmounted); run e2fsck on it first`)
  }
  opened.close()
  const src = new FileSource(image)
  let records
  try {
    const overlay = new OverlayDisk(src)
    await applyOps(overlay, partitions, ops)
    records = overlay.changes()
  } finally {
    src.close()
  }
  const stats = {bytesRead: src.bytesRead, bytesWritten: records.reduce((n, r) => n + r.data.length, 0)}
  if (records.length === 0) return stats
  const journal = {command, imageSize: src.size, records}
  commitJournal(image, journal)
  applyJournal(image, journal)
  return stats
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function commitTemps(image: string): string[] {
  const dir = dirname(image)
  const prefix = `${basename(image)}.xway-commit-`
  return readdirSync(dir).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n))
}

/**
 * A commit on a qcow2 image: converted to a sparse raw copy beside it, committed there, converted
 * back to a new qcow2 that is renamed over the image (the rename is the commit point). Its cost
 * grows with the data the image holds (two conversions); see docs/disk-images.md.
 */
async function commitQcow2(image: string, command: string, ops: StoreOp[]): Promise<void> {
  requireQemuImg('to change qcow2 images')
  const raw = `${image}.xway-commit-${process.pid}.raw`
  const next = `${image}.xway-commit-${process.pid}.qcow2`
  try {
    await runTool('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', image, raw])
    const stats = await commitRaw(raw, command, ops)
    if (stats.bytesWritten === 0) return
    await runTool('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, next])
    fsyncFile(next)
    renameSync(next, image) // the commit point
    fsyncPath(dirname(image))
  } finally {
    for (const t of [raw, next, journalPath(raw), `${journalPath(raw)}.tmp`]) rmSync(t, {force: true})
  }
}

export class DiskImageStore implements UnitStore {
  readonly kind: StoreKind
  readonly path: string
  readonly writable: boolean
  private opened: OpenedImage | null = null
  private scratchDir: string | null = null

  constructor(path: string, readonly format: ImageFormat) {
    this.path = resolve(path)
    this.kind = format
    this.writable = format === 'raw' || format === 'qcow2'
  }

  reader(): UnitReader {
    this.opened ??= openImage(this.path, {format: this.format})
    return this.opened.reader
  }

  lock(command: string): UnitLock {
    return lockImage(this.path, command)
  }

  liveWriter(): ReturnType<typeof liveLockOwner> {
    return liveLockOwner(`${this.path}.xway-lock`)
  }

  hasPendingJournal(): boolean {
    return existsSync(journalPath(this.path))
  }

  pendingCommand(): string | null {
    try {
      return readJournal(this.path)?.command ?? null
    } catch {
      return null
    }
  }

  scratch(): string {
    if (!this.scratchDir) {
      this.scratchDir = `${this.path}.xway-scratch-${process.pid}`
      rmSync(this.scratchDir, {recursive: true, force: true})
      mkdirSync(this.scratchDir, {mode: 0o700})
    }
    return this.scratchDir
  }

  discardScratch(): void {
    if (this.scratchDir) rmSync(this.scratchDir, {recursive: true, force: true})
    this.scratchDir = null
  }

  async commit(command: string, ops: StoreOp[]): Promise<void> {
    if (!this.writable) {
      throw new BadInputError(`${basename(this.path)} is a ${this.format} image, a read-only distribution format; it cannot be changed in place.`, {
        actions: [`Import it as a unit folder first: xway image import ${this.path} UNIT`],
      })
    }
    if (this.hasPendingJournal()) {
      throw new UnitBusyError(`An operation on this image was interrupted and is not finished (${basename(journalPath(this.path))} is present).`, {actions: [`Run: xway image recover ${this.path}`]})
    }
    if (ops.length === 0) return
    this.close()
    try {
      if (this.format === 'raw') {
        dropIncompleteJournal(this.path)
        await commitRaw(this.path, command, ops)
      } else {
        for (const t of commitTemps(this.path)) rmSync(t, {force: true})
        await commitQcow2(this.path, command, ops)
      }
    } finally {
      // the journal holds the blocks themselves: the streamed files are not needed past this point
      this.discardScratch()
    }
  }

  async recover(): Promise<RecoverResult> {
    this.close()
    if (this.format === 'raw') {
      const journal = readJournal(this.path)
      if (journal) {
        applyJournal(this.path, journal)
        return {recovered: true, action: 'rolled-forward', command: journal.command}
      }
      return dropIncompleteJournal(this.path) ? {recovered: true, action: 'rolled-back', command: null} : {recovered: false, action: 'none', command: null}
    }
    const temps = this.format === 'qcow2' ? commitTemps(this.path) : []
    for (const t of temps) rmSync(t, {force: true})
    return temps.length > 0 ? {recovered: true, action: 'rolled-back', command: null} : {recovered: false, action: 'none', command: null}
  }

  close(): void {
    this.opened?.close()
    this.opened = null
  }
}

/** A disk image as a unit store; its format is recognised by content, and its structure checked now. */
export function openDiskStore(path: string): DiskImageStore {
  if (!existsSync(path)) throw new BadInputError(`${path} does not exist.`)
  const store = new DiskImageStore(path, detectFormat(path))
  if (!store.hasPendingJournal()) store.reader()
  return store
}

