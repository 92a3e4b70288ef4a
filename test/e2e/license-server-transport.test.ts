import {X509Certificate} from 'node:crypto'
import {request as httpsRequest} from 'node:https'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {call, testConnection, TransportError, type ClientOptions} from '../../src/licensing/client.js'
import {encodeRequest, LicenseServerError, signRequest, type AgentRequest} from '../../src/licensing/protocol.js'
import {tokenCreate} from '../../src/server/admin.js'
import {xwayJson} from '../support/run.js'
import {
  authorize, interceptingProxy, makeAgents, makeServer, ownTempDir, register, registerRequest, startServer, tunnellingProxy,
  type Agent, type Proxy, type ServerProcess,
} from './license-server-helpers.js'

let temp: ReturnType<typeof ownTempDir>
let SERVER: ReturnType<typeof makeServer>
let server: ServerProcess
let options: ClientOptions
let agents: Agent[]
const proxies: Proxy[] = []

test.before(async () => {
  temp = ownTempDir('xway-ls-transport-')
  SERVER = makeServer(join(temp.path, 'server'), {rms: 10, room: 2})
  ;[server, agents] = await Promise.all([startServer(SERVER.dir), makeAgents(8, 'T')])
  options = {target: {url: server.url}, trustAnchors: [SERVER.ca], timeoutMs: 10_000}
})

test.after(async () => {
  await server?.stop('SIGKILL')
  for (const p of proxies) await p.close()
  temp?.remove()
})

async function serverError(promise: Promise<unknown>): Promise<LicenseServerError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof LicenseServerError) return err
    throw err
  }
  throw new Error('expected the server to refuse')
}

async function transportError(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise
  } catch (err) {
    if (err instanceof TransportError) return err
    throw err
  }
  throw new Error('expected a transport error')
}

/** Sends a prepared body and headers as they are (to replay or tamper with them). */
function rawPost(body: string, headers: Record<string, string>): Promise<{status: number; json: {error?: {code: string}}}> {
  const url = new URL(server.url)
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: [SERVER.ca], agent: false,
      headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers},
    }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, json: JSON.parse(text)}))
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')))
    req.end(body)
  })
}

test('register → authorize → out-of-compliance → deregister against a real server process', async () => {
  const [a, b] = agents as [Agent, Agent]
  const reg = await register(options, a, SERVER.token)
  assert.is(reg.status, 'registered')
  assert.is(reg.virtualAccount, 'lab')
  assert.is(reg.exportControlled, 'Allowed')
  const cert = new X509Certificate(reg.identityCertificate)
  assert.match(cert.subject, /CN=PID:EXPWY-VE-M-K9\\?,SN:T0000000/)
  assert.ok(cert.checkIssued(new X509Certificate(SERVER.ca)) && cert.verify(new X509Certificate(SERVER.ca).publicKey), 'identity certificate issued by the lab CA')
  assert.ok(Date.parse(cert.validFrom) < Date.now(), 'valid from before the real time')

  assert.is((await authorize(options, a, {rms: 7, room: 1})).status, 'authorized')
  await register(options, b, SERVER.token)
  const short = await authorize(options, b, {rms: 4, room: 1})
  assert.is(short.status, 'out-of-compliance')
  assert.equal(short.licenses.map((l) => [l.type, l.granted, l.shortage]), [['rms', 0, 1], ['room', 0, 0], ['desktop', 0, 0]])
  const pool = xwayJson(['license-server', 'pool', SERVER.dir, '--virtual-account', 'lab']).json
  assert.equal(pool.licenses[0], {type: 'rms', owned: 10, inUse: 7, reserved: 0, inTransit: 0, available: 3, shortage: 1})
  assert.is((await authorize(options, b, {})).status, 'no-licenses-in-use')

  const dereg = await call<{status: string; released: Record<string, number>}>(options, {method: 'deregister'}, a.signer)
  assert.is(dereg.status, 'deregistered')
  assert.equal(dereg.released, {rms: 7, room: 1, desktop: 0})
  assert.is((await authorize(options, b, {rms: 4, room: 1})).status, 'authorized')
  const gone = await serverError(call(options, {method: 'ping'}, a.signer))
  assert.is(gone.serverCode, 'unknown-instance')
  const listed = xwayJson(['license-server', 'instances', SERVER.dir]).json.instances
  assert.equal(listed.map((i: {udi: string}) => i.udi), [b.udi])
})

