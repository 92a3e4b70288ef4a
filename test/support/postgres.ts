// A private PostgreSQL server for one test file: initdb in a temp folder, listening on
// 127.0.0.1 only (its unix socket in that folder too), a superuser with a random password
// (TCP logins need it: scram-sha-256), stopped and removed at the end. As root, initdb and
// postgres run as the `postgres` user (they refuse root), the folder chowned to it. Every
// wait is bounded.
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {chownSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import pg from 'pg'

export const PG_BIN = process.env.XWAY_PG_BIN ?? '/usr/lib/postgresql/15/bin'
const READY_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000

export interface PostgresServer {
  port: number
  user: string
  /** the superuser's password: tests give it to xway through PGPASSWORD only */
  password: string
  /** the environment that lets xway log in: PGPASSWORD */
  env: NodeJS.ProcessEnv
  /** postgres://USER@127.0.0.1:PORT/DB, without password */
  url(database: string): string
  /** a new empty database; resolves with its URL */
  createDatabase(name?: string): Promise<string>
  /** runs SQL as the superuser (tests that look under the store) */
  query<T = Record<string, unknown>>(database: string, sql: string, params?: unknown[]): Promise<T[]>
  /** fast shutdown (clients disconnected), data kept */
  stop(): Promise<void>
  /** serves again on the same port */
  start(): Promise<void>
  running(): boolean
  /** stop and delete everything */
  remove(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      const port = typeof address === 'object' && address ? address.port : 0
      s.close(() => resolve(port))
    })
  })
}

function postgresIds(): {uid: number; gid: number} | null {
  if (process.getuid?.() !== 0) return null
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], {encoding: 'utf8'}).trim())
  return {uid: id('-u'), gid: id('-g')}
}

function chownTree(path: string, ids: {uid: number; gid: number}): void {
  chownSync(path, ids.uid, ids.gid)
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), ids)
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Starts a private server. Call remove() in the file's `after` hook. */
export async function startPostgres(options: {fsync?: boolean} = {}): Promise<PostgresServer> {
  if (!existsSync(join(PG_BIN, 'postgres'))) throw new Error(`PostgreSQL is not installed at ${PG_BIN} (set XWAY_PG_BIN)`)
  const root = mkdtempSync(join(tmpdir(), 'xway-pg-'))
  const data = join(root, 'data')
  const user = 'xway_test'
  const password = `pw-${randomBytes(12).toString('hex')}`
  const ids = postgresIds()
  writeFileSync(join(root, 'pwfile'), password + '\n', {mode: 0o600})
  if (ids) chownTree(root, ids)

  try {
    return await launch(root, data, user, password, ids, options)
  } catch (err) {
    rmSync(root, {recursive: true, force: true})
    throw err
  }
}

async function launch(root: string, data: string, user: string, password: string, ids: {uid: number; gid: number} | null, options: {fsync?: boolean}): Promise<PostgresServer> {
  const spawnOptions = {cwd: root, env: {PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C'}, ...(ids ?? {})}
  execFileSync(join(PG_BIN, 'initdb'), ['-D', data, '-U', user, `--pwfile=${join(root, 'pwfile')}`, '--auth-host=scram-sha-256', '--auth-local=trust',
    '-E', 'UTF8', '--locale=C', '--no-sync'], {...spawnOptions, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000})
  rmSync(join(root, 'pwfile'), {force: true})

  const port = await freePort()
  let child: ChildProcess | null = null
  let log = ''
  const onExit = (): void => { child?.kill('SIGQUIT') }
  process.on('exit', onExit)

  const url = (database: string): string => `postgres://${user}@127.0.0.1:${port}/${database}`
  const connect = async (database: string): Promise<pg.Client> => {
    // fields, not the URL: a URL without password would override the one given beside it
    const client = new pg.Client({host: '127.0.0.1', port, user, database, password, connectionTimeoutMillis: 2_000})
    client.on('error', () => {})
    try {
      await client.connect()
    } catch (err) {
      await client.end().catch(() => {})
      throw err
    }
    return client
  }

  const start = async (): Promise<void> => {
    log = ''
    const c = spawn(join(PG_BIN, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${root}`,
      '-c', `fsync=${options.fsync === true ? 'on' : 'off'}`, '-c', 'max_connections=200', '-c', 'log_min_messages=fatal', '-c', 'logging_collector=off'],
    {...spawnOptions, stdio: ['ignore', 'ignore', 'pipe']})
    child = c
    c.stderr!.on('data', (d) => { if (log.length < 100_000) log += d })
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`postgres exited before it was ready: ${log}`)
      try {
        const client = await connect('postgres')
        await client.end()
        return
      } catch (err) {
        if (Date.now() > deadline) {
          c.kill('SIGQUIT')
          throw new Error(`postgres was not ready within ${READY_TIMEOUT_MS} ms (${(err as Error).message}): ${log.slice(-2000)}`)
        }
        await sleep(100)
      }
    }
  }

  const stop = async (): Promise<void> => {
    const c = child
    if (!c || c.exitCode !== null || c.signalCode !== null) return
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()))
    c.kill('SIGINT')
    const timer = setTimeout(() => c.kill('SIGKILL'), STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
    child = null
  }

  let databases = 0
  try {
    await start()
  } catch (err) {
    process.off('exit', onExit)
    throw err
  }
  return {
    port,
    user,
    password,
    env: {PGPASSWORD: password},
    url,
    async createDatabase(name = `db${++databases}`) {
      const client = await connect('postgres')
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`)
      } finally {
        await client.end()
      }
      return url(name)
    },
    async query<T>(database: string, sql: string, params: unknown[] = []) {
      const client = await connect(database)
      try {
        return (await client.query(sql, params)).rows as T[]
      } finally {
        await client.end()
      }
    },
    stop,
    start,
    running: () => child !== null && child.exitCode === null && child.signalCode === null,
    async remove() {
      await stop()
      process.off('exit', onExit)
      rmSync(root, {recursive: true, force: true})
    },
  }
}

/** The license databases that store tests run the same cases against. */
export type Backend = 'sqlite' | 'postgres'
export const BACKENDS: readonly Backend[] = ['sqlite', 'postgres']

/**
 * One private PostgreSQL server shared by the suites of a test file: started by the first
 * `acquire`, removed by the last `release`. While held, PGPASSWORD is set in this process,
 * as a user would set it, for the admin functions the tests call in-process.
 */
export function sharedPostgres(): {acquire(): Promise<PostgresServer>; release(): Promise<void>} {
  let server: Promise<PostgresServer> | null = null
  let holders = 0
  let previous: string | undefined
  return {
    async acquire() {
      holders++
      if (!server) {
        previous = process.env.PGPASSWORD
        server = startPostgres()
      }
      const s = await server
      process.env.PGPASSWORD = s.password
      return s
    },
    async release() {
      if (--holders > 0 || !server) return
      const s = await server.catch(() => null)
      server = null
      if (previous === undefined) delete process.env.PGPASSWORD
      else process.env.PGPASSWORD = previous
      await s?.remove()
    },
  }
}
