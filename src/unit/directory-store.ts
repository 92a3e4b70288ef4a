import {spawn} from 'node:child_process'
import {
  chmodSync, closeSync, constants, createReadStream, fstatSync, ftruncateSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync,
  readlinkSync, readSync, renameSync, rmSync, symlinkSync, unlinkSync, writeSync, type Stats,
} from 'node:fs'
import {join, resolve} from 'node:path'
import type {Readable} from 'node:stream'
import {BadInputError, FailedError} from '../errors.js'
import {fsyncPath, writeFileDurable} from './fsutil.js'
import {acquireLock, liveLockOwner} from './lock.js'
import {joinRel, parentOf, relParts, UnsafePathError} from './safe-path.js'
import type {EntryStat, RecoverResult, StoreOp, UnitLock, UnitReader, UnitStore, WalkEntry} from './store.js'
import {TOOL} from './tool-paths.js'

function entryStat(st: Stats): EntryStat {
  const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other'
  return {kind, mode: st.mode & 0o7777, size: kind === 'file' ? st.size : 0}
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return null
    if (code === 'ENOTDIR') return null
    throw error
  }
}

/** Test hook: widens the window between applied operations so that crash tests can land inside it. */
function opDelay(): void {
  const ms = Number(process.env.XWAY_TEST_OP_DELAY_MS ?? 0)
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Reads a unit folder without ever following a link: every folder on a path is checked to be a
 * real folder (lstat), and files are opened with O_NOFOLLOW.
 */
export class DirectoryReader implements UnitReader {
  private readonly realFolders = new Set<string>([''])

  constructor(readonly root: string) {}

  /** The host path of rel, after checking that every folder leading to it is a real folder. */
  hostPath(rel: string): string {
    const parts = relParts(rel)
    let dir = ''
    for (let i = 0; i < parts.length - 1; i++) {
      dir = joinRel(dir, parts[i])
      if (this.realFolders.has(dir)) continue
      const st = lstatOrNull(join(this.root, dir))
      if (st === null) return join(this.root, rel) // a missing folder: rel is absent too
      if (st.isSymbolicLink()) throw new UnsafePathError(dir, 'is a symbolic link where a folder is expected', {target: safeReadlink(join(this.root, dir))})
      if (!st.isDirectory()) throw new UnsafePathError(dir, 'is not a folder but a path goes through it', {actions: [`Remove or rename ${dir} in the unit, then run the command again.`]})
      this.realFolders.add(dir)
    }
    return join(this.root, rel)
  }

  stat(rel: string): EntryStat | null {
    const st = lstatOrNull(this.hostPath(rel))
    return st && entryStat(st)
  }

  read(rel: string): Buffer | null {
    const path = this.hostPath(rel)
    let fd: number
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') return null
      if (code === 'ELOOP') throw new UnsafePathError(rel, 'is a symbolic link where a file is expected', {target: safeReadlink(path)})
      throw error
    }
    try {
      const st = fstatSync(fd)
      if (!st.isFile()) throw new UnsafePathError(rel, st.isDirectory() ? 'is a folder where a file is expected' : 'is a device, FIFO or socket where a file is expected', {actions: [`Remove ${rel} from the unit (xway image verify lists such entries), then run the command again.`]})
      return readFileSync(fd)
    } finally {
      closeSync(fd)
    }
  }

  list(rel: string): string[] {
    const path = rel === '' ? this.root : this.hostPath(rel)
    const st = lstatOrNull(path)
    if (st === null) return []
    if (st.isSymbolicLink()) throw new UnsafePathError(rel, 'is a symbolic link where a folder is expected', {target: safeReadlink(path)})
    if (!st.isDirectory()) throw new UnsafePathError(rel, 'is not a folder', {actions: [`Remove or rename ${rel} in the unit, then run the command again.`]})
    if (rel !== '') this.realFolders.add(rel)
    return readdirSync(path).sort()
  }

  readlink(rel: string): string {
    return readlinkSync(this.hostPath(rel))
  }

  walk(rel: string, filter: (rel: string) => boolean = () => true): WalkEntry[] {
    const out: WalkEntry[] = []
    const visit = (dir: string, depth: number): void => {
      if (depth > 256) throw new BadInputError(`${dir} is nested more than 256 folders deep.`)
      for (const name of this.list(dir)) {
        const child = joinRel(dir, name)
        if (!filter(child)) continue
        const st = lstatOrNull(join(this.root, child))
        if (st === null) continue
        const stat = entryStat(st)
        out.push({rel: child, stat})
        if (stat.kind === 'dir') visit(child, depth + 1)
      }
    }
    const st = rel === '' ? {kind: 'dir'} : this.stat(rel)
    if (st?.kind === 'dir') visit(rel, 0)
    return out
  }

  openRead(rel: string): Readable {
    const path = this.hostPath(rel)
    let fd: number
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new UnsafePathError(rel, 'is a symbolic link where a file is expected', {target: safeReadlink(path)})
      throw error
    }
    if (!fstatSync(fd).isFile()) {
      closeSync(fd)
      throw new UnsafePathError(rel, 'is not a regular file where a file is expected')
    }
    return createReadStream('', {fd, highWaterMark: 1 << 20})
  }
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path)
  } catch {
    return undefined
  }
}

