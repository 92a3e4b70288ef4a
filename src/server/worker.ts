import {XwayError} from '../errors.js'
import type {WorkerMessage} from './cluster.js'
import {startLicenseServer, type RunningServer} from './http.js'

// The entry point of one worker process of `license-server start --workers N` (cluster.ts
// forks it). It serves until the primary says stop, or goes away: it never outlives it.
// Signals from a terminal reach every process of the group; the primary alone decides, so
// the worker ignores SIGINT and SIGTERM and waits for its word.

let server: RunningServer | null = null
let stopping = false

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) {
      resolve()
      return
    }
    process.send!(message, undefined, {}, () => resolve())
  })
}

/** Stops serving (in-flight requests finish within graceMs), reports the counts, exits. */
async function stop(graceMs: number): Promise<never> {
  if (!stopping) {
    stopping = true
    if (server) {
      await server.close(graceMs)
      await send({type: 'stopped', requests: server.stats.requests, errors: server.stats.errors})
    }
    process.exit(0)
  }
  return new Promise<never>(() => {})
}

process.on('SIGINT', () => {})
process.on('SIGTERM', () => {})
process.on('disconnect', () => void stop(2_000))

process.on('message', (message: WorkerMessage) => {
  if (message.type === 'start') {
    startLicenseServer(message.dir, {
      host: message.host, port: message.port, maxBodyBytes: message.maxBodyBytes,
      ticketKeys: Buffer.from(message.ticketKeys, 'base64'), migrated: true,
    }).then((running) => {
      server = running
      void send({type: 'listening', port: running.port})
    }, async (err: unknown) => {
      const e = err instanceof XwayError ? err : new XwayError('failed', err instanceof Error ? err.message : String(err))
      await send({type: 'failed', code: e.code, message: e.message, actions: e.actions})
      process.exit(1)
    })
  } else if (message.type === 'stop') {
    void stop(message.graceMs)
  }
})
void send({type: 'ready'})
