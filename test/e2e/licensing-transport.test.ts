import {readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {QUOVADIS_ROOT_CA_2_FINGERPRINT} from '../../src/licensing/trust-store.js'
import {interceptingProxy, ownTempDir, tunnellingProxy, type Proxy} from './license-server-helpers.js'
import {alarmIds, at, expect, expectAsync, makeLicenseServer, ok, profileFor, run, runAsync, status, T0, treeHash, unitFrom, type LicenseServer} from './licensing-helpers.js'

// Transport settings, the agent trust store, test-connection, and the two proxies of the
// seed: one that tunnels (CONNECT) and one that intercepts TLS with its own CA ("Unknown CA").

const LIC = 'tandberg/persistent/licensing'
const PASSWORD = 'pr0xy-s3cret-Value'
const test = suite('licensing transport')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; profile: string; tunnel: Proxy; intercept: Proxy & {caPem: string}; pwFile: string}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-transport-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 10})
  await ctx.server.start()
  ctx.profile = profileFor(ctx.tmp.path, ctx.server)
  ctx.tunnel = await tunnellingProxy({username: 'lic', password: PASSWORD})
  ctx.intercept = await interceptingProxy()
  ctx.pwFile = join(ctx.tmp.path, 'proxy.pw')
  writeFileSync(ctx.pwFile, PASSWORD + '\n')
})

test.after(async () => {
  await ctx.tunnel?.close()
  await ctx.intercept?.close()
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

function everything(unit: string): string {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      if (e.isDirectory()) walk(join(dir, e.name))
      else if (e.isFile()) out.push(readFileSync(join(dir, e.name), 'latin1'))
    }
  }
  walk(unit)
  return out.join('\n')
}

test('On-Prem URLs must be https://…/SmartTransport (exit 2: a bad flag value, unit unchanged)', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'urls')
  const before = treeHash(unit)
  for (const bad of ['http://ssm.lab/SmartTransport', 'https://ssm.lab/other', 'https://u:p@ssm.lab/SmartTransport', 'not a url']) {
    const r = expect(2, ['licensing', 'transport', unit, '--on-prem', bad])
    assert.match(r.error.message, /SmartTransport/)
  }
  expect(2, ['licensing', 'transport', unit, '--proxy', 'nohostport'])
  expect(2, ['licensing', 'transport', unit, '--proxy', '127.0.0.1:99999'])
  expect(2, ['licensing', 'transport', unit])
  expect(2, ['licensing', 'transport', unit, '--direct', '--proxy', '127.0.0.1:3128'])
  expect(2, ['licensing', 'transport', unit, '--direct', '--proxy-user', 'x'])
  assert.is(treeHash(unit), before)
  const r = ok(['licensing', 'transport', unit, '--on-prem', 'https://ssm.lab.example/SmartTransport'])
  assert.equal(r.transport, {mode: 'on-prem', url: 'https://ssm.lab.example/SmartTransport', proxy: null})
  assert.equal(r.changed, ['transport'])
  assert.is(status(unit).transport.url, 'https://ssm.lab.example/SmartTransport')
})

test('switching between Direct and On-Prem while registered is refused ("deregister first"), exit 3, unchanged', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'switch')
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  const before = treeHash(unit)
  const r = expect(3, ['licensing', 'transport', unit, '--direct'], at(1))
  assert.match(r.error.message, /deregister/)
  assert.match(r.error.actions.join(' '), /licensing deregister/)
  expect(3, ['licensing', 'transport', unit, '--on-prem', 'https://elsewhere.lab/SmartTransport'], at(1))
  assert.is(treeHash(unit), before)
  // identity settings can change while registered (the server hears them at the next renewal)
  assert.match(ok(['licensing', 'transport', unit, '--hide-identity'], at(1)).warnings.join(' '), /renewal/)
  ok(['licensing', 'deregister', unit], at(2))
  assert.is(ok(['licensing', 'transport', unit, '--direct'], at(2)).transport.mode, 'direct')
})

test('VCS and X14.0.2 units without smart licensing refuse the licensing commands (exit 3)', async () => {
  const vcs = unitFrom(ctx.tmp.path, join(process.cwd(), 'profiles', 'vcs.yaml'), 'vcs')
  const before = treeHash(vcs)
  for (const args of [['transport', vcs, '--direct'], ['register', vcs, '--token', 'abc'], ['renew', vcs, '--authorization'], ['deregister', vcs], ['sync', vcs], ['test-connection', vcs]]) {
    const r = expect(3, ['licensing', ...args])
    assert.match(r.error.message, /Smart licensing is not available on Cisco VCS/)
  }
  assert.equal(status(vcs), {mode: 'legacy'})
  assert.is(treeHash(vcs), before)
})

test('the proxy password is stored encrypted (0600) under the bootstrap key and never shown', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'secret')
  const r = run(['licensing', 'transport', unit, '--proxy', `127.0.0.1:${ctx.tunnel.port}`, '--proxy-user', 'lic', '--proxy-password-file', ctx.pwFile])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.equal(r.json.transport.proxy, {host: '127.0.0.1', port: ctx.tunnel.port, username: 'lic'})
  assert.not.ok(r.stdout.includes(PASSWORD) || r.stderr.includes(PASSWORD))
  const file = join(unit, LIC, 'proxy-password.enc')
  assert.is(statSync(file).mode & 0o777, 0o600)
  assert.not.ok(everything(unit).includes(PASSWORD), 'the password is nowhere in clear in the unit')
  const inspect = run(['image', 'inspect', unit])
  assert.not.ok(inspect.stdout.includes(PASSWORD))
  // --proxy-user alone keeps the stored password; a new proxy without a user drops it
  ok(['licensing', 'transport', unit, '--proxy-user', 'lic'])
  assert.ok(statSync(file).isFile())
  ok(['licensing', 'transport', unit, '--proxy', '127.0.0.1:1'])
  assert.throws(() => statSync(file))
})