type JournalOp =
  | {op: 'delete'; rel: string; trash: string}
  /** staged: relative to var/lib/xway/txn */
  | {op: 'write'; rel: string; staged: string}
  | {op: 'mkdir'; rel: string; mode: number}
  | {op: 'symlink'; rel: string; target: string}
  /** the file's size before the append: replaying truncates back to it first, so an append is never doubled */
  | {op: 'append'; rel: string; staged: string; offset: number}

/** formatVersion 1 (no append, no symlink) replays the same way: an older xway's interrupted commit is finished too. */
interface Journal {
  formatVersion: 1 | 2
  command: string
  ops: JournalOp[]
}

/**
 * A unit stored as a folder: the tool's lock, journal and staging live in its var/lib/xway, which
 * must be a real folder (as must every folder on the way to it). The journal's atomic rename is
 * the commit point; replaying it is idempotent, so `image recover` finishes an interrupted commit.
 * Deletes move whole trees aside (rename), so large files are never copied.
 */
export class DirectoryStore implements UnitStore {
  readonly kind = 'directory' as const
  readonly writable = true
  readonly path: string
  private current: DirectoryReader

  constructor(path: string) {
    this.path = resolve(path)
    this.current = new DirectoryReader(this.path)
  }

  reader(): UnitReader {
    return this.current
  }

  /** The host path of a tool file, after checking (and making) var/lib/xway as real folders. */
  private toolPath(rel: string, create: boolean): string {
    let dir = ''
    for (const part of relParts(TOOL.dir)) {
      dir = joinRel(dir, part)
      const abs = join(this.path, dir)
      const st = lstatOrNull(abs)
      if (st === null) {
        if (!create) return join(this.path, rel)
        mkdirSync(abs, {mode: 0o755})
        continue
      }
      if (st.isSymbolicLink()) throw new UnsafePathError(dir, 'is a symbolic link where a folder is expected', {target: safeReadlink(abs), actions: toolActions(dir)})
      if (!st.isDirectory()) throw new UnsafePathError(dir, 'is not a folder', {actions: toolActions(dir)})
    }
    return join(this.path, rel)
  }

  lock(command: string): UnitLock {
    return acquireLock(this.toolPath(TOOL.lock, true), command)
  }

  hasPendingJournal(): boolean {
    return lstatOrNull(this.toolPath(TOOL.journal, false)) !== null
  }

  pendingCommand(): string | null {
    try {
      return this.readJournal().command
    } catch {
      return null
    }
  }

