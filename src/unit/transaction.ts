import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {now} from '../clock.js'
import {BadInputError, UnitBusyError} from '../errors.js'
import {lockedError} from './lock.js'
import type {StoreOp, UnitStore} from './store.js'
import {TOOL} from './tool-paths.js'

export class NeedsRecoverError extends UnitBusyError {
  constructor(unit: string, command: string | null = null) {
    super(`An operation on this unit was interrupted and is not finished${command ? ` (${command})` : ''}.`, {
      actions: [`Run: xway image recover ${unit}`],
    })
  }
}

/**
 * The changes of one command to one unit, recorded in order. Nothing touches the unit until
 * commit(), which hands them to the unit's store: one atomic commit (a throw before it changes
 * nothing). Audit entries are appended to var/lib/xway/audit.jsonl in the same commit.
 */
export class UnitTransaction {
  private readonly ops: StoreOp[] = []
  private readonly auditEntries: Record<string, unknown>[] = []
  private counter = 0
  private scratchRoot: string | null = null

  constructor(readonly store: UnitStore, readonly command: string) {}

  get empty(): boolean {
    return this.ops.length === 0
  }

  get plannedOps(): ReadonlyArray<StoreOp> {
    return this.ops
  }

  write(rel: string, data: Buffer | string, mode = 0o644): void {
    this.ops.push({op: 'write', rel, data: typeof data === 'string' ? Buffer.from(data) : data, mode})
  }

  writeJson(rel: string, value: unknown, mode = 0o644): void {
    this.write(rel, JSON.stringify(value, null, 2) + '\n', mode)
  }

  /** Deletes a file, link or whole folder (moved aside at commit, never copied). */
  delete(rel: string): void {
    this.ops.push({op: 'delete', rel})
  }

  /** Creates a folder (and missing parents), e.g. the log folder after its old one was deleted. */
  mkdir(rel: string, mode = 0o755): void {
    this.ops.push({op: 'mkdir', rel, mode})
  }

  symlink(rel: string, target: string): void {
    this.ops.push({op: 'symlink', rel, target})
  }

  /** A folder on the host for this transaction's streamed content (inside the store's scratch area). */
  scratch(name: string): string {
    this.scratchRoot ??= this.store.scratch()
    const dir = join(this.scratchRoot, name)
    mkdirSync(dir, {recursive: true})
    return dir
  }

  /** A host path the caller fills (streamed content); the file lands at rel on commit. */
  stage(rel: string, mode = 0o644): string {
    const path = join(this.scratch('files'), `f${this.counter++}`)
    this.ops.push({op: 'write-file', rel, source: path, mode})
    return path
  }

  /** A file the caller already wrote inside scratch(); it lands at rel on commit. */
  writeFrom(rel: string, source: string, mode: number): void {
    this.ops.push({op: 'write-file', rel, source, mode})
  }

  audit(entry: Record<string, unknown>): void {
    this.auditEntries.push(entry)
  }

  async commit(): Promise<void> {
    if (this.ops.length === 0) return
    const ops = [...this.ops]
    if (this.auditEntries.length > 0) {
      const lines = this.auditEntries.map((e) => JSON.stringify({at: now().toISOString(), command: this.command, ...e}) + '\n').join('')
      ops.push({op: 'append', rel: TOOL.audit, data: Buffer.from(lines)})
    }
    await this.store.commit(this.command, ops)
  }
}

/** Refuses a store whose last commit was interrupted (every command but `image recover`). */
export function assertNoPendingJournal(store: UnitStore, unitArg: string): void {
  if (!store.hasPendingJournal()) return
  // a journal under a live writer's lock is work in progress, not an interrupted operation
  const owner = store.liveWriter?.()
  if (owner && owner.pid !== process.pid) throw lockedError(owner)
  throw new NeedsRecoverError(unitArg, store.pendingCommand())
}

/** vmdk and ova are distribution formats: changing commands refuse them. */
export function assertWritable(store: UnitStore, unitArg: string): void {
  if (store.writable) return
  throw new BadInputError(`${unitArg} is a ${store.kind} file, a format for distribution: xway reads it but does not change it.`, {
    actions: [`Import it as a unit first: xway image import ${unitArg} UNIT, then run the command on UNIT.`],
  })
}

/**
 * The one way to change a store: lock, refuse an unfinished journal, let `build` read the store
 * and record changes (a throw there changes nothing), then commit atomically.
 */
export async function changeStore<T>(store: UnitStore, unitArg: string, command: string, build: (tx: UnitTransaction) => Promise<T> | T): Promise<T> {
  assertWritable(store, unitArg)
  const lock = store.lock(command)
  try {
    assertNoPendingJournal(store, unitArg)
    store.discardScratch()
    const tx = new UnitTransaction(store, command)
    let result: T
    try {
      result = await build(tx)
    } catch (error) {
      store.discardScratch()
      throw error
    }
    try {
      await tx.commit()
    } catch (error) {
      // past the commit point the journal needs its staged files: `image recover` finishes the work
      if (!store.hasPendingJournal()) store.discardScratch()
      throw error
    }
    return result
  } finally {
    lock.release()
  }
}
