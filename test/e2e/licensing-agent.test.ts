import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {ownTempDir} from './license-server-helpers.js'
import {at, expect, makeLicenseServer, ok, profileFor, run, status, T0, treeHash, udiOf, unitFrom, type LicenseServer} from './licensing-helpers.js'

// The agent against a real license server process on loopback: register, authorize,
// out-of-compliance, renew, deregister (the pool released), the token refusals, hidden
// identity, a changed hostname, reregistration into another virtual account, restore.

const LIC = 'tandberg/persistent/licensing'
const test = suite('licensing agent')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; profile: string}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-agent-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 5, room: 2, desktop: 2}, ['lab', 'other'])
  await ctx.server.start()
  ctx.profile = profileFor(ctx.tmp.path, ctx.server)
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test('registers with a token: Registered, authorized for its usage, key 0600, no token kept, the pool counts it', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'reg')
  const token = ctx.server.token()
  const r = ok(['licensing', 'register', unit, '--token', token], at(1))
  assert.is(r.licensing.registration.status, 'Registered')
  assert.is(r.licensing.registration.smartAccount, 'Acme')
  assert.is(r.licensing.registration.virtualAccount, 'lab')
  assert.is(r.licensing.registration.exportControlled, 'Allowed')
  assert.is(r.licensing.registration.expiresAt, at(366))
  assert.is(r.licensing.authorization.status, 'Authorized')
  assert.is(r.licensing.authorization.expiresAt, at(91))
  assert.equal(r.licensing.licenses, [{type: 'Rich Media Session', inUse: 2, status: 'Authorized'}])
  assert.equal(r.exchanges.map((e: {method: string; ok: boolean}) => `${e.method}:${e.ok}`), ['register:true', 'authorize:true'])
  assert.is(statSync(join(unit, LIC, 'agent.key')).mode & 0o777, 0o600)
  assert.ok(readFileSync(join(unit, LIC, 'agent.pem'), 'utf8').includes('BEGIN CERTIFICATE'))
  assert.not.ok(existsSync(join(unit, LIC, 'token')))
  // the token never lands anywhere in the unit (audit included)
  assert.not.ok(readFileSync(join(unit, 'var/lib/xway/audit.jsonl'), 'utf8').includes(token))
  assert.not.ok(readFileSync(join(unit, LIC, 'licensing.json'), 'utf8').includes(token))
  const inst = ctx.server.instances().find((i) => i.udi === udiOf(unit))!
  assert.is(inst.hostname, 'exp-c1')
  assert.is(inst.virtualAccount, 'lab')
  // the same object as image inspect's licensing
  assert.equal(status(unit, at(1)), ok(['image', 'inspect', unit], at(1)).licensing)
  ok(['image', 'verify', unit])
  ok(['licensing', 'deregister', unit], at(2))
})

test('a registered unit without --force is refused (exit 3) and left byte-for-byte unchanged', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'twice')
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  const before = treeHash(unit)
  const r = expect(3, ['licensing', 'register', unit, '--token', ctx.server.token()], at(2))
  assert.match(r.error.message, /already registered/)
  assert.match(r.error.actions.join(' '), /--force/)
  assert.is(treeHash(unit), before)
  ok(['licensing', 'deregister', unit], at(2))
})