  /** A pending journal under a live writer's lock is work in progress, not an interrupted operation. */
  liveWriter(): ReturnType<typeof liveLockOwner> {
    return liveLockOwner(this.toolPath(TOOL.lock, false))
  }

  scratch(): string {
    const dir = this.toolPath(TOOL.txnDir, true)
    const st = lstatOrNull(dir)
    if (st && !st.isDirectory()) throw new UnsafePathError(TOOL.txnDir, 'is not a folder', {actions: toolActions(TOOL.txnDir)})
    mkdirSync(join(dir, 'staged'), {recursive: true})
    return join(dir, 'staged')
  }

  discardScratch(): void {
    rmSync(this.toolPath(TOOL.txnDir, false), {recursive: true, force: true})
  }

  private readJournal(): Journal {
    const fd = openSync(this.toolPath(TOOL.journal, false), constants.O_RDONLY | constants.O_NOFOLLOW)
    try {
      const journal = JSON.parse(readFileSync(fd, 'utf8')) as Journal
      if (!Array.isArray(journal.ops)) throw new Error('no ops')
      return journal
    } finally {
      closeSync(fd)
    }
  }

  /**
   * Checks every op against the unit before the commit point: the folders on each path are real
   * folders, nothing is written through a link, a file to append to is a file. A refusal here
   * leaves the unit as it was.
   */
  private precheck(ops: StoreOp[]): void {
    const r = this.current
    for (const op of ops) {
      r.hostPath(op.rel)
      // folders still to be made must not collide with a file or link of the same name
      for (let dir = parentOf(op.rel); dir !== ''; dir = parentOf(dir)) {
        const st = r.stat(dir)
        if (st === null) continue
        if (st.kind !== 'dir') throw new UnsafePathError(dir, st.kind === 'symlink' ? 'is a symbolic link where a folder is expected' : 'is not a folder but a path goes through it')
        break
      }
      const st = r.stat(op.rel)
      if (op.op === 'append' && st && st.kind !== 'file') throw new UnsafePathError(op.rel, st.kind === 'symlink' ? 'is a symbolic link where a file is expected' : 'is not a regular file where a file is expected', {target: st.kind === 'symlink' ? r.readlink(op.rel) : undefined})
      if ((op.op === 'write' || op.op === 'write-file') && st?.kind === 'dir') throw new UnsafePathError(op.rel, 'is a folder where a file is expected')
      if (op.op === 'mkdir' && st && st.kind !== 'dir') throw new UnsafePathError(op.rel, st.kind === 'symlink' ? 'is a symbolic link where a folder is expected' : 'is not a folder')
    }
  }

  async commit(command: string, ops: StoreOp[]): Promise<void> {
    if (ops.length === 0) return
    this.precheck(ops)
    const staged = this.scratch()
    const journal: Journal = {formatVersion: 2, command, ops: []}
    let n = 0
    for (const op of ops) {
      if (op.op === 'delete') journal.ops.push({op: 'delete', rel: op.rel, trash: `t${n++}`})
      else if (op.op === 'mkdir') journal.ops.push({op: 'mkdir', rel: op.rel, mode: op.mode})
      else if (op.op === 'symlink') journal.ops.push({op: 'symlink', rel: op.rel, target: op.target})
      else if (op.op === 'write-file') {
        if (!op.source.startsWith(staged + '/')) throw new Error(`staged file outside the scratch folder: ${op.source}`)
        const st = lstatSync(op.source)
        if (!st.isFile()) throw new Error(`staged entry is not a file: ${op.source}`)
        if ((st.mode & 0o7777) !== op.mode) chmodSync(op.source, op.mode)
        fsyncPath(op.source)
        journal.ops.push({op: 'write', rel: op.rel, staged: `staged/${op.source.slice(staged.length + 1)}`})
      } else {
        const name = `s${n++}`
        writeFileDurable(join(staged, name), op.data, op.op === 'write' ? op.mode : 0o644)
        if (op.op === 'write') journal.ops.push({op: 'write', rel: op.rel, staged: `staged/${name}`})
        else journal.ops.push({op: 'append', rel: op.rel, staged: `staged/${name}`, offset: this.current.stat(op.rel)?.size ?? 0})
      }
    }
    fsyncPath(staged)
    const journalPath = this.toolPath(TOOL.journal, true)
    writeFileDurable(`${journalPath}.tmp`, JSON.stringify(journal))
    renameSync(`${journalPath}.tmp`, journalPath) // the commit point
    fsyncPath(join(journalPath, '..'))
    try {
      this.replay(journal)
    } catch (error) {
      throw afterCommitError(this.path, error)
    } finally {
      this.current = new DirectoryReader(this.path)
    }
  }

