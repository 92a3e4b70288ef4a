import Database from 'better-sqlite3'
import {BadInputError} from '../errors.js'
import type {SqlDatabase, SqlRunner, TransactionOptions} from './sql.js'

// The license store's SQLite database: one file in the server folder that the HTTPS server
// (every worker process) and the admin commands open at the same time. WAL: readers never
// block the writer; synchronous FULL: a commit is on disk (fsync of the WAL) before the reply
// that reports it is sent; busy_timeout: a writer waits for another process's write lock
// instead of failing. Every write is an IMMEDIATE transaction: it takes the write lock first,
// so what it reads is the latest commit, and writers of all processes are serialized.

const BUSY_TIMEOUT_MS = 10_000

type Statement = Database.Statement<unknown[], unknown>

function bindable(params: readonly unknown[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p))
}

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const
  readonly db: Database.Database
  private readonly statements = new Map<string, Statement>()
  /** one connection per process: its transactions run one after another, in arrival order */
  private queue: Promise<unknown> = Promise.resolve()
  private readonly runner: SqlRunner

  constructor(path: string, options: {create?: boolean} = {}) {
    try {
      this.db = new Database(path, {fileMustExist: options.create !== true})
    } catch (err) {
      throw new BadInputError(`${path} cannot be opened as a license server database: ${(err as Error).message}.`)
    }
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
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

  transaction<T>(fn: (q: SqlRunner) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const run = async (): Promise<T> => {
      this.db.exec(options.readOnly ? 'BEGIN DEFERRED' : 'BEGIN IMMEDIATE')
      try {
        const result = await fn(this.runner)
        this.db.exec('COMMIT')
        return result
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw err
      }
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => undefined)
    return result
  }

  async close(): Promise<void> {
    await this.queue
    if (this.db.open) this.db.close()
  }
}