test('out-of-compliance when the pool cannot cover the report; renew after usage drops; deregister releases the pool', async () => {
  const rms0 = ctx.server.pool().rms!.inUse
  const big = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server, {name: 'big', calls: 9}), 'big')
  const r = ok(['licensing', 'register', big, '--token', ctx.server.token()], at(1))
  assert.is(r.licensing.registration.status, 'Registered')
  assert.is(r.licensing.authorization.status, 'Out-of-compliance')
  assert.equal(r.licensing.licenses, [{type: 'Rich Media Session', inUse: 9, status: 'Out of compliance'}])
  let pool = ctx.server.pool()
  assert.is(pool.rms!.inUse, rms0, 'an uncovered report is granted nothing')
  assert.ok(pool.rms!.shortage >= 9 - (5 - rms0))
  assert.ok(pool.rms!.inUse <= pool.rms!.owned)

  ok(['usage', 'set', big, '--calls', '3'], at(2))
  const renewed = ok(['licensing', 'renew', big, '--authorization'], at(2))
  assert.is(renewed.licensing.authorization.status, 'Authorized')
  assert.is(renewed.licensing.authorization.expiresAt, at(92))
  pool = ctx.server.pool()
  assert.is(pool.rms!.inUse, rms0 + 3)

  const d = ok(['licensing', 'deregister', big], at(3))
  assert.equal(d.released, {rms: 3, room: 0, desktop: 0})
  assert.equal(d.warnings, [])
  assert.is(d.licensing.registration.status, 'Unregistered')
  assert.is(d.licensing.authorization.status, 'Evaluation Mode', 'back to evaluation: it has not expired')
  assert.is(ctx.server.pool().rms!.inUse, rms0)
  assert.not.ok(ctx.server.instances().some((i) => i.udi === udiOf(big)))
  assert.not.ok(existsSync(join(big, LIC, 'agent.pem')))
  // after the evaluation period, deregistration leaves it Evaluation Expired
  assert.is(status(big, at(95)).authorization.status, 'Evaluation Expired')
})

test('an invalid token: Unregistered: Registration Failed, exit 4, nothing kept', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'invalid')
  const r = expect(4, ['licensing', 'register', unit, '--token', 'NoSuchTokenAtAll123'], at(1))
  assert.is(r.error.code, 'bad-input')
  assert.match(r.error.message, /token/i)
  const s = status(unit, at(1))
  assert.is(s.registration.status, 'Unregistered: Registration Failed')
  assert.ok(s.registration.lastError)
  assert.is(s.registration.nextAttemptAt, null)
  assert.is(s.authorization.status, 'Evaluation Mode')
  assert.not.ok(existsSync(join(unit, LIC, 'token')))
  // a good token afterwards registers it
  assert.is(ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1)).licensing.registration.status, 'Registered')
  ok(['licensing', 'deregister', unit], at(2))
})

test('an expired token (by the server\'s clock) and a used-up token fail with exit 4', async () => {
  // the server judges expiry by its own clock: a token made "in 2020" has long expired
  const expired = ctx.server.token({now: '2020-01-01T00:00:00Z'})
  const a = unitFrom(ctx.tmp.path, ctx.profile, 'expired-token')
  const r = expect(4, ['licensing', 'register', a, '--token', expired], at(1))
  assert.match(r.error.message, /expired/)
  assert.is(status(a, at(1)).registration.status, 'Unregistered: Registration Failed')

  const once = ctx.server.token({uses: 1})
  const b = unitFrom(ctx.tmp.path, ctx.profile, 'once-b')
  const c = unitFrom(ctx.tmp.path, ctx.profile, 'once-c')
  ok(['licensing', 'register', b, '--token', once], at(1))
  const used = expect(4, ['licensing', 'register', c, '--token', once], at(1))
  assert.match(used.error.message, /used/)
  assert.is(status(c, at(1)).registration.status, 'Unregistered: Registration Failed')
  ok(['licensing', 'deregister', b], at(2))
})

test('hide-identity: the server never learns hostname or IP, also on renewal', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'hidden')
  const t = ok(['licensing', 'transport', unit, '--hide-identity'])
  assert.is(t.hideIdentity, true)
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  const inst = () => ctx.server.instances().find((i) => i.udi === udiOf(unit)) as {hostname: string | null; ip?: string | null}
  assert.is(inst().hostname, null)
  assert.is(inst().ip ?? null, null)
  ok(['network', 'set', unit, '--hostname', 'secret-name'], at(2))
  ok(['licensing', 'renew', unit, '--registration'], at(2))
  assert.is(inst().hostname, null)
  assert.is(status(unit, at(2)).hideIdentity, true)
  ok(['licensing', 'deregister', unit], at(3))
})

