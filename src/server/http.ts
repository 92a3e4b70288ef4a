import {createServer, type Server} from 'node:https'
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Socket} from 'node:net'
import type {TLSSocket} from 'node:tls'
import {BadInputError, FailedError, RefusedError, UsageError, XwayError} from '../errors.js'
import {now} from '../clock.js'
import {LicenseServerError, MAX_REQUEST_BYTES, TRANSPORT_PATH} from '../licensing/protocol.js'
import {TLS_CIPHERS, TLS_MIN_VERSION} from '../licensing/transport-security.js'
import {IDENTITY_CERT_DAYS, certificateStart, checkStoreOwner, loadServerFiles, openServerStore, tokenHash} from './admin.js'
import {answerRequest} from './onprem.js'
import {ONPREM_PATHS} from './onprem-client.js'
import {handle, type ServerContext} from './handlers.js'
import {identityAuthority} from './identity-certificate.js'
import {handlePortal, isPortalPath} from './portal/portal.js'
import {DatabaseUnavailableError} from './sql.js'
import type {LicenseStore} from './store.js'

// The license server: HTTPS only (TLS 1.3, or 1.2 with ECDHE and AEAD suites), one endpoint
// (POST /SmartTransport), JSON in and out. The TLS handshake asks for a client certificate:
// registered agents present their identity certificate, `register` needs none. Each request
// is one store transaction; they are applied in the order their bodies arrive (SQLite: one
// after another; PostgreSQL: row locks granted in turn): that is the "arrival order" of
// authorization reports. A store that lost its database answers 503 until it is back.

export interface ServerOptions {
  host?: string
  port?: number
  maxBodyBytes?: number
  /** TLS session ticket keys (48 bytes) shared by the worker processes of one server, so that any of them resumes a session */
  ticketKeys?: Buffer
  /** the database is already migrated (a cluster's primary did it): do not migrate again */
  migrated?: boolean
  /** PostgreSQL connections of this process */
  connections?: number
}

export interface RunningServer {
  host: string
  port: number
  url: string
  /** requests answered so far, and how many of them were errors; with workers, what each worker that stopped cleanly answered */
  stats: {requests: number; errors: number; byWorker?: number[]}
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), closes the database. */
  close(graceMs?: number): Promise<void>
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

function sendError(res: ServerResponse, err: LicenseServerError, extraHeaders: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(extraHeaders)) res.setHeader(k, v)
  sendJson(res, err.httpStatus, err.toBody())
}

/** Retry after this many seconds when the database is gone (the agent itself retries in 15 minutes). */
const UNAVAILABLE_RETRY_AFTER_S = 30

