import {existsSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {REGISTRATION_TIMEOUT_MESSAGE} from '../../src/licensing/timers.js'
import {ownTempDir} from './license-server-helpers.js'
import {alarmIds, at, expect, human, makeLicenseServer, ok, profileFor, status, udiOf, unitFrom, type LicenseServer} from './licensing-helpers.js'

// The agent when the license server cannot be reached, moved through time with XWAY_NOW and
// `licensing sync`: pending registrations retried every 15 minutes, alarms 30042/30044 raised
// and cleared by the next success, authorization expiring 90 days and registration one year
// after the last success, Direct without DNS, deregistration while offline.

const LIC = 'tandberg/persistent/licensing'
const test = suite('licensing offline')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; profile: string; pendingUnit?: string}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-offline-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 20})
  ctx.profile = profileFor(ctx.tmp.path, ctx.server)
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test('server down: Registration Pending with Cisco\'s message, retried every 15 minutes by sync; alarms until the success', async () => {
  await ctx.server.stop()
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'pending')
  const token = ctx.server.token()
  const r = expect(6, ['licensing', 'register', unit, '--token', token], at(1))
  assert.is(r.error.code, 'unreachable')
  assert.match(r.error.message, /Registration pending/)
  let s = status(unit, at(1))
  assert.is(s.registration.status, 'Unregistered: Registration Pending')
  assert.is(s.registration.lastError, REGISTRATION_TIMEOUT_MESSAGE)
  assert.is(s.registration.nextAttemptAt, at(1, 15))
  assert.is(s.authorization.status, 'Evaluation Mode')
  assert.equal(alarmIds(unit, at(1)), [30042, 30044])
  assert.is(statSync(join(unit, LIC, 'token')).mode & 0o777, 0o600, 'the token is kept 0600 while pending')

  // before the 15 minutes are over, nothing is due
  const early = ok(['licensing', 'sync', unit], at(1, 10))
  assert.equal(early.exchanges, [])
  assert.is(early.licensing.registration.status, 'Unregistered: Registration Pending')

  // still down at the retry: the next one is 15 minutes later
  const again = expect(6, ['licensing', 'sync', unit], at(1, 16))
  assert.match(again.error.message, /Registration pending/)
  assert.is(status(unit, at(1, 16)).registration.nextAttemptAt, at(1, 31))

  await ctx.server.start()
  const done = ok(['licensing', 'sync', unit], at(1, 31))
  assert.equal(done.exchanges.map((e: {method: string; ok: boolean}) => `${e.method}:${e.ok}`), ['register:true', 'authorize:true'])
  s = done.licensing
  assert.is(s.registration.status, 'Registered')
  assert.is(s.registration.lastError, null)
  assert.is(s.registration.nextAttemptAt, null)
  assert.is(s.registration.expiresAt, at(366, 31))
  assert.is(s.authorization.status, 'Authorized')
  assert.equal(alarmIds(unit, at(1, 31)), [])
  assert.not.ok(existsSync(join(unit, LIC, 'token')), 'the token is deleted once registered')
  assert.ok(ctx.server.instances().some((i) => i.udi === udiOf(unit)))
  ctx.pendingUnit = unit
})

test('server down for 91 days: Authorization Expired; the next success clears the alarms and authorizes again', async () => {
  const unit = ctx.pendingUnit!
  // usage reports every 6 hours: due at 7 hours, not again a minute later
  assert.equal(ok(['licensing', 'sync', unit], at(1, 7 * 60)).exchanges.map((e: {method: string}) => e.method), ['authorize'])
  assert.equal(ok(['licensing', 'sync', unit], at(1, 7 * 60 + 1)).exchanges, [])

  await ctx.server.stop()
  const r = expect(6, ['licensing', 'sync', unit], at(32))
  assert.match(r.error.message, /Authorization could not happen/)
  let s = status(unit, at(32))
  assert.is(s.authorization.status, 'Authorized', 'still within 90 days of the last success')
  assert.match(s.registration.lastError, /authorization/)
  assert.is(s.registration.nextAttemptAt, at(32, 15))
  assert.equal(alarmIds(unit, at(32)), [30042, 30044])

  expect(6, ['licensing', 'sync', unit], at(92))
  s = status(unit, at(92))
  assert.is(s.authorization.status, 'Authorization Expired')
  assert.is(s.registration.status, 'Registered')
  assert.equal(s.licenses, [{type: 'Rich Media Session', inUse: 2, status: 'Authorization Expired'}])
  // the status is a function of state and now: without any sync it is the same a day later
  assert.is(status(unit, at(93)).authorization.status, 'Authorization Expired')

  await ctx.server.start()
  const back = ok(['licensing', 'sync', unit], at(93))
  assert.is(back.licensing.authorization.status, 'Authorized')
  assert.is(back.licensing.authorization.expiresAt, at(183))
  assert.is(back.licensing.registration.lastError, null)
  assert.equal(alarmIds(unit, at(93)), [])
})

