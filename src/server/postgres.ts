import pg from 'pg'
import {BadInputError, FailedError} from '../errors.js'
import {DatabaseUnavailableError, type SqlDatabase, type SqlRunner, type TransactionOptions} from './sql.js'

// The license store's PostgreSQL database, shared by every worker process and every copy of
// the server folder. Writers run at READ COMMITTED and lock the rows they change
// (`SELECT … FOR UPDATE`, in one order, sql-store.ts); a transaction that loses a race
// (deadlock, serialization failure, a key inserted meanwhile) runs again. A lost connection
// is a DatabaseUnavailableError (the server answers 503); the pool opens new connections as
// soon as the database is back. The password is never in the URL: node-postgres takes it
// from PGPASSWORD or the PGPASSFILE (~/.pgpass), or the server needs none.

const CONNECT_TIMEOUT_MS = 5_000
const STATEMENT_TIMEOUT_MS = 15_000
const MAX_ATTEMPTS = 8

const INT8_OID = 20
const NUMERIC_OID = 1700

// COUNT and SUM are BIGINT / NUMERIC in PostgreSQL; every count here fits a double exactly
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format)
  },
} as unknown as pg.CustomTypesConfig

/** Races another transaction can make this one lose; it is run again. */
const RETRY_CODES = new Set(['40001', '40P01', '23505'])

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOENT'])

/** PostgreSQL went away or cannot take this connection now: connection exceptions (08…), shutdowns, too many clients. */
function isConnectionLoss(err: unknown): boolean {
  const code = (err as {code?: unknown})?.code
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08') || ['57P01', '57P02', '57P03', '53300'].includes(code))) return true
  const message = String((err as {message?: unknown})?.message ?? '')
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|not queryable/i.test(message)
}

function isLoginRefused(err: unknown): boolean {
  const code = (err as {code?: unknown})?.code
  return typeof code === 'string' && code.startsWith('28')
}

/** `postgres://USER@HOST:PORT/DB`: checked, never with a password. Returns the URL as given. */
export function checkPostgresUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new BadInputError('--database is not a URL: expected postgres://USER@HOST:PORT/DB.')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new BadInputError(`--database must be a postgres:// URL (postgres://USER@HOST:PORT/DB), not ${url.protocol}//….`)
  }
  if (url.password !== '') {
    // the password is not repeated here: it would reach logs and terminals
    throw new BadInputError('--database carries a password: the license server never stores one in its folder.', {
      actions: ['Give postgres://USER@HOST:PORT/DB and the password in PGPASSWORD or a PGPASSFILE (or let the database authenticate the user otherwise).'],
    })
  }
  if (url.hostname === '' || url.pathname.length <= 1) {
    throw new BadInputError('--database must name a host and a database: postgres://USER@HOST:PORT/DB.')
  }
  return text
}

/** The URL as it may be shown: user, host, port and database. */
export function describePostgresUrl(text: string): string {
  const url = new URL(text)
  return `postgres://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`
}

function unavailable(url: string, err: unknown): DatabaseUnavailableError {
  const where = describePostgresUrl(url)
  if (isLoginRefused(err)) {
    return new DatabaseUnavailableError(`PostgreSQL at ${where} refused the login: ${(err as Error).message}.`, {
      actions: ['Set the password in PGPASSWORD or a PGPASSFILE for the user of the --database URL, or let the database authenticate it otherwise.'],
    })
  }
  return new DatabaseUnavailableError(`The license database (PostgreSQL at ${where}) cannot be reached: ${(err as Error)?.message ?? String(err)}.`)
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const
  private readonly pool: pg.Pool
  private readonly names = new Map<string, {name: string; text: string}>()
  private closed = false

  constructor(private readonly url: string, options: {connections?: number} = {}) {
    checkPostgresUrl(url)
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.connections ?? 4,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      query_timeout: STATEMENT_TIMEOUT_MS + 1_000,
      application_name: 'xway-license-server',
      keepAlive: true,
      types,
    })
    // an idle connection that breaks (the database restarted) leaves the pool; the next transaction opens a new one
    this.pool.on('error', () => {})
  }

  forUpdate(alias?: string): string {
    return alias ? ` FOR UPDATE OF ${alias}` : ' FOR UPDATE'
  }

  /** `?` placeholders become `$1…`, and each statement text gets a name: prepared once per connection. */
  private statement(sql: string): {name: string; text: string} {
    let statement = this.names.get(sql)
    if (!statement) {
      let n = 0
      statement = {name: `xway_${this.names.size}`, text: sql.replace(/\?/g, () => `$${++n}`)}
      this.names.set(sql, statement)
    }
    return statement
  }

  private runner(client: pg.PoolClient): SqlRunner {
    const query = async (sql: string, params: readonly unknown[] = []) => {
      const {name, text} = this.statement(sql)
      return client.query({name, text, values: params as unknown[]})
    }
    return {
      get: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows[0] as T | undefined,
      all: async <T>(sql: string, params?: readonly unknown[]) => (await query(sql, params)).rows as T[],
      run: async (sql: string, params?: readonly unknown[]) => (await query(sql, params)).rowCount ?? 0,
      exec: async (sql: string) => {
        await client.query(sql)
      },
    }
  }

  async transaction<T>(fn: (q: SqlRunner) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    if (this.closed) throw new FailedError('The license database connection is closed.')
    // one statement is atomic by itself: autocommit, no BEGIN and COMMIT
    const alone = options.oneStatement === true
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient
      try {
        client = await this.pool.connect()
      } catch (err) {
        throw unavailable(this.url, err)
      }
      let broken = false
      let begun = false
      try {
        if (!alone) await client.query(options.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN')
        begun = !alone
        const result = await fn(this.runner(client))
        if (!alone) await client.query('COMMIT')
        return result
      } catch (err) {
        broken = isConnectionLoss(err)
        if (!broken && !alone) {
          try {
            await client.query('ROLLBACK')
          } catch {
            broken = true
          }
        }
        // a kept connection that died while idle (the database restarted): once more on a new one
        if (broken && !begun && attempt === 1) continue
        if (broken) throw unavailable(this.url, err)
        const code = (err as {code?: unknown})?.code
        if (!alone && typeof code === 'string' && RETRY_CODES.has(code) && attempt < MAX_ATTEMPTS) {
          await pause(Math.random() * 5 * attempt)
          continue
        }
        throw err
      } finally {
        client.release(broken)
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }
}
