import {FailedError, type XwayErrorOptions} from '../errors.js'

// What the license store needs of a SQL database, so that one store (sql-store.ts) runs on
// SQLite (sqlite.ts) and on PostgreSQL (postgres.ts). Statements use `?` placeholders and
// the SQL both dialects share; the few differences are the database's properties below.

export type Dialect = 'sqlite' | 'postgres'

export interface SqlRunner {
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>
  /** resolves with the number of rows changed */
  run(sql: string, params?: readonly unknown[]): Promise<number>
  /** several statements, no parameters (migrations) */
  exec(sql: string): Promise<void>
}

export interface TransactionOptions {
  /** reads only: one consistent snapshot, no write lock */
  readOnly?: boolean
  /** fn runs a single statement, atomic by itself: no BEGIN and COMMIT around it (PostgreSQL: two round trips saved) */
  oneStatement?: boolean
}

export interface SqlDatabase {
  readonly dialect: Dialect
  /**
   * Appended to a SELECT whose rows the transaction goes on to change: PostgreSQL locks those
   * rows (`FOR UPDATE OF alias`) until commit; SQLite needs nothing, its IMMEDIATE
   * transaction holds the database's write lock from the start.
   */
  forUpdate(alias?: string): string
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws.
   * A transaction that lost a race with another process (serialization failure, deadlock,
   * a unique key inserted meanwhile) is run again from the start, a bounded number of times.
   */
  transaction<T>(fn: (q: SqlRunner) => Promise<T>, options?: TransactionOptions): Promise<T>
  close(): Promise<void>
}

/** The database cannot be reached or cannot serve now: the license server answers 503 until it is back. */
export class DatabaseUnavailableError extends FailedError {
  constructor(message: string, options?: XwayErrorOptions) {
    super(message, {actions: ['Check that the database server runs and accepts connections from here; the license server serves again as soon as it does.'], ...options})
  }
}

/** A CHECK constraint refused a change: the counters' last line of defence (never negative, never above owned). */
export function isCheckViolation(err: unknown): boolean {
  const code = (err as {code?: unknown})?.code
  return code === 'SQLITE_CONSTRAINT_CHECK' || code === '23514'
}