test('a changed hostname reaches the server on registration renewal (not before)', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'rename')
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  const host = () => ctx.server.instances().find((i) => i.udi === udiOf(unit))!.hostname
  assert.is(host(), 'exp-c1')
  ok(['network', 'set', unit, '--hostname', 'exp-c9'], at(2))
  ok(['licensing', 'renew', unit, '--authorization'], at(2))
  assert.is(host(), 'exp-c1')
  const r = ok(['licensing', 'renew', unit, '--registration'], at(40))
  assert.is(host(), 'exp-c9')
  // the registration year starts again at the renewal (the unit's clock)
  assert.is(r.licensing.registration.expiresAt, at(40 + 365))
  ok(['licensing', 'deregister', unit], at(41))
})

test('renew is refused on an unregistered unit (exit 3); exactly one of --authorization/--registration', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'norenew')
  const before = treeHash(unit)
  assert.match(expect(3, ['licensing', 'renew', unit, '--authorization']).error.message, /not registered/)
  expect(2, ['licensing', 'renew', unit])
  expect(3, ['licensing', 'deregister', unit])
  assert.is(treeHash(unit), before)
})

test('--force reregisters into another virtual account; the old account gets its licenses back', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'mover')
  const inUse0 = ctx.server.pool('lab').rms!.inUse
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  assert.is(ctx.server.pool('lab').rms!.inUse, inUse0 + 2)
  const r = ok(['licensing', 'register', unit, '--token', ctx.server.token({va: 'other'}), '--force'], at(2))
  assert.is(r.licensing.registration.virtualAccount, 'other')
  assert.is(r.licensing.authorization.status, 'Authorized')
  assert.is(ctx.server.pool('lab').rms!.inUse, inUse0)
  assert.is(ctx.server.pool('other').rms!.inUse, 2)
  assert.is(ctx.server.instances().find((i) => i.udi === udiOf(unit))!.virtualAccount, 'other')
  // a failed reregistration keeps the registration it had
  expect(4, ['licensing', 'register', unit, '--token', 'bogus-token', '--force'], at(3))
  const s = status(unit, at(3))
  assert.is(s.registration.status, 'Registered')
  assert.is(s.registration.virtualAccount, 'other')
  ok(['licensing', 'deregister', unit], at(4))
  assert.is(ctx.server.pool('other').rms!.inUse, 0)
})

test('evaluation expired and unregistered: Unauthorized, and registering is the way out', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'late')
  const s = status(unit, at(91))
  assert.is(s.authorization.status, 'Evaluation Expired')
  assert.is(s.unauthorized, true)
  const r = ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(91))
  assert.is(r.licensing.registration.status, 'Registered')
  assert.is(r.licensing.authorization.status, 'Authorized')
  assert.is(r.licensing.unauthorized, false)
  ok(['licensing', 'deregister', unit], at(92))
  assert.is(status(unit, at(92)).authorization.status, 'Evaluation Expired')
})

test('a restored registration (same serial) works against the server: the agent key comes back with it', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'restored')
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  const env = {XWAY_BACKUP_PASSWORD: 'correct horse battery staple'}
  const file = join(ctx.tmp.path, 'restored.backup.enc')
  ok(['backup', 'create', unit, '-o', file], at(2), env)
  // a factory reset keeping the brand but not -t drops the registration and the agent key
  ok(['factory-reset', unit, '-v', '-i', '--yes'], at(3))
  assert.is(status(unit, at(3)).registration.status, 'Unregistered')
  assert.not.ok(existsSync(join(unit, LIC, 'agent.key')))
  ok(['backup', 'restore', unit, file, '--yes'], at(4), env)
  assert.is(status(unit, at(4)).registration.status, 'Registered')
  const r = ok(['licensing', 'renew', unit, '--authorization'], at(5))
  // usage is not in backups: the reset left it at zero, and that is what the server hears now
  assert.is(r.licensing.authorization.status, 'No Licenses in Use')
  assert.is(r.exchanges[0].ok, true)
  ok(['licensing', 'renew', unit, '--registration'], at(5))
  const d = ok(['licensing', 'deregister', unit], at(6))
  assert.equal(d.warnings, [])
})

