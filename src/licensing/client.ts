import {request as httpRequest, type IncomingMessage} from 'node:http'
import {isIP, type Socket} from 'node:net'
import {checkServerIdentity, connect as tlsConnect, type DetailedPeerCertificate, type TLSSocket} from 'node:tls'
import {createHash} from 'node:crypto'
import {BadInputError, UnreachableError} from '../errors.js'
import {certificateInfo, derToPem} from '../crypto/x509.js'
import {
  LicenseServerError, MAX_REPLY_BYTES, TRANSPORT_PATH, encodeRequest,
  type AgentRequest, type ProtocolErrorCode,
} from './protocol.js'
import {TLS_CIPHERS, TLS_MIN_VERSION, type AgentCredential} from './transport-security.js'

// The agent's transport: HTTPS to the license server (On-Prem URL, or the Direct endpoint),
// directly or through an HTTP proxy with CONNECT. TLS trusts the agent's trust store only,
// never the system's, and checks the host name: a proxy that intercepts TLS with its own CA
// is rejected with "Unknown CA", as on the appliance. A registered agent authenticates with
// its identity certificate as TLS client certificate (mutual TLS).

export interface TransportTarget {
  /** https://…/SmartTransport */
  url: string
  proxy?: {host: string; port: number; username?: string; password?: string}
}

export interface ClientOptions {
  target: TransportTarget
  /** PEM certificates: the agent trust store, the ONLY CAs accepted */
  trustAnchors: string[]
  /** whole exchange, connect to reply; default 30 s */
  timeoutMs?: number
}

export interface PresentedCertificate {subject: string; issuer: string; fingerprint: string}

export type TransportFailure =
  | 'unknown-ca' | 'certificate' | 'hostname' | 'refused' | 'dns' | 'timeout' | 'reset'
  | 'proxy-auth' | 'proxy' | 'protocol' | 'unavailable'

/** The server or proxy could not be reached, or TLS was rejected (exit 6). */
export class TransportError extends UnreachableError {
  readonly reason: TransportFailure
  readonly chain: PresentedCertificate[]
  constructor(reason: TransportFailure, message: string, options: {actions?: string[]; chain?: PresentedCertificate[]} = {}) {
    super(message, {actions: options.actions})
    this.reason = reason
    this.chain = options.chain ?? []
  }
}

export const DEFAULT_TIMEOUT_MS = 30_000

interface Endpoint {host: string; port: number; path: string; display: string}

function parseTarget(target: TransportTarget): Endpoint {
  let url: URL
  try {
    url = new URL(target.url)
  } catch {
    throw new BadInputError(`The transport URL ${JSON.stringify(target.url)} is not a URL.`)
  }
  if (url.protocol !== 'https:') throw new BadInputError(`The transport URL must use HTTPS: ${target.url}`)
  if (url.username || url.password) throw new BadInputError('The transport URL must not carry credentials.')
  if (!url.pathname.endsWith(TRANSPORT_PATH)) throw new BadInputError(`The transport URL must end with ${TRANSPORT_PATH}: ${target.url}`)
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const port = url.port === '' ? 443 : Number(url.port)
  return {host, port, path: url.pathname + url.search, display: `${url.host}`}
}

const UNKNOWN_CA_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG', 'INVALID_CA',
])

function describeChain(socket: TLSSocket): PresentedCertificate[] {
  const chain: PresentedCertificate[] = []
  let cert = socket.getPeerCertificate(true) as DetailedPeerCertificate | undefined
  const seen = new Set<string>()
  while (cert && cert.raw && !seen.has(cert.fingerprint256) && chain.length < 10) {
    seen.add(cert.fingerprint256)
    try {
      const info = certificateInfo(derToPem(cert.raw))
      chain.push({subject: info.subject, issuer: info.issuer, fingerprint: info.fingerprint})
    } catch {
      chain.push({subject: '?', issuer: '?', fingerprint: cert.fingerprint256})
    }
    cert = cert.issuerCertificate
  }
  return chain
}

function networkFailure(err: NodeJS.ErrnoException, subject: string): TransportError {
  const what = subject.charAt(0).toUpperCase() + subject.slice(1)
  switch (err.code) {
    case 'ECONNREFUSED':
      return new TransportError('refused', `${what} refused the connection (nothing listens there).`)
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TransportError('dns', `${what}: the host name does not resolve (DNS).`)
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new TransportError('refused', `${what} is unreachable (no route).`)
    case 'ETIMEDOUT':
      return new TransportError('timeout', `${what}: connection timed out (Operation timed out).`)
    case 'ECONNRESET':
    case 'EPIPE':
      return new TransportError('reset', `${what} closed the connection.`)
    default:
      return new TransportError('reset', `${what}: ${err.code ?? 'connection failed'}.`)
  }
}

