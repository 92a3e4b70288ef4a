import cluster, {type Worker} from 'node:cluster'
import {randomBytes} from 'node:crypto'
import {fileURLToPath} from 'node:url'
import {FailedError, UsageError, XwayError, type ErrorCode} from '../errors.js'
import {TRANSPORT_PATH} from '../licensing/protocol.js'
import {openServingStore, type RunningServer, type ServerOptions} from './http.js'

// `license-server start DIR --workers N`: N processes serve one port (node:cluster: the
// primary opens the listening socket, and every worker accepts connections on it). The
// primary applies the migrations once, then forks the workers; each opens its own store
// (SQLite: the same file; PostgreSQL: its own connections) and serves. A worker that dies
// (kill -9 included) is replaced; what it had committed stays, what it had not is rolled
// back by the database. The workers share TLS session ticket keys, so a session made with
// one is resumed by any.

export interface ClusterOptions extends ServerOptions {
  workers: number
}

/** Messages between the primary and its workers. */
export type WorkerMessage =
  | {type: 'ready'}
  | {type: 'start'; dir: string; host: string; port: number; maxBodyBytes?: number; ticketKeys: string}
  | {type: 'stop'; graceMs: number}
  | {type: 'listening'; port: number}
  | {type: 'failed'; code: ErrorCode; message: string; actions: string[]}
  | {type: 'stopped'; requests: number; errors: number}

export const MAX_WORKERS = 64
/** A worker that keeps dying within this long of its start is not replaced again and again. */
const RESTART_WINDOW_MS = 10_000
const MAX_QUICK_RESTARTS = 5

function workerModule(): string {
  // dist/src/server/worker.js when built; src/server/worker.ts under tsx (tests)
  const here = fileURLToPath(import.meta.url)
  return here.replace(/cluster\.(ts|js)$/, (_, ext: string) => `worker.${ext}`)
}

function failure(message: Extract<WorkerMessage, {type: 'failed'}>): XwayError {
  return new XwayError(message.code, message.message, {actions: message.actions})
}

export async function startLicenseServerCluster(dir: string, options: ClusterOptions): Promise<RunningServer> {
  const count = options.workers
  if (!Number.isInteger(count) || count < 1 || count > MAX_WORKERS) throw new UsageError(`--workers ${count}: from 1 to ${MAX_WORKERS} processes.`)
  const host = options.host ?? '127.0.0.1'
  const requestedPort = options.port ?? 8443
  let port = requestedPort
  if (!Number.isInteger(requestedPort) || requestedPort < 0 || requestedPort > 65535) throw new UsageError(`--port ${requestedPort} is not a TCP port (0 to 65535; 0 picks a free one).`)
  // the migrations once, before any worker serves; the folder and its database checked here
  await (await openServingStore(dir)).close()

  const ticketKeys = randomBytes(48).toString('base64')
  // the workers accept connections themselves from the one listening socket (the kernel hands
  // each to one of them): the primary's round robin would pass every connection over IPC,
  // which cost the workers about a tenth of their time
  cluster.schedulingPolicy = cluster.SCHED_NONE
  cluster.setupPrimary({exec: workerModule(), args: [], execArgv: process.execArgv})
  const stats = {requests: 0, errors: 0, byWorker: [] as number[]}
  const workers = new Set<Worker>()
  let closing = false
  const quickRestarts: number[] = []

  const fork = (): Promise<{worker: Worker; port: number}> => new Promise((resolve, reject) => {
    const worker = cluster.fork({XWAY_LICENSE_SERVER_WORKER: '1'})
    const startedAt = Date.now()
    workers.add(worker)
    let ready = false
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        // the worker listens for messages only once its module has loaded: it says so first
        worker.send({type: 'start', dir, host, port: requestedPort, maxBodyBytes: options.maxBodyBytes, ticketKeys} satisfies WorkerMessage)
      } else if (message.type === 'listening') {
        ready = true
        resolve({worker, port: message.port})
      } else if (message.type === 'failed') {
        reject(failure(message))
      } else if (message.type === 'stopped') {
        stats.requests += message.requests
        stats.errors += message.errors
        stats.byWorker.push(message.requests)
      }
    })
    worker.on('exit', () => {
      workers.delete(worker)
      if (!ready) {
        reject(new FailedError('A license server worker process exited before it was ready.'))
        return
      }
      if (closing) return
      // replace it, unless workers keep dying right after they start
      const now = Date.now()
      if (now - startedAt < RESTART_WINDOW_MS) quickRestarts.push(now)
      while (quickRestarts.length > 0 && now - quickRestarts[0]! > RESTART_WINDOW_MS) quickRestarts.shift()
      if (quickRestarts.length <= MAX_QUICK_RESTARTS) fork().catch(() => {})
    })
  })

  const stopAll = async (graceMs: number): Promise<void> => {
    closing = true
    const exits = [...workers].map((worker) => new Promise<void>((resolve) => {
      if (worker.isDead()) {
        resolve()
        return
      }
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 5_000)
      worker.once('exit', () => {
        clearTimeout(kill)
        resolve()
      })
      try {
        worker.send({type: 'stop', graceMs} satisfies WorkerMessage)
      } catch {
        worker.process.kill('SIGKILL')
      }
    }))
    await Promise.all(exits)
  }

  try {
    // every worker asks the primary for the same address (with port 0 as well: the primary
    // picks one free port the first time and hands that socket to every worker after)
    const first = await fork()
    const others = await Promise.all(Array.from({length: count - 1}, () => fork()))
    if (others.some((w) => w.port !== first.port)) throw new FailedError('The license server workers did not get one port.')
    port = first.port
  } catch (err) {
    await stopAll(1_000)
    throw err
  }
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closed: Promise<void> | undefined
  return {
    host,
    port,
    url: `https://${urlHost}:${port}${TRANSPORT_PATH}`,
    stats,
    close(graceMs = 10_000): Promise<void> {
      closed ??= stopAll(graceMs)
      return closed
    },
  }
}
