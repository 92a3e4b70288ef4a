import {spawnSync} from 'node:child_process'
import {createPrivateKey, X509Certificate, type KeyObject} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {request as httpsRequest} from 'node:https'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {generateRsaKey, privateKeyPem} from '../../src/crypto/keys.js'
import {issueCertificate, splitPemBundle} from '../../src/crypto/x509.js'
import {call, testConnection, TransportError, type ClientOptions} from '../../src/licensing/client.js'
import {encodeRequest, LicenseServerError} from '../../src/licensing/protocol.js'
import {tokenCreate} from '../../src/server/admin.js'
import {xwayJson} from '../support/run.js'
import {
  agentCall, authorize, interceptingProxy, makeAgents, makeServer, ownTempDir, register, startServer, tunnellingProxy,
  type Agent, type Proxy, type ServerProcess, type TestServer,
} from './license-server-helpers.js'

let temp: ReturnType<typeof ownTempDir>
let SERVER: TestServer
let server: ServerProcess
let options: ClientOptions
let agents: Agent[]
const proxies: Proxy[] = []

test.before(async () => {
  temp = ownTempDir('xway-ls-transport-')
  SERVER = await makeServer(join(temp.path, 'server'), {rms: 10, room: 2})
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

/** Posts a body as it is, with the client certificate given (or none). */
function rawPost(body: string, client: {key: KeyObject; cert: string} | null = null): Promise<{status: number; text: string; json: {error?: {code: string; message: string}}}> {
  const url = new URL(server.url)
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: [SERVER.ca], agent: false,
      ...(client ? {key: privateKeyPem(client.key), cert: client.cert} : {}),
      headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body)},
    }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, text, json: JSON.parse(text)}))
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
  // the identity certificate, then the server's identity CA, which the lab CA certified
  const [cert, identityCa] = splitPemBundle(reg.identityCertificate).map((pem) => new X509Certificate(pem)) as [X509Certificate, X509Certificate]
  assert.match(cert.subject, /CN=PID:EXPWY-VE-M-K9\\?,SN:T0000000/)
  assert.ok(cert.checkIssued(identityCa) && cert.verify(identityCa.publicKey), 'identity certificate issued by the identity CA')
  assert.ok(identityCa.ca && identityCa.checkIssued(new X509Certificate(SERVER.ca)) && identityCa.verify(new X509Certificate(SERVER.ca).publicKey), 'the identity CA certified by the lab CA')
  assert.ok(Date.parse(cert.validFrom) < Date.now(), 'valid from before the real time')

  assert.is((await authorize(options, a, {rms: 7, room: 1})).status, 'authorized')
  await register(options, b, SERVER.token)
  const short = await authorize(options, b, {rms: 4, room: 1})
  assert.is(short.status, 'out-of-compliance')
  // per type: rms (3 left) cannot cover 4, room (1 left) covers 1
  assert.equal(short.licenses.map((l) => [l.type, l.granted, l.shortage, l.status]),
    [['rms', 0, 1, 'out-of-compliance'], ['room', 1, 0, 'authorized'], ['desktop', 0, 0, 'no-licenses-in-use']])
  const pool = xwayJson(['license-server', 'pool', SERVER.dir, '--virtual-account', 'lab']).json
  assert.equal(pool.licenses[0], {type: 'rms', owned: 10, inUse: 7, reserved: 0, inTransit: 0, onPrem: 0, available: 3, shortage: 1})
  assert.is((await authorize(options, b, {})).status, 'no-licenses-in-use')

  const dereg = await agentCall<{status: string; released: Record<string, number>}>(options, a, {method: 'deregister'})
  assert.is(dereg.status, 'deregistered')
  assert.equal(dereg.released, {rms: 7, room: 1, desktop: 0})
  assert.is((await authorize(options, b, {rms: 4, room: 1})).status, 'authorized')
  // the deregistered instance still holds a certificate of this server: it may learn it is gone
  const gone = await serverError(agentCall(options, a, {method: 'ping'}))
  assert.is(gone.serverCode, 'unknown-instance')
  const listed = xwayJson(['license-server', 'instances', SERVER.dir]).json.instances
  assert.equal(listed.map((i: {udi: string}) => i.udi), [b.udi])
})

