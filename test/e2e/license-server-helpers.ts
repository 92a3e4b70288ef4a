// Helpers of the license server tests (e2e and reliability): a server process started and
// stopped by the test, agents with their own keys, and two HTTP CONNECT proxies (one that
// tunnels, one that intercepts TLS with its own CA).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {generateKeyPair, type KeyObject} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {createServer as createHttpServer, type IncomingMessage, type Server} from 'node:http'
import {connect as netConnect, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {TLSSocket} from 'node:tls'
import {call, type ClientOptions} from '../../src/licensing/client.js'
import {formatUdi} from '../../src/licensing/codes.js'
import type {AgentRequest, AuthorizeReply, RegisterReply} from '../../src/licensing/protocol.js'
import type {AgentCredential} from '../../src/licensing/transport-security.js'
import {generateRsaKey} from '../../src/crypto/keys.js'
import {issueCertificate} from '../../src/crypto/x509.js'
import {accountCreate, init, licensesAdd, tokenCreate} from '../../src/server/admin.js'
import {BIN, ROOT, xwayJson} from '../support/run.js'

/**
 * A temp folder this file alone owns and removes. Made in a `before` hook, never at import:
 * uvu imports every test file before it runs any, and test/support's cleanup() removes every
 * folder registered so far, whoever made it.
 */
export function ownTempDir(prefix: string): {path: string; remove(): void} {
  const path = mkdtempSync(join(tmpdir(), prefix))
  return {path, remove: () => rmSync(path, {recursive: true, force: true})}
}

export interface ServerProcess {
  child: ChildProcess
  url: string
  port: number
  stdout: () => string
  stderr: () => string
  /** signal, then wait for the exit (bounded); resolves with the exit code or signal */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** `xway license-server start DIR --port 0` (or the port and workers given), resolved when it prints its URL (bounded). */
export function startServer(dir: string, options: {env?: NodeJS.ProcessEnv; timeoutMs?: number; port?: number; workers?: number; json?: boolean} = {}): Promise<ServerProcess> {
  const args = [BIN, 'license-server', 'start', dir, '--host', '127.0.0.1', '--port', String(options.port ?? 0)]
  if (options.workers !== undefined) args.push('--workers', String(options.workers))
  if (options.json) args.push('--json')
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {...process.env, XWAY_DEBUG: '', ...options.env},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
    child.on('exit', (code, signal) => resolve({code, signal}))
  })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the license server did not start within the time limit: ${out}${err}`))
    }, options.timeoutMs ?? 20_000)
    const onData = (): void => {
      // on stdout, or on stderr under --json
      const match = /^listening on (https:\/\/127\.0\.0\.1:(\d+)\/SmartTransport)$/m.exec(options.json ? err : out)
      if (!match) return
      clearTimeout(timer)
      child.stdout!.off('data', onData)
      child.stderr!.off('data', onData)
      resolve({
        child,
        url: match[1]!,
        port: Number(match[2]),
        stdout: () => out,
        stderr: () => err,
        async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
          const result = await exited
          clearTimeout(kill)
          return result
        },
      })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the license server exited (${code}) before it was ready: ${out}${err}`))
    })
  })
}

export interface TestServer {dir: string; ca: string; token: string}

/**
 * A server folder with one virtual account, some licenses and an unlimited token; its state
 * in SQLite, or in the PostgreSQL database `database` (postgres://…, the password in
 * PGPASSWORD, which the caller sets in process.env for the in-process admin calls).
 */
export async function makeServer(dir: string, licenses: {rms?: number; room?: number; desktop?: number} = {}, va = 'lab', database?: string): Promise<TestServer> {
  await init(dir, {database})
  await accountCreate(dir, {name: 'Acme', virtualAccount: va})
  for (const [type, count] of Object.entries(licenses)) if (count) await licensesAdd(dir, {virtualAccount: va, type, count})
  return {dir, ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), token: (await tokenCreate(dir, {virtualAccount: va})).token}
}

export interface Agent {
  udi: string
  serial: string
  key: KeyObject
  publicKeyPem: string
  /** the TLS client credential, once `register` (the helper below) has returned an identity certificate */
  credential?: AgentCredential
}

const generate = promisify(generateKeyPair)

/**
 * Agents with RSA-2048 keys, generated in parallel (native, off the main thread). With
 * `distinctKeys` below `count`, agents share keys round robin: the server ties a key to a
 * UDI, not the other way round, and load tests spend their time on the server, not on keygen.
 */
export async function makeAgents(count: number, prefix = 'A', distinctKeys = count): Promise<Agent[]> {
  const keys = await Promise.all(Array.from({length: Math.min(count, distinctKeys)}, () => generate('rsa', {modulusLength: 2048})))
  return Array.from({length: count}, (_, i) => {
    const {privateKey, publicKey} = keys[i % keys.length]!
    const serial = `${prefix}${String(i).padStart(7, '0')}`
    const udi = formatUdi('EXPWY-VE-M-K9', serial)
    return {udi, serial, key: privateKey, publicKeyPem: publicKey.export({type: 'spki', format: 'pem'}) as string}
  })
}

/** Another agent with the same key and a new serial (load tests register many UDIs per key). */
export function withSerial(agent: Agent, serial: string): Agent {
  return {udi: formatUdi('EXPWY-VE-M-K9', serial), serial, key: agent.key, publicKeyPem: agent.publicKeyPem}
}