test('a tunnelling proxy: CONNECT to the Direct endpoint with Basic authentication; registration and test-connection succeed', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'tunnel')
  ok(['licensing', 'transport', unit, '--proxy', `127.0.0.1:${ctx.tunnel.port}`, '--proxy-user', 'lic', '--proxy-password-file', ctx.pwFile])
  const seen = ctx.tunnel.connects.length
  const t = await expectAsync(0, ['licensing', 'test-connection', unit], at(1))
  assert.is(t.ok, true)
  assert.is(t.error, null)
  assert.is(t.via, `127.0.0.1:${ctx.tunnel.port}`)
  assert.is(t.target, ctx.server.url)
  assert.match(t.chain.map((c: {issuer: string}) => c.issuer).join(' '), /xway lab license server CA/)
  const r = await expectAsync(0, ['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  assert.is(r.licensing.registration.status, 'Registered')
  assert.is(r.licensing.transport.mode, 'proxy')
  const connects = ctx.tunnel.connects.slice(seen)
  assert.ok(connects.length >= 3)
  for (const c of connects) {
    assert.is(c.target, `127.0.0.1:${ctx.server.port}`)
    assert.is(c.auth, 'Basic ' + Buffer.from(`lic:${PASSWORD}`).toString('base64'))
  }
  await expectAsync(0, ['licensing', 'deregister', unit], at(2))
  // wrong credentials: the proxy answers 407, the exchange cannot happen
  writeFileSync(join(ctx.tmp.path, 'wrong.pw'), 'wrong\n')
  ok(['licensing', 'transport', unit, '--proxy-user', 'lic', '--proxy-password-file', join(ctx.tmp.path, 'wrong.pw')], at(2))
  const bad = await expectAsync(6, ['licensing', 'register', unit, '--token', ctx.server.token()], at(2))
  assert.match(bad.error.message, /407/)
  assert.match(status(unit, at(2)).registration.lastError, /Proxy Authentication Required/)
})

test('an intercepting proxy is rejected with Unknown CA: test-connection reports its chain (exit 6), registration stays pending', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'intercept')
  ok(['licensing', 'transport', unit, '--proxy', `127.0.0.1:${ctx.intercept.port}`])
  const before = treeHash(unit)
  const t = await runAsync(['licensing', 'test-connection', unit], at(1))
  assert.is(t.code, 6, t.stdout + t.stderr)
  assert.equal(Object.keys(t.json), ['error'], 'a failure prints the error alone, the report as its data')
  assert.is(t.json.error.code, 'unreachable')
  assert.match(t.json.error.message, /Unknown CA/)
  assert.is(t.json.error.data.ok, false)
  assert.is(t.json.error.data.error.code, 'unreachable')
  assert.is(t.json.error.data.via, `127.0.0.1:${ctx.intercept.port}`)
  assert.match(t.json.error.data.chain.map((c: {issuer: string}) => c.issuer).join(' '), /Intercepting Proxy CA/)
  assert.is(treeHash(unit), before, 'test-connection changes nothing')

  const r = await expectAsync(6, ['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  assert.match(r.error.message, /Unknown CA/)
  const s = status(unit, at(1))
  assert.is(s.registration.status, 'Unregistered: Registration Pending')
  assert.match(s.registration.lastError, /Unknown CA/)
  assert.equal(alarmIds(unit, at(1)), [30042, 30044])
})

test('test-connection straight to the server (On-Prem) succeeds and shows the lab chain; a closed port fails with exit 6', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'direct-test')
  const t = ok(['licensing', 'test-connection', unit])
  assert.is(t.ok, true)
  assert.is(t.via, null)
  assert.ok(t.chain.length >= 1)
  ok(['licensing', 'transport', unit, '--on-prem', 'https://127.0.0.1:1/SmartTransport'])
  const r = run(['licensing', 'test-connection', unit])
  assert.is(r.code, 6)
  assert.is(r.json.error.code, 'unreachable')
  assert.is(r.json.error.data.ok, false)
  assert.is(r.json.error.data.target, 'https://127.0.0.1:1/SmartTransport')
  assert.equal(r.json.error.data.chain, [])
})

test('trust-store lists QuoVadis Root CA 2 (pinned) and the lab anchor, fingerprints hex colon-separated', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'trust')
  const r = ok(['licensing', 'trust-store', unit])
  assert.is(r.unit, unit)
  assert.is(r.trustStore.length, 2)
  assert.equal(r.trustStore[0], {subject: 'CN=QuoVadis Root CA 2, O=QuoVadis Limited, C=BM', fingerprint: QUOVADIS_ROOT_CA_2_FINGERPRINT, lab: false})
  assert.is(r.trustStore[1].lab, true)
  assert.match(r.trustStore[1].subject, /xway lab license server CA/)
  for (const e of r.trustStore) assert.match(e.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  assert.equal(status(unit).trustStore, r.trustStore)
  void T0
})

test.run()