test('hidden identity: register and renew-registration without hostname; renewal carries a new hostname', async () => {
  const c = agents[2]!
  await call(options, registerRequest(c, SERVER.token, {hostname: null}), c.signer)
  const find = () => xwayJson(['license-server', 'instances', SERVER.dir]).json.instances.find((i: {udi: string}) => i.udi === c.udi)
  assert.is(find().hostname, null)
  const renewed = await call<{status: string; identityCertificate: string}>(options, {method: 'renew-registration', params: {hostname: 'exp-renamed', ip: '192.0.2.99'}}, c.signer)
  assert.is(renewed.status, 'registered')
  assert.is(find().hostname, 'exp-renamed')
})

test('tokens: invalid, expired and used up are structured 4xx errors; a registered UDI needs force', async () => {
  const d = agents[3]!
  const invalid = await serverError(register(options, d, 'no-such-token'))
  assert.is(invalid.serverCode, 'token-invalid')
  assert.is(invalid.httpStatus, 403)
  const expired = tokenCreate(SERVER.dir, {virtualAccount: 'lab', expiresIn: '1d'})
  // made "a year ago" by the admin's clock: the server's clock says it is expired
  const old = xwayJson(['license-server', 'token', 'create', SERVER.dir, '--virtual-account', 'lab', '--expires-in', '1d'], {env: {XWAY_NOW: '2020-01-01T00:00:00Z'}})
  assert.is((await serverError(register(options, d, old.json.token))).serverCode, 'token-expired')
  const once = tokenCreate(SERVER.dir, {virtualAccount: 'lab', uses: 1, exportControlled: false})
  const reg = await register(options, d, once.token)
  assert.is(reg.exportControlled, 'Not Allowed')
  const usedUp = await serverError(register(options, agents[4]!, once.token))
  assert.is(usedUp.serverCode, 'token-used-up')
  assert.is(usedUp.code, 'bad-input')
  // the same UDI under a new key (a rebuilt unit) needs force
  const [rebuilt] = await makeAgents(1, 'T')
  const twin: Agent = {...rebuilt!, udi: d.udi, serial: d.serial, signer: {udi: d.udi, key: rebuilt!.key}}
  const conflict = await serverError(register(options, twin, expired.token))
  assert.is(conflict.serverCode, 'already-registered')
  assert.is(conflict.httpStatus, 409)
  const forced = await call<{reregistered: boolean}>(options, registerRequest(twin, expired.token, {force: true}), twin.signer)
  assert.is(forced.reregistered, true)
  assert.is((await serverError(call(options, {method: 'ping'}, d.signer))).serverCode, 'bad-signature')
})

test('signed requests: a replay, a tampered body, a stale or unsigned request are refused', async () => {
  const e = agents[5]!
  await register(options, e, SERVER.token)
  const request: AgentRequest = {method: 'authorize', params: {usage: {rms: 1}}}
  const body = encodeRequest(request)
  const headers = signRequest('authorize', body, e.signer)
  assert.is((await rawPost(body, headers)).status, 200)
  const replay = await rawPost(body, headers)
  assert.is(replay.status, 401)
  assert.is(replay.json.error?.code, 'replayed')
  const fresh = signRequest('authorize', body, e.signer)
  const tampered = await rawPost(body.replace('"rms":1', '"rms":2'), fresh)
  assert.is(tampered.json.error?.code, 'bad-signature')
  const stale = signRequest('authorize', body, e.signer, {timestamp: new Date(Date.now() - 3_600_000).toISOString()})
  assert.is((await rawPost(body, stale)).json.error?.code, 'stale-request')
  assert.is((await rawPost(body, {})).json.error?.code, 'signature-required')
  const unknown = (await makeAgents(1, 'U'))[0]!
  assert.is((await serverError(call(options, {method: 'ping'}, unknown.signer))).serverCode, 'unknown-instance')
  assert.is((await rawPost('{not json', {})).status, 400)
  const big = await rawPost(JSON.stringify({method: 'ping', pad: 'x'.repeat(100_000)}), {})
  assert.is(big.status, 413)
})