test('hidden identity: register and renew-registration without hostname; renewal carries a new hostname', async () => {
  const c = agents[2]!
  await register(options, c, SERVER.token, {hostname: null})
  const find = () => xwayJson(['license-server', 'instances', SERVER.dir]).json.instances.find((i: {udi: string}) => i.udi === c.udi)
  assert.is(find().hostname, null)
  const renewed = await agentCall<{status: string; identityCertificate: string}>(options, c, {method: 'renew-registration', params: {hostname: 'exp-renamed', ip: '192.0.2.99'}})
  assert.is(renewed.status, 'registered')
  assert.is(find().hostname, 'exp-renamed')
  // the renewed certificate authenticates as well as the first
  c.credential = {key: c.key, certificate: renewed.identityCertificate}
  assert.is((await agentCall<{status: string}>(options, c, {method: 'ping'})).status, 'ok')
})

test('tokens: invalid, expired and used up are structured 4xx errors; a registered UDI needs force', async () => {
  const d = agents[3]!
  const invalid = await serverError(register(options, d, 'no-such-token'))
  assert.is(invalid.serverCode, 'token-invalid')
  assert.is(invalid.httpStatus, 403)
  const expired = await tokenCreate(SERVER.dir, {virtualAccount: 'lab', expiresIn: '1d'})
  // made "a year ago" by the admin's clock: the server's clock says it is expired
  const old = xwayJson(['license-server', 'token', 'create', SERVER.dir, '--virtual-account', 'lab', '--expires-in', '1d'], {env: {XWAY_NOW: '2020-01-01T00:00:00Z'}})
  assert.is((await serverError(register(options, d, old.json.token))).serverCode, 'token-expired')
  const once = await tokenCreate(SERVER.dir, {virtualAccount: 'lab', uses: 1, exportControlled: false})
  const reg = await register(options, d, once.token)
  assert.is(reg.exportControlled, 'Not Allowed')
  const usedUp = await serverError(register(options, agents[4]!, once.token))
  assert.is(usedUp.serverCode, 'token-used-up')
  assert.is(usedUp.code, 'bad-input')
  // the same UDI under a new key (a rebuilt unit) needs force
  const [rebuilt] = await makeAgents(1, 'T')
  const twin: Agent = {...rebuilt!, udi: d.udi, serial: d.serial}
  const conflict = await serverError(register(options, twin, expired.token))
  assert.is(conflict.serverCode, 'already-registered')
  assert.is(conflict.httpStatus, 409)
  const forced = await register(options, twin, expired.token, {force: true})
  assert.is(forced.reregistered, true)
  // the replaced unit's certificate names the UDI, but its key is no longer the registered one
  assert.is((await serverError(agentCall(options, d, {method: 'ping'}))).serverCode, 'unknown-instance')
  assert.is((await agentCall<{status: string}>(options, twin, {method: 'ping'})).status, 'ok')
})

/** A client certificate for `udi`, self-signed or issued by `issuer`, for TLS client authentication unless told otherwise. */
function clientCertificate(udi: string, issuer?: {certPem: string; key: KeyObject}, extKeyUsage: Array<'clientAuth' | 'serverAuth'> = ['clientAuth']): {key: KeyObject; cert: string} {
  const key = generateRsaKey(2048)
  const cert = issueCertificate({subject: {commonName: udi}, subjectKey: key, issuer, notBefore: new Date(Date.now() - 86_400_000), days: 30, extKeyUsage})
  return {key, cert}
}

test('agents authenticate with their identity certificate; without one every request gets the same 401, whatever UDI it names', async () => {
  const e = agents[5]!
  await register(options, e, SERVER.token)
  const ping = encodeRequest({method: 'ping'})
  assert.is((await rawPost(ping, {key: e.key, cert: e.credential!.certificate})).status, 200)

  const none = await rawPost(ping)
  assert.is(none.status, 401)
  assert.is(none.json.error?.code, 'unauthenticated')
  // a forged certificate naming a registered UDI and one naming a UDI never registered: the same answer
  const registered = await rawPost(ping, clientCertificate(e.udi))
  const unknown = await rawPost(ping, clientCertificate('PID:EXPWY-VE-M-K9,SN:NEVER0001'))
  assert.equal([registered.status, registered.text], [none.status, none.text])
  assert.equal([unknown.status, unknown.text], [none.status, none.text])
  // another CA's certificate, and the lab CA's own for another purpose or name, are no identity either
  const caKey = createPrivateKey(readFileSync(join(SERVER.dir, 'ca.key'), 'utf8'))
  const labCa = {certPem: SERVER.ca, key: caKey}
  const foreignKey = generateRsaKey(2048)
  const foreignCa = {certPem: issueCertificate({subject: {commonName: 'Foreign CA'}, subjectKey: foreignKey, notBefore: new Date(Date.now() - 86_400_000), days: 30, isCa: true}), key: foreignKey}
  for (const client of [clientCertificate(e.udi, foreignCa), clientCertificate(e.udi, labCa, ['serverAuth']), clientCertificate('exp-c1.lab.example', labCa)]) {
    const r = await rawPost(ping, client)
    assert.equal([r.status, r.text], [none.status, none.text])
  }
  // only a certificate this server issued may learn that its UDI is not registered
  const issuedForUnknown = await rawPost(ping, clientCertificate('PID:EXPWY-VE-M-K9,SN:NEVER0002', labCa))
  assert.is(issuedForUnknown.status, 401)
  assert.is(issuedForUnknown.json.error?.code, 'unknown-instance')

  assert.is((await serverError(call(options, {method: 'authorize', params: {usage: {rms: 1}}}))).serverCode, 'unauthenticated')
  assert.is((await rawPost('{not json')).status, 400)
  const big = await rawPost(JSON.stringify({method: 'ping', pad: 'x'.repeat(100_000)}))
  assert.is(big.status, 413)
})

