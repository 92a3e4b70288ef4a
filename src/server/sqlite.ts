import Database from 'better-sqlite3'
import {open, type FileHandle} from 'node:fs/promises'
import {BadInputError} from '../errors.js'
import type {SqlDatabase, SqlRunner, TransactionOptions} from './sql.js'

// The license store's SQLite database: one file in the server folder that the HTTPS server
// (every worker process) and the admin commands open at the same time. WAL: readers never
// block the writer. A commit is on disk before the reply that reports it is sent: SQLite's
// synchronous=FULL would fsync the WAL inside COMMIT, stopping the whole process for it;
// here SQLite writes the WAL (synchronous=NORMAL) and this module fsyncs the WAL file itself,
// in the background, before it reports the commit, and commits made meanwhile share that
// fsync (group commit). busy_timeout: a writer waits for another process's write lock
// instead of failing. Every write is an IMMEDIATE transaction: it takes the write lock first,
// so what it reads is the latest commit, and writers of all processes are serialized.

const BUSY_TIMEOUT_MS = 10_000

type Statement = Database.Statement<unknown[], unknown>

interface Job {
  fn: (q: SqlRunner) => Promise<unknown>
  readOnly: boolean
  resolve: (value: unknown) => void
  reject: (err: unknown) => void
}

/** At most this many transactions share one commit. */
const MAX_GROUP = 64

function bindable(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p))
}

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const
  readonly db: Database.Database
  private readonly statements = new Map<string, Statement>()
  /** one connection per process: the transactions waiting for it, in arrival order */
  private readonly pending: Job[] = []
  private scheduled = false
  private readonly runner: SqlRunner
  private readonly walPath: string
  private wal: FileHandle | null = null
  /** the WAL fsync not started yet, that every commit since the last one started waits for */
  private nextSync: Promise<void> | null = null
  private syncs: Promise<unknown> = Promise.resolve()
  private inFlight = 0

  constructor(path: string, options: {create?: boolean} = {}) {
    try {
      this.db = new Database(path, {fileMustExist: options.create !== true})
    } catch (err) {
      throw new BadInputError(`${path} cannot be opened as a license server database: ${(err as Error).message}.`)
    }
    this.walPath = `${path}-wal`
    this.db.pragma('journal_mode = WAL')
    // durability comes from durable() below: the WAL fsynced before a commit is reported
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    this.db.pragma('foreign_keys = ON')
    const prepared = (sql: string): Statement => {
      let statement = this.statements.get(sql)
      if (!statement) {
        statement = this.db.prepare(sql)
        this.statements.set(sql, statement)
      }
      return statement
    }
    this.runner = {
      get: async <T>(sql: string, params: readonly unknown[] = []) => prepared(sql).get(...bindable(params)) as T | undefined,
      all: async <T>(sql: string, params: readonly unknown[] = []) => prepared(sql).all(...bindable(params)) as T[],
      run: async (sql: string, params: readonly unknown[] = []) => prepared(sql).run(...bindable(params)).changes,
      exec: async (sql: string) => {
        this.db.exec(sql)
        // the schema changed: statements prepared before may name what is gone
        this.statements.clear()
      },
    }
  }

  forUpdate(): string {
    return ''
  }

  /**
   * Transactions of this process run one after another, in arrival order. Those that arrive
   * together (in one turn of the event loop: the requests whose bodies came in at once) run
   * in one SQLite transaction, each in its own savepoint, and are acknowledged together
   * after its one commit: one fsync for the group instead of one each (group commit). Each
   * still sees the effects of those before it, and one that fails is rolled back alone.
   */
  transaction<T>(fn: (q: SqlRunner) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({fn, readOnly: options.readOnly === true, resolve: resolve as (value: unknown) => void, reject})
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => void this.drain())
      }
    })
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_GROUP)
      const done: Array<{job: Job; value: unknown}> = []
      try {
        this.db.exec(batch.every((job) => job.readOnly) ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE')
      } catch (err) {
        for (const job of batch) job.reject(err)
        continue
      }
      let lost: unknown = null
      for (const [i, job] of batch.entries()) {
        this.db.exec('SAVEPOINT job')
        try {
          const value = await job.fn(this.runner)
          this.db.exec('RELEASE job')
          done.push({job, value})
        } catch (err) {
          job.reject(err)
          if (this.db.inTransaction) {
            this.db.exec('ROLLBACK TO job')
            this.db.exec('RELEASE job')
          } else {
            // SQLite rolled the whole transaction back (I/O error, disk full): the group is lost;
            // those not run yet wait for the next one
            lost = err
            this.pending.unshift(...batch.slice(i + 1))
            break
          }
        }
      }
      if (lost !== null) {
        for (const {job} of done) job.reject(lost)
        continue
      }
      try {
        this.db.exec('COMMIT')
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        for (const {job} of done) job.reject(err)
        continue
      }
      if (batch.every((job) => job.readOnly)) {
        for (const {job, value} of done) job.resolve(value)
        continue
      }
      // reported once on disk; the next group goes on meanwhile
      this.inFlight++
      this.durable().then(
        () => { for (const {job, value} of done) job.resolve(value) },
        (err: unknown) => { for (const {job} of done) job.reject(err) },
      ).finally(() => this.inFlight--)
    }
    this.scheduled = false
  }

  /** Resolves once an fsync of the WAL that started after this call has finished. */
  private durable(): Promise<void> {
    if (this.nextSync) return this.nextSync
    const sync = this.syncs.then(async () => {
      this.nextSync = null
      try {
        this.wal ??= await open(this.walPath, 'r')
      } catch (err) {
        // no WAL: the last connection checkpointed it into the database (synced) and removed it
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
        throw err
      }
      await this.wal.datasync()
    })
    this.nextSync = sync
    this.syncs = sync.catch(() => undefined)
    return sync
  }

  async close(): Promise<void> {
    while (this.scheduled || this.pending.length > 0 || this.inFlight > 0) await new Promise((resolve) => setImmediate(resolve))
    await this.syncs
    await this.wal?.close()
    this.wal = null
    if (this.db.open) this.db.close()
  }
}