  /** Applies a committed journal; every step is idempotent, so replaying after a crash finishes the work. */
  private replay(journal: Journal): void {
    const txnDir = this.toolPath(TOOL.txnDir, true)
    const trash = join(txnDir, 'trash')
    mkdirSync(trash, {recursive: true})
    const r = new DirectoryReader(this.path)
    const touched = new Set<string>()
    const makeFolders = (rel: string, mode = 0o755): void => {
      let dir = ''
      for (const part of relParts(rel)) {
        dir = joinRel(dir, part)
        const st = lstatOrNull(join(this.path, dir))
        if (st === null) {
          mkdirSync(join(this.path, dir), {mode: dir === rel ? mode : 0o755})
          touched.add(join(this.path, parentOf(dir)))
        } else if (!st.isDirectory()) throw new UnsafePathError(dir, st.isSymbolicLink() ? 'is a symbolic link where a folder is expected' : 'is not a folder')
      }
    }
    for (const op of journal.ops) {
      opDelay()
      const target = join(this.path, op.rel)
      if (op.op === 'delete') {
        const moved = join(trash, op.trash)
        if (lstatOrNull(moved) !== null) continue
        r.hostPath(op.rel)
        if (lstatOrNull(target) !== null) {
          renameSync(target, moved)
          touched.add(join(target, '..'))
        }
      } else if (op.op === 'mkdir') {
        makeFolders(op.rel, op.mode)
      } else if (op.op === 'symlink') {
        makeFolders(parentOf(op.rel))
        const st = lstatOrNull(target)
        if (st?.isSymbolicLink() && readlinkSync(target) === op.target) continue
        const tmp = join(txnDir, `link-${process.pid}`)
        rmSync(tmp, {force: true})
        symlinkSync(op.target, tmp)
        renameSync(tmp, target)
        touched.add(join(target, '..'))
      } else if (op.op === 'write') {
        const source = join(txnDir, op.staged)
        if (lstatOrNull(source) === null) continue
        makeFolders(parentOf(op.rel))
        renameSync(source, target)
        touched.add(join(target, '..'))
      } else {
        makeFolders(parentOf(op.rel))
        const data = readFileSync(join(txnDir, op.staged))
        const fd = openSync(target, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644)
        try {
          const size = fstatSync(fd).size
          if (size === op.offset + data.length && tailEquals(fd, op.offset, data)) continue
          if (size !== op.offset) ftruncateSync(fd, op.offset)
          let off = 0
          while (off < data.length) off += writeSync(fd, data, off, data.length - off, op.offset + off)
          fsyncPath(target)
        } finally {
          closeSync(fd)
        }
      }
    }
    for (const dir of touched) fsyncPath(dir)
    const journalPath = this.toolPath(TOOL.journal, false)
    unlinkSync(journalPath)
    fsyncPath(join(journalPath, '..'))
    this.discardTrash(trash)
    rmSync(txnDir, {recursive: true, force: true})
  }