function openssl(args: string[]): {code: number | null; out: string} {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${server.port}`, '-servername', 'localhost', ...args], {input: 'Q\n', encoding: 'utf8', timeout: 15_000})
  return {code: r.status, out: `${r.stdout}${r.stderr}`}
}

test('TLS policy: TLS 1.2 only with ECDHE and AEAD suites (AES128-SHA and other static-RSA or CBC suites refused), TLS 1.3 accepted', () => {
  const caFile = join(temp.path, 'ca-for-openssl.pem')
  writeFileSync(caFile, SERVER.ca)
  const strong = openssl(['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256', '-CAfile', caFile])
  assert.is(strong.code, 0, strong.out)
  assert.match(strong.out, /Cipher is ECDHE-RSA-AES128-GCM-SHA256/)
  for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-RSA-AES128-SHA', 'ECDHE-RSA-AES256-SHA384']) {
    const refused = openssl(['-tls1_2', '-cipher', weak, '-CAfile', caFile])
    assert.is.not(refused.code, 0, `${weak} was accepted: ${refused.out}`)
    assert.match(refused.out, /handshake failure|no shared cipher|alert/i, weak)
    assert.not.match(refused.out, new RegExp(`Cipher is ${weak}`), weak)
  }
  const tls13 = openssl(['-tls1_3', '-CAfile', caFile])
  assert.is(tls13.code, 0, tls13.out)
  assert.match(tls13.out, /TLSv1\.3/)
  const tls11 = openssl(['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0', '-CAfile', caFile])
  assert.is.not(tls11.code, 0, 'TLS 1.1 is refused')
})

test('TLS trusts the agent trust store only: without the lab CA it is Unknown CA, and an unreachable server is exit 6', async () => {
  const rejected = await transportError(agentCall({...options, trustAnchors: []}, agents[0]!, {method: 'ping'}))
  assert.is(rejected.reason, 'unknown-ca')
  assert.match(rejected.message, /Unknown CA/)
  assert.is(rejected.exitCode, 6)
  const report = await testConnection({...options, trustAnchors: []})
  assert.is(report.ok, false)
  assert.match(report.error!, /Unknown CA/)
  assert.is(report.chain[0]!.issuer, 'CN=xway lab license server CA, O=xway lab')
  const good = await testConnection(options)
  assert.equal([good.ok, good.error, good.chain.length], [true, null, 2])
  const closed = await transportError(agentCall({...options, target: {url: 'https://127.0.0.1:1/SmartTransport'}}, agents[0]!, {method: 'ping'}))
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
  const err = await transportError(agentCall(through, agents[0]!, {method: 'ping'}))
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
  const refused = await transportError(agentCall(target('wrong-password'), agents[7]!, {method: 'ping'}))
  assert.is(refused.reason, 'proxy-auth')
  assert.is(refused.exitCode, 6)
  assert.not.match(refused.message, /wrong-password|s3cret/)
  const noProxy = await transportError(agentCall({...options, target: {url: server.url, proxy: {host: '127.0.0.1', port: 1, password: 'hunter2'}}}, agents[7]!, {method: 'ping'}))
  assert.is(noProxy.reason, 'refused')
  assert.not.match(noProxy.message, /hunter2/)
})

test('a server that never answers times out (exit 6, "Operation timed out")', async () => {
  const net = await import('node:net')
  const silent = net.createServer(() => {})
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
  const port = (silent.address() as {port: number}).port
  try {
    const err = await transportError(agentCall({...options, target: {url: `https://127.0.0.1:${port}/SmartTransport`}, timeoutMs: 500}, agents[0]!, {method: 'ping'}))
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
  const ping = await agentCall<{status: string}>(options, agents[5]!, {method: 'ping'})
  assert.is(ping.status, 'ok')
})

test.run()