/** HTTP CONNECT through the proxy; resolves with the tunnel's socket. */
function openTunnel(proxy: NonNullable<TransportTarget['proxy']>, endpoint: Endpoint, track: (s: Socket) => void): Promise<Socket> {
  const proxyName = `the proxy ${proxy.host}:${proxy.port}`
  const authority = `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`
  const headers: Record<string, string> = {host: authority}
  if (proxy.username !== undefined && proxy.username !== '') {
    headers['proxy-authorization'] = 'Basic ' + Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest({host: proxy.host, port: proxy.port, method: 'CONNECT', path: authority, headers, agent: false, setHost: false})
    req.on('socket', track)
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (res.statusCode === 200) {
        if (head.length > 0) socket.unshift(head)
        resolve(socket)
        return
      }
      socket.destroy()
      if (res.statusCode === 407) {
        reject(new TransportError('proxy-auth', `${proxyName} refused the credentials (407 Proxy Authentication Required).`, {
          actions: ['Check the proxy user name and password of the licensing transport.'],
        }))
      } else {
        reject(new TransportError('proxy', `${proxyName} would not open a tunnel to ${authority} (HTTP ${res.statusCode}).`))
      }
    })
    req.on('error', (err: NodeJS.ErrnoException) => reject(networkFailure(err, proxyName)))
    req.end()
  })
}

interface Connection {socket: TLSSocket; chain: () => PresentedCertificate[]}

// TLS sessions, to resume instead of a full handshake when one process (a lab bringing up
// many units) talks to the same server again. Keyed by endpoint, proxy and trust store, so a
// session validated under one trust store is never reused under another.
const sessions = new Map<string, Buffer>()
const MAX_SESSIONS = 256

function sessionKey(options: ClientOptions, endpoint: Endpoint, credential: AgentCredential | undefined): string {
  const proxy = options.target.proxy
  const anchors = createHash('sha256').update(options.trustAnchors.join('\0')).digest('hex')
  // a session carries the client certificate it was made with: never resumed under another identity
  const identity = credential ? createHash('sha256').update(credential.certificate).digest('hex') : 'anonymous'
  return `${endpoint.host}:${endpoint.port}|${proxy ? `${proxy.host}:${proxy.port}` : ''}|${anchors}|${identity}`
}

/**
 * Opens TLS to the endpoint (through the tunnel when a proxy is set) without sending
 * anything, then judges the peer: chain against the trust anchors, then the host name.
 * The chain is kept even when it is rejected, for testConnection.
 */
async function openTls(options: ClientOptions, endpoint: Endpoint, track: (s: Socket) => void, resume: boolean, credential?: AgentCredential): Promise<Connection> {
  const via = options.target.proxy ? await openTunnel(options.target.proxy, endpoint, track) : undefined
  const serverName = `the license server ${endpoint.display}`
  const key = sessionKey(options, endpoint, credential)
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const tls = tlsConnect({
      session: resume ? sessions.get(key) : undefined,
      socket: via,
      host: endpoint.host,
      port: endpoint.port,
      servername: isIP(endpoint.host) === 0 ? endpoint.host : undefined,
      // the agent trust store and nothing else: an array, even empty, replaces Node's root store
      ca: [...options.trustAnchors],
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      minVersion: TLS_MIN_VERSION,
      ciphers: TLS_CIPHERS,
      ...(credential ? {key: credential.key.export({type: 'pkcs8', format: 'pem'}), cert: credential.certificate} : {}),
    })
    track(tls)
    tls.on('session', (session: Buffer) => {
      // kept only from a full handshake that passed both checks (a resumed one skips them)
      if (!resume || tls.isSessionReused() || !tls.authorized) return
      if (checkServerIdentity(endpoint.host, tls.getPeerCertificate()) !== undefined) return
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!)
      sessions.set(key, session)
    })
    tls.once('secureConnect', () => resolve(tls))
    tls.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code?.startsWith('ERR_SSL') || err.code?.startsWith('ERR_TLS') || /SSL|TLS/.test(err.message)) {
        reject(new TransportError('protocol', `TLS with ${serverName} failed: ${err.message}.`))
      } else {
        reject(networkFailure(err, via ? `${serverName} (through the proxy)` : serverName))
      }
    })
  })
  // describing the chain parses certificates: only for errors and testConnection
  let described: PresentedCertificate[] | undefined
  const chain = (): PresentedCertificate[] => (described ??= describeChain(socket))
  if (!socket.authorized) {
    sessions.delete(key)
    chain()
    const code = String((socket.authorizationError as unknown as {code?: string})?.code ?? socket.authorizationError ?? '')
    socket.destroy()
    const leaf = chain()[0]
    const presented = leaf ? ` (presented: ${leaf.subject}, issued by ${leaf.issuer})` : ''
    if (UNKNOWN_CA_CODES.has(code) || options.trustAnchors.length === 0) {
      throw new TransportError('unknown-ca', `TLS rejected by the agent: Unknown CA: the certificate of ${serverName}${presented} is not issued by a CA of the agent trust store${options.target.proxy ? ' (a proxy intercepting TLS?)' : ''}.`, {
        actions: ['Let the proxy pass the licensing traffic through without inspecting it, or use a license server whose CA the unit trusts.'],
        chain: chain(),
      })
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      throw new TransportError('hostname', `TLS rejected by the agent: the certificate of ${serverName}${presented} is not for ${endpoint.host}.`, {chain: chain()})
    }
    throw new TransportError('certificate', `TLS rejected by the agent: the certificate of ${serverName}${presented} is not valid (${code}).`, {chain: chain()})
  }
  // a resumed session was checked, for this host and trust store, when it was made
  const identityError = socket.isSessionReused() ? undefined : checkServerIdentity(endpoint.host, socket.getPeerCertificate())
  if (identityError) {
    sessions.delete(key)
    chain()
    socket.destroy()
    throw new TransportError('hostname', `TLS rejected by the agent: the certificate of ${serverName} is not for ${endpoint.host} (${identityError.message}).`, {chain: chain()})
  }
  return {socket, chain}
}