export function registerRequest(agent: Agent, token: string, extra: {force?: boolean; hostname?: string | null} = {}): AgentRequest {
  return {
    method: 'register',
    params: {
      token, udi: agent.udi, publicKey: agent.publicKeyPem,
      product: {pid: 'EXPWY-VE-M-K9', serial: agent.serial, brand: 'Expressway', type: 'Expressway-C', softwareVersion: 'X14.2.0'},
      hostname: extra.hostname === undefined ? `exp-${agent.serial.toLowerCase()}` : extra.hostname,
      ip: extra.hostname === null ? null : '192.0.2.10',
      force: extra.force,
    },
  }
}

/** Registers the agent and keeps its identity certificate as its TLS client credential. */
export async function register(options: ClientOptions, agent: Agent, token: string, extra: {force?: boolean; hostname?: string | null} = {}): Promise<RegisterReply> {
  const reply = await call<RegisterReply>(options, registerRequest(agent, token, extra))
  agent.credential = {key: agent.key, certificate: reply.identityCertificate}
  return reply
}

/** A request authenticated by the agent's identity certificate. */
export function agentCall<T>(options: ClientOptions, agent: Agent, request: AgentRequest): Promise<T> {
  return call<T>(options, request, agent.credential)
}

export function authorize(options: ClientOptions, agent: Agent, usage: {rms?: number; room?: number; desktop?: number}): Promise<AuthorizeReply> {
  return agentCall<AuthorizeReply>(options, agent, {method: 'authorize', params: {usage}})
}

export interface Proxy {
  port: number
  /** CONNECT requests seen, with their Proxy-Authorization header */
  connects: Array<{target: string; auth: string | undefined}>
  close(): Promise<void>
}

function listenProxy(server: Server, sockets: Set<Socket>, connects: Proxy['connects']): Promise<Proxy> {
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      resolve({
        port: typeof address === 'object' && address ? address.port : 0,
        connects,
        close: () => new Promise<void>((done) => {
          for (const s of sockets) s.destroy()
          server.close(() => done())
        }),
      })
    })
  })
}

/** A tunnelling CONNECT proxy; with credentials, it answers 407 to anything else. */
export function tunnellingProxy(credentials?: {username: string; password: string}): Promise<Proxy> {
  const connects: Proxy['connects'] = []
  const sockets = new Set<Socket>()
  const server = createHttpServer((_req, res) => { res.writeHead(405); res.end() })
  const expected = credentials ? 'Basic ' + Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') : undefined
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    connects.push({target: req.url ?? '', auth: req.headers['proxy-authorization']})
    sockets.add(client)
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="lab"\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const [host, port] = (req.url ?? '').split(':')
    const upstream = netConnect(Number(port), host!, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  return listenProxy(server, sockets, connects)
}

/** A proxy in intercept mode: it answers CONNECT, then terminates TLS itself with a certificate from its own CA. */
export function interceptingProxy(names: {dnsNames?: string[]; ipAddresses?: string[]} = {}): Promise<Proxy & {caPem: string}> {
  const caKey = generateRsaKey(2048)
  const notBefore = new Date(Date.now() - 86_400_000)
  const caPem = issueCertificate({subject: {commonName: 'Intercepting Proxy CA', organization: 'Middlebox Inc'}, subjectKey: caKey, notBefore, days: 365, isCa: true})
  const leafKey = generateRsaKey(2048)
  const leafPem = issueCertificate({
    subject: {commonName: 'localhost'}, subjectKey: leafKey, issuer: {certPem: caPem, key: caKey}, notBefore, days: 365,
    dnsNames: names.dnsNames ?? ['localhost'], ipAddresses: names.ipAddresses ?? ['127.0.0.1'], extKeyUsage: ['serverAuth'],
  })
  const connects: Proxy['connects'] = []
  const sockets = new Set<Socket>()
  const server = createHttpServer((_req, res) => { res.writeHead(405); res.end() })
  server.on('connect', (req: IncomingMessage, client: Socket) => {
    connects.push({target: req.url ?? '', auth: req.headers['proxy-authorization']})
    sockets.add(client)
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    const tls = new TLSSocket(client, {isServer: true, key: leafKey.export({type: 'pkcs8', format: 'pem'}) as string, cert: leafPem + caPem})
    tls.on('error', () => client.destroy())
    tls.on('data', () => tls.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n'))
  })
  return listenProxy(server, sockets, connects).then((p) => ({...p, caPem}))
}

/** Runs `count` jobs with at most `concurrency` at a time; each result or error is kept. */
export async function pool<T>(count: number, concurrency: number, job: (i: number) => Promise<T>): Promise<Array<{ok: true; value: T} | {ok: false; error: unknown}>> {
  const results: Array<{ok: true; value: T} | {ok: false; error: unknown}> = new Array(count)
  let next = 0
  await Promise.all(Array.from({length: Math.min(concurrency, count)}, async () => {
    while (next < count) {
      const i = next++
      try {
        results[i] = {ok: true, value: await job(i)}
      } catch (error) {
        results[i] = {ok: false, error}
      }
    }
  }))
  return results
}

/** The worker processes of a `start --workers N` server: the children of its primary. */
export function workerPids(server: ServerProcess): number[] {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(server.child.pid)], {encoding: 'utf8'})
  return r.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0)
}

/** `xway license-server ARGS --json`, asserted to succeed; its JSON result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function adminOk(args: string[]): any {
  const r = xwayJson(['license-server', ...args])
  if (r.code !== 0) throw new Error(`license-server ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`)
  return r.json
}