  /**
   * What a commit deleted (e.g. a reset's dropped logs) leaves the unit's state by one rename into the
   * transient trash folder and is removed there by a detached process: unlinking gigabytes takes time
   * that grows with their size, and a commit must not (SPEC 8, factory reset with 2 GB of logs).
   */
  private discardTrash(trash: string): void {
    try {
      if (readdirSync(trash).length === 0) return
      // small deletions are finished here, so that the unit is settled when the command returns
      if (new DirectoryReader(trash).walk('').reduce((n, e) => n + e.stat.size, 0) < BACKGROUND_REMOVAL_BYTES) return
      const dest = join(this.toolPath(TOOL.trashDir, true), `${process.pid}-${Date.now()}`)
      const trashRoot = join(dest, '..')
      const st = lstatOrNull(trashRoot)
      if (st === null) mkdirSync(trashRoot)
      else if (!st.isDirectory()) return
      renameSync(trash, dest)
      spawn(process.execPath, ['-e', 'require("fs").rmSync(process.argv[1], {recursive: true, force: true})', dest], {detached: true, stdio: 'ignore'}).unref()
    } catch {
      // the caller's rmSync of the staging area removes it in place
    }
  }

  async recover(): Promise<RecoverResult> {
    const journalPath = this.toolPath(TOOL.journal, false)
    const txnDir = this.toolPath(TOOL.txnDir, false)
    try {
      if (lstatOrNull(journalPath) !== null) {
        let journal: Journal
        try {
          journal = this.readJournal()
        } catch {
          throw new BadInputError(`${TOOL.journal} is not readable: the interrupted operation cannot be finished.`, {
            actions: ['Restore the unit from a backup or a copy made before the operation.'],
          })
        }
        this.replay(journal)
        return {recovered: true, action: 'rolled-forward', command: journal.command}
      }
      const leftovers = lstatOrNull(txnDir) !== null || lstatOrNull(`${journalPath}.tmp`) !== null
      rmSync(txnDir, {recursive: true, force: true})
      rmSync(`${journalPath}.tmp`, {force: true})
      rmSync(this.toolPath(TOOL.trashDir, false), {recursive: true, force: true}) // a background removal cut short
      return leftovers ? {recovered: true, action: 'rolled-back', command: null} : {recovered: false, action: 'none', command: null}
    } finally {
      this.current = new DirectoryReader(this.path)
    }
  }

  close(): void {}
}

/** Deletions larger than this are removed by a detached process after the commit. */
const BACKGROUND_REMOVAL_BYTES = 64 * 1024 * 1024

function tailEquals(fd: number, offset: number, data: Buffer): boolean {
  const buf = Buffer.alloc(data.length)
  let got = 0
  while (got < data.length) {
    const n = readSync(fd, buf, got, data.length - got, offset + got)
    if (n === 0) return false
    got += n
  }
  return buf.equals(data)
}

function toolActions(dir: string): string[] {
  return [
    `${dir} belongs to the tool (lock, journal, audit log) and must be a real folder inside the unit: remove the link or file and create the folder, then run the command again.`,
  ]
}

/**
 * A failure after the commit point (e.g. an immutable file): the journal stays, and `image
 * recover` finishes the work once the cause is removed.
 */
function afterCommitError(unit: string, error: unknown): FailedError {
  const e = error as NodeJS.ErrnoException & {dest?: string}
  const at = e.dest ?? e.path
  const where = at ? ` at ${at.startsWith(unit + '/') ? at.slice(unit.length + 1) : at}` : ''
  const why = e.code === 'EPERM' || e.code === 'EACCES' ? 'the operation was not permitted (an immutable or read-only file?)'
    : e.code === 'ENOSPC' ? 'the disk is full' : e.code === 'EROFS' ? 'the filesystem is read-only'
      : error instanceof UnsafePathError ? error.message : (e.message ?? String(error))
  return new FailedError(`The change was committed but could not be completed${where}: ${why}.`, {
    actions: [`Remove the cause, then run: xway image recover ${unit} (it finishes the change).`],
    cause: error,
  })
}