function withDeadline<T>(timeoutMs: number, endpoint: Endpoint, work: (track: (s: Socket) => void) => Promise<T>): Promise<T> {
  const sockets: Socket[] = []
  const track = (s: Socket): void => { sockets.push(s) }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      for (const s of sockets) s.destroy()
      reject(new TransportError('timeout', `No answer from the license server ${endpoint.display} within ${Math.round(timeoutMs / 100) / 10} s: Operation timed out.`))
    }, timeoutMs)
    work(track).then(
      (value) => { clearTimeout(timer); resolve(value) },
      (err) => { clearTimeout(timer); for (const s of sockets) s.destroy(); reject(err) },
    )
  })
}

function exchange(connection: Connection, endpoint: Endpoint, body: string): Promise<{status: number; text: string}> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: endpoint.host,
      port: endpoint.port,
      method: 'POST',
      path: endpoint.path,
      createConnection: () => connection.socket,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        accept: 'application/json',
        connection: 'close',
      },
    })
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > MAX_REPLY_BYTES) {
          req.destroy()
          reject(new TransportError('protocol', `The reply of the license server ${endpoint.display} is larger than ${MAX_REPLY_BYTES} bytes.`))
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => resolve({status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', (err: NodeJS.ErrnoException) => reject(networkFailure(err, `the license server ${endpoint.display}`)))
    })
    req.on('error', (err: NodeJS.ErrnoException) => reject(networkFailure(err, `the license server ${endpoint.display}`)))
    req.end(body)
  })
}

/** Replies that say the server cannot serve now (its database is gone, a gateway in front of it failed): unreachable, retried later. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504])

/**
 * One exchange with the license server. `credential` (the instance key and its identity
 * certificate) is the TLS client certificate of every request but `register`, which the
 * token authorizes. Throws TransportError (exit 6) when the server cannot be reached, TLS
 * is rejected or the server answers that it cannot serve now (502, 503, 504), and
 * LicenseServerError (with the server's `serverCode`) when the server refuses the request.
 */
export async function call<T>(options: ClientOptions, request: AgentRequest, credential?: AgentCredential): Promise<T> {
  const endpoint = parseTarget(options.target)
  const body = encodeRequest(request)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const reply = await withDeadline(timeoutMs, endpoint, async (track) => {
    const connection = await openTls(options, endpoint, track, true, credential)
    try {
      return await exchange(connection, endpoint, body)
    } finally {
      connection.socket.end()
    }
  })
  let parsed: unknown
  try {
    parsed = JSON.parse(reply.text)
  } catch {
    if (UNAVAILABLE_STATUSES.has(reply.status)) throw new TransportError('unavailable', `The license server ${endpoint.display} cannot serve now: HTTP ${reply.status}.`)
    throw new TransportError('protocol', `The license server ${endpoint.display} answered HTTP ${reply.status} without a Smart Transport reply.`)
  }
  if (reply.status === 200) return parsed as T
  const error = (parsed as {error?: {code?: unknown; message?: unknown}})?.error
  if (UNAVAILABLE_STATUSES.has(reply.status)) {
    const said = error && typeof error.message === 'string' ? ` (${error.message.slice(0, 200)})` : ''
    throw new TransportError('unavailable', `The license server ${endpoint.display} cannot serve now: HTTP ${reply.status}${said}.`)
  }
  if (error && typeof error.code === 'string') {
    throw new LicenseServerError(error.code as ProtocolErrorCode, typeof error.message === 'string' ? error.message : error.code, {httpStatus: reply.status})
  }
  throw new TransportError('protocol', `The license server ${endpoint.display} answered HTTP ${reply.status} without a Smart Transport error.`)
}

/**
 * Connects over the configured transport (through the proxy when set), validates the chain
 * against the trust anchors only, and reports the chain presented, also when it is
 * rejected. Never throws for network or TLS failures: they are in `error`.
 */
export async function testConnection(options: ClientOptions): Promise<{ok: boolean; chain: PresentedCertificate[]; error: string | null}> {
  const endpoint = parseTarget(options.target)
  try {
    const connection = await withDeadline(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, endpoint, (track) => openTls(options, endpoint, track, false))
    const chain = connection.chain()
    connection.socket.end()
    return {ok: true, chain, error: null}
  } catch (err) {
    if (err instanceof TransportError) return {ok: false, chain: err.chain, error: err.message}
    throw err
  }
}