test('a unit removed on the server learns it at its next exchange: unregistered, exit 3', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'removed')
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  ok(['license-server', 'instances', 'remove', ctx.server.dir, udiOf(unit)], '')
  const r = expect(3, ['licensing', 'renew', unit, '--authorization'], at(2))
  assert.match(r.error.message, /no longer knows/)
  const s = status(unit, at(2))
  assert.is(s.registration.status, 'Unregistered')
  assert.match(s.registration.lastError, /removed/)
  assert.is(run(['image', 'verify', unit]).code, 0)
  void T0
})

test('image create registers right after building with licensing.register.tokenFromEnv; a missing variable stops it before building', async () => {
  const profile = profileFor(ctx.tmp.path, ctx.server, {name: 'autoreg', extra: '  register: { tokenFromEnv: XWAY_TEST_TOKEN }'})
  const unit = join(ctx.tmp.path, 'autoreg')
  const missing = run(['image', 'create', unit, '--profile', profile, '--seed', 'autoreg'], T0, {XWAY_TEST_TOKEN: ''})
  assert.is(missing.code, 2, missing.stdout)
  assert.not.ok(existsSync(unit))
  const r = ok(['image', 'create', unit, '--profile', profile, '--seed', 'autoreg'], T0, {XWAY_TEST_TOKEN: ctx.server.token()})
  assert.equal(r.licensing, {registration: 'Registered', authorization: 'Authorized'})
  assert.ok(ctx.server.instances().some((i) => i.udi === udiOf(unit)))
  // a refused token: the unit stays built, the exit code is the registration's
  const unit2 = join(ctx.tmp.path, 'autoreg-bad')
  const bad = expect(4, ['image', 'create', unit2, '--profile', profile, '--seed', 'autoreg-bad'], T0, {XWAY_TEST_TOKEN: 'not-a-real-token'})
  assert.match(bad.error.message, /Built .*but registering it failed/)
  assert.is(status(unit2).registration.status, 'Unregistered: Registration Failed')
  ok(['licensing', 'deregister', unit], at(1))
})

test('a profile\'s proxy password (passwordFromEnv) is stored encrypted at build, reproducibly with --seed', async () => {
  const profile = profileFor(ctx.tmp.path, ctx.server, {name: 'proxyenv', transport: '{ mode: proxy, host: 127.0.0.1, port: 3128, username: lic, passwordFromEnv: XWAY_TEST_PROXY_PW }'})
  const env = {XWAY_TEST_PROXY_PW: 'Build-Time-Secret'}
  const a = join(ctx.tmp.path, 'proxyenv-a')
  const b = join(ctx.tmp.path, 'proxyenv-b')
  ok(['image', 'create', a, '--profile', profile, '--seed', 'same'], T0, env)
  ok(['image', 'create', b, '--profile', profile, '--seed', 'same'], T0, env)
  const enc = readFileSync(join(a, LIC, 'proxy-password.enc'))
  assert.ok(enc.subarray(0, 4).equals(Buffer.from('XWS1')))
  assert.not.ok(enc.includes(Buffer.from('Build-Time-Secret')))
  assert.is(statSync(join(a, LIC, 'proxy-password.enc')).mode & 0o777, 0o600)
  assert.ok(enc.equals(readFileSync(join(b, LIC, 'proxy-password.enc'))), 'same profile + seed + now: the same bytes')
  assert.equal(status(a).transport.proxy, {host: '127.0.0.1', port: 3128, username: 'lic'})
  expect(2, ['image', 'create', join(ctx.tmp.path, 'proxyenv-c'), '--profile', profile], T0, {XWAY_TEST_PROXY_PW: ''})
})

test.run()
