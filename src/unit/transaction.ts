import {spawn} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {now} from '../clock.js'
import {UnitBusyError} from '../errors.js'
import {fsyncPath, walk, writeFileDurable} from './fsutil.js'
import {acquireUnitLock, liveLockOwner, lockedError} from './lock.js'
import {P, unitPath} from './paths.js'

type Op =
  | {op: 'delete'; rel: string; trash: string}
  | {op: 'write'; rel: string; staged: string}
  | {op: 'mkdir'; rel: string}

interface Journal {
  formatVersion: 1
  command: string
  ops: Op[]
}

export class NeedsRecoverError extends UnitBusyError {
  constructor(unit: string) {
    super(`An operation on this unit was interrupted and is not finished (${P.journal} is present).`, {
      actions: [`Run: xway image recover ${unit}`],
    })
  }
}

export function hasJournal(unit: string): boolean {
  return existsSync(unitPath(unit, P.journal))
}

export function assertNoJournal(unit: string): void {
  if (!hasJournal(unit)) return
  // a journal under a live writer's lock is work in progress, not an interrupted operation
  const owner = liveLockOwner(unit)
  if (owner && owner.pid !== process.pid) throw lockedError(owner)
  throw new NeedsRecoverError(unit)
}

/** Test hook: widens the window between applied operations so that crash tests can land inside it. */
function opDelay(): void {
  const ms = Number(process.env.XWAY_TEST_OP_DELAY_MS ?? 0)
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * The changes of one command to one unit. Nothing touches the unit until commit(): files are
 * staged under var/lib/xway/txn, the journal's atomic rename is the commit point, and replaying
 * the journal (image recover) is idempotent. Deletes move whole trees aside (rename), so large
 * files are never copied.
 */
export class UnitTransaction {
  private readonly ops: Array<{op: 'delete' | 'mkdir'; rel: string} | {op: 'write'; rel: string; data?: Buffer; mode: number; stagedPath?: string}> = []
  private readonly auditEntries: Record<string, unknown>[] = []
  private counter = 0
  readonly txnDir: string

  constructor(readonly unit: string, readonly command: string) {
    this.txnDir = unitPath(unit, P.txnDir)
  }

  get empty(): boolean {
    return this.ops.length === 0
  }

  get plannedOps(): ReadonlyArray<{op: string; rel: string}> {
    return this.ops
  }

  write(rel: string, data: Buffer | string, mode = 0o644): void {
    this.ops.push({op: 'write', rel, data: typeof data === 'string' ? Buffer.from(data) : data, mode})
  }

  writeJson(rel: string, value: unknown, mode = 0o644): void {
    this.write(rel, JSON.stringify(value, null, 2) + '\n', mode)
  }

  /** Deletes a file or a whole directory (moved aside at commit, then removed). */
  delete(rel: string): void {
    this.ops.push({op: 'delete', rel})
  }

  /** A path in the staging area that the caller fills (for streamed content); it lands at rel on commit. */
  stage(rel: string): string {
    const name = `s${this.counter++}`
    const path = join(this.txnDir, 'staged', name)
    mkdirSync(dirname(path), {recursive: true})
    this.ops.push({op: 'write', rel, mode: -1, stagedPath: path})
    return path
  }

  /** Creates an (empty) directory, e.g. the log folder after its old one was deleted. */
  mkdir(rel: string): void {
    this.ops.push({op: 'mkdir', rel})
  }

  audit(entry: Record<string, unknown>): void {
    this.auditEntries.push(entry)
  }

  commit(): void {
    if (this.ops.length === 0) return
    if (this.auditEntries.length > 0) {
      const auditPath = unitPath(this.unit, P.audit)
      const previous = existsSync(auditPath) ? readFileSync(auditPath) : Buffer.alloc(0)
      const lines = this.auditEntries.map((e) => JSON.stringify({at: now().toISOString(), command: this.command, ...e}) + '\n').join('')
      this.write(P.audit, Buffer.concat([previous, Buffer.from(lines)]), 0o644)
    }
    const stagedDir = join(this.txnDir, 'staged')
    mkdirSync(stagedDir, {recursive: true})
    const journal: Journal = {formatVersion: 1, command: this.command, ops: []}
    for (const op of this.ops) {
      if (op.op === 'delete') {
        journal.ops.push({op: 'delete', rel: op.rel, trash: `t${this.counter++}`})
        continue
      }
      if (op.op !== 'write') {
        journal.ops.push({op: 'mkdir', rel: op.rel})
        continue
      }
      if (op.stagedPath) {
        fsyncPath(op.stagedPath)
        journal.ops.push({op: 'write', rel: op.rel, staged: `staged/${op.stagedPath.split('/').pop()}`})
        continue
      }
      const name = `s${this.counter++}`
      writeFileDurable(join(stagedDir, name), op.data!, op.mode)
      journal.ops.push({op: 'write', rel: op.rel, staged: `staged/${name}`})
    }
    fsyncPath(stagedDir)
    const journalPath = unitPath(this.unit, P.journal)
    writeFileDurable(`${journalPath}.tmp`, JSON.stringify(journal))
    renameSync(`${journalPath}.tmp`, journalPath) // the commit point
    fsyncPath(dirname(journalPath))
    replay(this.unit, journal)
  }
}

/** Applies a committed journal; every step is idempotent, so replaying after a crash finishes the work. */
function replay(unit: string, journal: Journal): void {
  const txnDir = unitPath(unit, P.txnDir)
  mkdirSync(join(txnDir, 'trash'), {recursive: true})
  const touched = new Set<string>()
  for (const op of journal.ops) {
    opDelay()
    const target = unitPath(unit, op.rel)
    if (op.op === 'delete') {
      const trash = join(txnDir, 'trash', op.trash)
      if (existsSync(trash)) continue
      if (existsSync(target) || isDanglingLink(target)) {
        renameSync(target, trash)
        touched.add(dirname(target))
      }
    } else if (op.op === 'mkdir') {
      mkdirSync(target, {recursive: true})
      touched.add(dirname(target))
    } else {
      const staged = join(txnDir, op.staged)
      if (!existsSync(staged)) continue
      mkdirSync(dirname(target), {recursive: true})
      renameSync(staged, target)
      touched.add(dirname(target))
    }
  }
  for (const dir of touched) fsyncPath(dir)
  const journalPath = unitPath(unit, P.journal)
  unlinkSync(journalPath)
  fsyncPath(dirname(journalPath))
  discardTrash(unit, join(txnDir, 'trash'))
  rmSync(txnDir, {recursive: true, force: true})
}

/**
 * What a commit deleted (e.g. a reset's dropped logs) leaves the unit's state by one rename into the
 * transient trash folder and is removed there by a detached process: unlinking gigabytes takes time
 * that grows with their size, and a commit must not (SPEC 8, factory reset with 2 GB of logs).
 */
/** Deletions larger than this are removed by a detached process after the commit. */
const BACKGROUND_REMOVAL_BYTES = 64 * 1024 * 1024

function discardTrash(unit: string, trash: string): void {
  try {
    if (readdirSync(trash).length === 0) return
    // small deletions are finished here, so that the unit is settled when the command returns
    if (walk(trash).reduce((n, e) => n + e.stat.size, 0) < BACKGROUND_REMOVAL_BYTES) return
    const dest = join(unitPath(unit, P.trashDir), `${process.pid}-${Date.now()}`)
    mkdirSync(dirname(dest), {recursive: true})
    renameSync(trash, dest)
    spawn(process.execPath, ['-e', 'require("fs").rmSync(process.argv[1], {recursive: true, force: true})', dest], {detached: true, stdio: 'ignore'}).unref()
  } catch {
    // the caller's rmSync of the staging area removes it in place
  }
}

function isDanglingLink(path: string): boolean {
  // existsSync follows links; lstat sees a dangling one too
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

export interface RecoverResult {
  recovered: boolean
  action: 'none' | 'rolled-forward' | 'rolled-back'
  command: string | null
}

/** Finishes (journal committed) or rolls back (only staging left) an interrupted operation. */
export function recoverUnit(unit: string): RecoverResult {
  const lock = acquireUnitLock(unit, 'image recover')
  try {
    const journalPath = unitPath(unit, P.journal)
    const txnDir = unitPath(unit, P.txnDir)
    if (existsSync(journalPath)) {
      const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as Journal
      replay(unit, journal)
      return {recovered: true, action: 'rolled-forward', command: journal.command}
    }
    const leftovers = existsSync(txnDir) || existsSync(`${journalPath}.tmp`)
    rmSync(txnDir, {recursive: true, force: true})
    rmSync(`${journalPath}.tmp`, {force: true})
    rmSync(unitPath(unit, P.trashDir), {recursive: true, force: true}) // a background removal cut short
    return leftovers ? {recovered: true, action: 'rolled-back', command: null} : {recovered: false, action: 'none', command: null}
  } finally {
    lock.release()
  }
}

/**
 * The one way to change a unit: lock, refuse an unfinished journal, let `build` read the unit and
 * record changes (a throw there changes nothing), then commit atomically.
 */
export async function changeUnit<T>(unit: string, command: string, build: (tx: UnitTransaction) => Promise<T> | T): Promise<T> {
  const lock = acquireUnitLock(unit, command)
  try {
    assertNoJournal(unit)
    const txnDir = unitPath(unit, P.txnDir)
    rmSync(txnDir, {recursive: true, force: true})
    const tx = new UnitTransaction(unit, command)
    let result: T
    try {
      result = await build(tx)
    } catch (error) {
      rmSync(txnDir, {recursive: true, force: true})
      throw error
    }
    tx.commit()
    return result
  } finally {
    lock.release()
  }
}