/** Opens the folder's store for serving: migrations applied (unless done already), and the database checked to be this folder's. */
export async function openServingStore(dir: string, options: {migrated?: boolean; connections?: number} = {}): Promise<LicenseStore> {
  const files = loadServerFiles(dir)
  const store = await openServerStore(dir, {mode: options.migrated ? 'current' : 'migrate', connections: options.connections})
  try {
    await checkStoreOwner(store, files)
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (Number.isFinite(declared) && declared > limit) {
      reject(new LicenseServerError('too-large', `Request bodies are limited to ${limit} bytes.`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    req.on('data', (chunk: Buffer) => {
      if (failed) return
      size += chunk.length
      if (size > limit) {
        failed = true
        reject(new LicenseServerError('too-large', `Request bodies are limited to ${limit} bytes.`))
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => { if (!failed) resolve(Buffer.concat(chunks, size)) })
    req.on('error', (err) => { if (!failed) { failed = true; reject(err) } })
  })
}

export async function startLicenseServer(dir: string, options: ServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 8443
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${port} is not a TCP port (0 to 65535; 0 picks a free one).`)
  const limit = options.maxBodyBytes ?? MAX_REQUEST_BYTES
  const files = loadServerFiles(dir)
  const store = await openServingStore(dir, {migrated: options.migrated, connections: options.connections ?? 10})
  // this process's identity CA: it outlives, by a year of uptime, the identity certificates it issues
  const issuer = identityAuthority({caPem: files.caPem, caKey: files.caKey}, {notBefore: certificateStart(), days: IDENTITY_CERT_DAYS + 366})
  const ctx: ServerContext = {store, issuer}
  const stats = {requests: 0, errors: 0}
  let closing = false

  // the On-Prems' endpoints (SPEC 10 "On-Prem", connected): their signed requests, answered as `sync answer` does
  const onPremEndpoint = async (path: string, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      throw new LicenseServerError('method-not-allowed', `${path} takes POST only.`)
    }
    const raw = (await readBody(req, limit)).toString('utf8')
    try {
      if (files.config.onPrem) throw new RefusedError('This license server is an On-Prem, not a CSSM.')
      if (path === ONPREM_PATHS.sync) {
        sendJson(res, 200, (await answerRequest(dir, raw, 'the request')).file)
        return
      }
      let body: {virtualAccount?: unknown; token?: unknown}
      try {
        body = JSON.parse(raw) as typeof body
      } catch {
        throw new BadInputError('The request body is not JSON.')
      }
      if (typeof body?.virtualAccount !== 'string' || typeof body.token !== 'string') throw new BadInputError('Expected {"virtualAccount", "token"}.')
      let token
      try {
        token = await store.checkToken(tokenHash(body.token), now())
      } catch (err) {
        if (err instanceof LicenseServerError) throw new BadInputError(`The token is refused: ${err.message}`)
        throw err
      }
      if (token.va !== body.virtualAccount) throw new BadInputError(`The token belongs to virtual account ${token.va}, not ${body.virtualAccount}.`)
      sendJson(res, 200, {ok: true, virtualAccount: token.va, smartAccount: token.smartAccount})
    } catch (err) {
      if (!(err instanceof XwayError) || err instanceof LicenseServerError) throw err
      stats.errors++
      sendJson(res, err.code === 'bad-input' ? 400 : 409, {error: {code: 'bad-request', xwayCode: err.code, message: err.message}})
    }
  }

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.requests++
    try {
      const path = (req.url ?? '').split('?')[0]!
      if (isPortalPath(path)) {
        if (closing) res.setHeader('connection', 'close')
        await handlePortal({dir: files.dir, store}, req, res)
        return
      }
      if (path === ONPREM_PATHS.sync || path === ONPREM_PATHS.link) {
        await onPremEndpoint(path, req, res)
        return
      }
      if (path !== TRANSPORT_PATH) throw new LicenseServerError('not-found', `Nothing here: agents talk to POST ${TRANSPORT_PATH}.`)
      if (req.method !== 'POST') {
        res.setHeader('allow', 'POST')
        throw new LicenseServerError('method-not-allowed', `${TRANSPORT_PATH} takes POST only.`)
      }
      const raw = await readBody(req, limit)
      let body: unknown
      try {
        body = JSON.parse(raw.toString('utf8'))
      } catch {
        throw new LicenseServerError('bad-request', 'The request body is not JSON.')
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new LicenseServerError('bad-request', 'The request body must be a JSON object {"method", "params"}.')
      const {method, params} = body as {method?: unknown; params?: unknown}
      if (typeof method !== 'string') throw new LicenseServerError('bad-request', 'The request has no "method".')
      if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
        throw new LicenseServerError('bad-request', '"params" must be a JSON object.')
      }
      const reply = await handle(ctx, method, (params ?? {}) as Record<string, unknown>, req.socket as TLSSocket)
      // once stopping, in-flight requests get their reply and their connection closes
      if (closing) res.setHeader('connection', 'close')
      sendJson(res, 200, reply)
    } catch (err) {
      stats.errors++
      if (closing) res.setHeader('connection', 'close')
      if (err instanceof LicenseServerError) {
        // a body too large is not read to its end: close the connection after the reply
        sendError(res, err, err.serverCode === 'too-large' ? {connection: 'close'} : {})
        return
      }
      if (err instanceof DatabaseUnavailableError) {
        if (process.env.XWAY_DEBUG === '1') process.stderr.write(`license server: ${err.message}\n`)
        sendError(res, new LicenseServerError('unavailable', 'The license server cannot reach its database; try again later.'), {'retry-after': String(UNAVAILABLE_RETRY_AFTER_S)})
        return
      }
      const code = (err as {code?: string})?.code
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
        sendError(res, new LicenseServerError('busy', 'The license database is busy; try again.'), {'retry-after': '1'})
        return
      }
      if (process.env.XWAY_DEBUG === '1') process.stderr.write(`license server: ${(err as Error)?.stack ?? String(err)}\n`)
      sendError(res, new LicenseServerError('internal', err instanceof XwayError ? err.message : 'Internal error of the license server.'))
    }
  }

  const server: Server = createServer({
    key: files.serverKeyPem,
    cert: files.serverPem,
    minVersion: TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
    // client certificates: asked for, judged against the lab CA; `register` comes without one
    ca: [files.caPem],
    requestCert: true,
    rejectUnauthorized: false,
    ...(options.ticketKeys ? {ticketKeys: options.ticketKeys} : {}),
    keepAlive: true,
    requestTimeout: 30_000,
    headersTimeout: 15_000,
  }, (req, res) => { void onRequest(req, res) })
  server.keepAliveTimeout = 10_000
  server.maxHeadersCount = 64

  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  // a client that fails the handshake (say, it does not trust the lab CA) is not our error
  server.on('tlsClientError', () => {})

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      void store.close()
      if (err.code === 'EADDRINUSE') reject(new FailedError(`Port ${port} on ${host} is already in use.`, {actions: ['Pick another --port (0 picks a free one), or stop what listens there.']}))
      else if (err.code === 'EACCES') reject(new FailedError(`Not allowed to listen on ${host}:${port}.`, {actions: ['Use a port above 1023.']}))
      else reject(new FailedError(`Cannot listen on ${host}:${port}: ${err.message}`))
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })

  const address = server.address()
  const actualPort = typeof address === 'object' && address !== null ? address.port : port
  const urlHost = host.includes(':') ? `[${host}]` : host
  let closed: Promise<void> | undefined

  return {
    host,
    port: actualPort,
    url: `https://${urlHost}:${actualPort}${TRANSPORT_PATH}`,
    stats,
    close(graceMs = 10_000): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        closing = true
        const force = setTimeout(() => { for (const s of sockets) s.destroy() }, graceMs)
        force.unref()
        server.close(() => {
          clearTimeout(force)
          store.close().then(resolve, () => resolve())
        })
        server.closeIdleConnections()
      })
      return closed
    },
  }
}