test('TLS trusts the agent trust store only: without the lab CA it is Unknown CA, and an unreachable server is exit 6', async () => {
  const rejected = await transportError(call({...options, trustAnchors: []}, {method: 'ping'}, agents[0]!.signer))
  assert.is(rejected.reason, 'unknown-ca')
  assert.match(rejected.message, /Unknown CA/)
  assert.is(rejected.exitCode, 6)
  const report = await testConnection({...options, trustAnchors: []})
  assert.is(report.ok, false)
  assert.match(report.error!, /Unknown CA/)
  assert.is(report.chain[0]!.issuer, 'CN=xway lab license server CA, O=xway lab')
  const good = await testConnection(options)
  assert.equal([good.ok, good.error, good.chain.length], [true, null, 2])
  const closed = await transportError(call({...options, target: {url: 'https://127.0.0.1:1/SmartTransport'}}, {method: 'ping'}, agents[0]!.signer))
  assert.is(closed.reason, 'refused')
  assert.is(closed.exitCode, 6)
})

test('an intercepting proxy (its own CA) is rejected with Unknown CA, in call and in testConnection', async () => {
  const proxy = await interceptingProxy()
  proxies.push(proxy)
  const through: ClientOptions = {...options, target: {url: server.url, proxy: {host: '127.0.0.1', port: proxy.port}}}
  const err = await transportError(register(through, agents[6]!, SERVER.token))
  assert.is(err.reason, 'unknown-ca')
  assert.match(err.message, /Unknown CA/)
  const report = await testConnection(through)
  assert.is(report.ok, false)
  assert.match(report.error!, /Unknown CA/)
  assert.is(report.chain[0]!.issuer, 'CN=Intercepting Proxy CA, O=Middlebox Inc')
  assert.ok(proxy.connects.length >= 2)
  assert.is(proxy.connects[0]!.target, `127.0.0.1:${server.port}`)
})

test('a trusted CA is not enough: the certificate must name the host (hostname check)', async () => {
  const proxy = await interceptingProxy({dnsNames: ['elsewhere.example'], ipAddresses: ['192.0.2.1']})
  proxies.push(proxy)
  const through: ClientOptions = {target: {url: server.url, proxy: {host: '127.0.0.1', port: proxy.port}}, trustAnchors: [proxy.caPem], timeoutMs: 10_000}
  const err = await transportError(call(through, {method: 'ping'}, agents[0]!.signer))
  assert.is(err.reason, 'hostname')
  assert.is(err.exitCode, 6)
})

test('a tunnelling CONNECT proxy with Basic auth works; wrong credentials are exit 6 without the password in the message', async () => {
  const proxy = await tunnellingProxy({username: 'labuser', password: 's3cret-Pa55'})
  proxies.push(proxy)
  const target = (password: string): ClientOptions => ({...options, target: {url: server.url, proxy: {host: '127.0.0.1', port: proxy.port, username: 'labuser', password}}})
  const reg = await register(target('s3cret-Pa55'), agents[7]!, SERVER.token)
  assert.is(reg.status, 'registered')
  assert.is(proxy.connects[0]!.auth, 'Basic ' + Buffer.from('labuser:s3cret-Pa55').toString('base64'))
  const report = await testConnection(target('s3cret-Pa55'))
  assert.is(report.ok, true)
  const refused = await transportError(call(target('wrong-password'), {method: 'ping'}, agents[7]!.signer))
  assert.is(refused.reason, 'proxy-auth')
  assert.is(refused.exitCode, 6)
  assert.not.match(refused.message, /wrong-password|s3cret/)
  const noProxy = await transportError(call({...options, target: {url: server.url, proxy: {host: '127.0.0.1', port: 1, password: 'hunter2'}}}, {method: 'ping'}, agents[7]!.signer))
  assert.is(noProxy.reason, 'refused')
  assert.not.match(noProxy.message, /hunter2/)
})

test('a server that never answers times out (exit 6, "Operation timed out")', async () => {
  const net = await import('node:net')
  const silent = net.createServer(() => {})
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  const port = (silent.address() as {port: number}).port
  try {
    const err = await transportError(call({...options, target: {url: `https://127.0.0.1:${port}/SmartTransport`}, timeoutMs: 500}, {method: 'ping'}, agents[0]!.signer))
    assert.is(err.reason, 'timeout')
    assert.match(err.message, /Operation timed out/)
  } finally {
    silent.close()
  }
})

test('SIGTERM stops the server cleanly (exit 0), and its state is served again after a restart', async () => {
  const result = await server.stop('SIGTERM')
  assert.equal(result, {code: 0, signal: null})
  server = await startServer(SERVER.dir)
  options = {...options, target: {url: server.url}}
  const ping = await call<{status: string}>(options, {method: 'ping'}, agents[5]!.signer)
  assert.is(ping.status, 'ok')
})

test.run()