test('registration renewed at 6 months; with the server down it expires one year after the last renewal', async () => {
  const unit = ctx.pendingUnit!
  const renewed = ok(['licensing', 'sync', unit], at(185))
  assert.ok(renewed.exchanges.some((e: {method: string; ok: boolean}) => e.method === 'renew-registration' && e.ok))
  assert.is(renewed.licensing.registration.expiresAt, new Date(Date.parse(at(185)) + 365 * 86_400_000).toISOString())

  await ctx.server.stop()
  expect(6, ['licensing', 'sync', unit], at(370))
  assert.is(status(unit, at(549)).registration.status, 'Registered')
  const s = status(unit, at(551))
  assert.is(s.registration.status, 'Unregistered: Registration Expired')
  assert.is(s.authorization.status, 'Evaluation Expired')
  assert.is(s.unauthorized, true)
  // an expired registration has nothing to renew
  expect(3, ['licensing', 'renew', unit, '--registration'], at(551))
  const synced = ok(['licensing', 'sync', unit], at(551))
  assert.equal(synced.exchanges, [])
  assert.is(synced.notes.length, 1)
  assert.match(synced.notes[0], /^The registration expired on .*\(Evaluation Expired since .*Unauthorized/)
  // what a person reads: sync says it expired (never "Nothing was due" alone), status shows it with the evaluation's state
  const said = human(['licensing', 'sync', unit], at(551))
  assert.is(said.code, 0, said.stderr)
  assert.match(said.stdout, /^The registration expired on /m)
  assert.not.match(said.stdout, /Nothing was due/)
  const shown = human(['licensing', 'status', unit], at(551))
  assert.match(shown.stdout, /^Registration: +Unregistered: Registration Expired/m)
  assert.match(shown.stdout, /^Authorization: +Evaluation Expired/m)
  assert.match(shown.stdout, /^The registration expired on .*Evaluation Expired since /m)

  // registering again (no --force needed) is the way out
  await ctx.server.start()
  const r = ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(552))
  assert.is(r.licensing.registration.status, 'Registered')
  assert.is(r.licensing.authorization.status, 'Authorized')
})

test('deregistering while the server is down: deregistered anyway, with the warning to remove the instance on the server', async () => {
  const unit = ctx.pendingUnit!
  await ctx.server.stop()
  const r = ok(['licensing', 'deregister', unit], at(553))
  assert.is(r.released, null)
  assert.is(r.warnings.length, 1)
  assert.match(r.warnings[0], /remove the product instance/i)
  assert.ok(r.warnings[0].includes(udiOf(unit)))
  assert.is(r.licensing.registration.status, 'Unregistered')
  assert.equal(alarmIds(unit, at(553)).filter((id) => id === 30042 || id === 30044), [])
  await ctx.server.start()
  assert.ok(ctx.server.instances().some((i) => i.udi === udiOf(unit)), 'the server still holds it until an admin removes it')
  ok(['license-server', 'instances', 'remove', ctx.server.dir, udiOf(unit)], '')
})

test('Direct without DNS servers: pending with a clear reason and alarms; configuring DNS and the next sync register it', async () => {
  if (!ctx.server.running) await ctx.server.start()
  const profile = profileFor(ctx.tmp.path, ctx.server, {name: 'nodns', transport: '{ mode: direct }', dns: '[]'})
  const unit = unitFrom(ctx.tmp.path, profile, 'nodns')
  const r = expect(6, ['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  assert.match(r.error.message, /DNS/)
  assert.match(r.error.actions.join(' '), /network set .* --dns/)
  const s = status(unit, at(1))
  assert.is(s.registration.status, 'Unregistered: Registration Pending')
  assert.match(s.registration.lastError, /No DNS server is configured/)
  assert.equal(alarmIds(unit, at(1)), [30042, 30044])
  // the transport command says so too
  const t = ok(['licensing', 'transport', unit, '--direct'], at(1))
  assert.match(t.warnings.join(' '), /DNS/)

  ok(['network', 'set', unit, '--dns', '192.0.2.53'], at(1, 5))
  const done = ok(['licensing', 'sync', unit], at(1, 16))
  assert.is(done.licensing.registration.status, 'Registered')
  assert.is(done.licensing.transport.mode, 'direct')
  assert.equal(alarmIds(unit, at(1, 16)), [])
  ok(['licensing', 'deregister', unit], at(2))
})

test.run()
