import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {PROFILES} from '../support/run.js'
import {ownTempDir} from './license-server-helpers.js'
import {alarmIds, at, expect, human, makeLicenseServer, ok, profileFor, status, treeHash, unitFrom, type LicenseServer} from './licensing-helpers.js'

// Authorization renewal and usage reports are separate exchanges (SPEC 11), against a real
// license server process and moving XWAY_NOW: usage is reported every 6 hours and never moves
// the authorization's expiry; the authorization renews every 30 days and expires 90 days after
// the last renewal. `licensing usage` is Cisco's "License usage", `--refresh` its "Update usage
// details".

const test = suite('licensing usage')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; unit: string}
const HOUR = 60

type Exchange = {method: string; report?: string; ok: boolean}
const kinds = (r: {exchanges: Exchange[]}) => r.exchanges.map((e) => `${e.report ?? e.method}:${e.ok}`)

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-usage-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 10})
  await ctx.server.start()
  ctx.unit = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server), 'usage')
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test('2 days of 6-hourly syncs: a usage report each time, and the authorization expiry stays where the registration\'s authorization put it', async () => {
  const r = ok(['licensing', 'register', ctx.unit, '--token', ctx.server.token()], at(1))
  assert.equal(kinds(r), ['register:true', 'authorization:true'])
  assert.is(r.licensing.authorization.expiresAt, at(91))
  assert.is(r.licensing.authorization.nextRenewalAt, at(31))
  for (let k = 1; k <= 8; k++) {
    const when = at(1, k * 6 * HOUR)
    const s = ok(['licensing', 'sync', ctx.unit], when)
    assert.equal(kinds(s), ['usage:true'], `sync at ${when}`)
    assert.is(s.licensing.authorization.expiresAt, at(91), `a usage report at ${when} moved the expiry`)
    assert.is(s.licensing.authorization.nextRenewalAt, at(31))
    // between two reports nothing is due
    assert.equal(ok(['licensing', 'sync', ctx.unit], at(1, k * 6 * HOUR + 5 * HOUR)).exchanges, [])
  }
  const u = ok(['licensing', 'usage', ctx.unit], at(3, 1))
  assert.is(u.lastReportedAt, at(3))
  assert.is(u.nextReportAt, at(3, 6 * HOUR))
  assert.is(u.refreshed, false)
  assert.equal(u.licenses, [{type: 'Rich Media Session', inUse: 2, status: 'Authorized'}])
  // the status says the same: authorized until 90 days after the registration's authorization
  assert.is(status(ctx.unit, at(90, 23 * HOUR)).authorization.status, 'Authorized')
  assert.is(status(ctx.unit, at(91)).authorization.status, 'Authorization Expired', 'usage reports alone never renew the authorization')
})

test('a usage report carries the new usage: Waiting until it is reported, then Authorized, and the server holds it', async () => {
  ok(['usage', 'set', ctx.unit, '--calls', '4'], at(3, 2 * HOUR))
  assert.equal(ok(['licensing', 'usage', ctx.unit], at(3, 2 * HOUR)).licenses, [{type: 'Rich Media Session', inUse: 4, status: 'Waiting'}])
  const before = treeHash(ctx.unit)
  ok(['licensing', 'usage', ctx.unit], at(3, 2 * HOUR))
  assert.is(treeHash(ctx.unit), before, 'without --refresh nothing changes')

  // --refresh: "Update usage details", one usage report now
  const r = ok(['licensing', 'usage', ctx.unit, '--refresh'], at(3, 2 * HOUR))
  assert.is(r.refreshed, true)
  assert.equal(kinds(r), ['usage:true'])
  assert.equal(r.licenses, [{type: 'Rich Media Session', inUse: 4, status: 'Authorized'}])
  assert.is(r.lastReportedAt, at(3, 2 * HOUR))
  assert.is(r.nextReportAt, at(3, 8 * HOUR))
  assert.is(ctx.server.pool().rms!.inUse, 4)
  assert.is(status(ctx.unit, at(3, 2 * HOUR)).authorization.expiresAt, at(91))
  const text = human(['licensing', 'usage', ctx.unit], at(3, 3 * HOUR))
  assert.is(text.code, 0)
  assert.match(text.stdout, /^Rich Media Session: 4 in use, Authorized$/m)
  assert.match(text.stdout, new RegExp(`^Last reported: ${at(3, 2 * HOUR).replace(/\./g, '\\.')}; next report: `, 'm'))
})

test('the authorization renews at 30 days (its renewal carries the usage too) and starts a new 90 days', async () => {
  const r = ok(['licensing', 'sync', ctx.unit], at(31))
  assert.equal(kinds(r), ['authorization:true'])
  assert.is(r.licensing.authorization.expiresAt, at(121))
  assert.is(r.licensing.authorization.nextRenewalAt, at(61))
  assert.is(ok(['licensing', 'usage', ctx.unit], at(31)).lastReportedAt, at(31))
  assert.equal(ok(['licensing', 'sync', ctx.unit], at(31, 5 * HOUR)).exchanges, [])
})

test('a usage report that cannot happen: recorded (retry in 15 minutes, alarms), and the authorization stays as the last renewal left it', async () => {
  await ctx.server.stop()
  const r = expect(6, ['licensing', 'sync', ctx.unit], at(31, 7 * HOUR))
  assert.match(r.error.message, /^Usage report could not happen: The last attempt to report smart software licensing usage failed because of the following reason: HTTP Server Error 200: Operation timed out\./)
  const s = status(ctx.unit, at(31, 7 * HOUR))
  assert.ok(r.error.message.includes(s.registration.lastError), 'the stored error is the one the command reported')
  assert.is(s.authorization.status, 'Authorized')
  assert.is(s.authorization.expiresAt, at(121))
  assert.equal(alarmIds(ctx.unit, at(31, 7 * HOUR)), [30042, 30044])
  const u = ok(['licensing', 'usage', ctx.unit], at(31, 7 * HOUR))
  assert.is(u.lastReportedAt, at(31))
  assert.is(u.nextReportAt, at(31, 7 * HOUR + 15))
  expect(6, ['licensing', 'usage', ctx.unit, '--refresh'], at(31, 8 * HOUR))

  await ctx.server.start()
  const back = ok(['licensing', 'sync', ctx.unit], at(31, 9 * HOUR))
  assert.equal(kinds(back), ['usage:true'])
  assert.is(back.licensing.registration.lastError, null)
  assert.is(back.licensing.authorization.expiresAt, at(121))
  assert.equal(alarmIds(ctx.unit, at(31, 9 * HOUR)), [])
})

test('--refresh needs a registration (exit 3, unit unchanged); usage of a unit without smart licensing is refused; --help has examples', async () => {
  const fresh = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server, {name: 'fresh'}), 'fresh')
  const before = treeHash(fresh)
  const r = expect(3, ['licensing', 'usage', fresh, '--refresh'], at(1))
  assert.match(r.error.message, /not registered/)
  assert.is(treeHash(fresh), before)
  // an unregistered unit shows its usage in evaluation, and reports nothing
  assert.equal(ok(['licensing', 'usage', fresh], at(1)), {unit: fresh, licenses: [{type: 'Rich Media Session', inUse: 2, status: 'Evaluation Mode'}], lastReportedAt: null, nextReportAt: null, refreshed: false, exchanges: [], warnings: []})
  // registered, its first authorization never completed: --refresh makes it, and the 90 days start
  ok(['licensing', 'register', fresh, '--token', ctx.server.token()], at(1))
  const file = join(fresh, 'tandberg/persistent/licensing/licensing.json')
  const stored = JSON.parse(readFileSync(file, 'utf8'))
  stored.authorization = {lastSuccessAt: null, lastAttemptAt: null, result: null, licenses: [], nextAttemptAt: null}
  stored.usageReportedAt = null
  writeFileSync(file, JSON.stringify(stored))
  assert.is(status(fresh, at(2)).authorization.status, 'Evaluation Mode')
  const first = ok(['licensing', 'usage', fresh, '--refresh'], at(2))
  assert.equal(kinds(first), ['authorization:true'])
  assert.is(status(fresh, at(2)).authorization.expiresAt, at(92))
  ok(['licensing', 'deregister', fresh], at(2))
  const legacy = join(ctx.tmp.path, 'legacy')
  ok(['image', 'create', legacy, '--profile', join(PROFILES, 'x14.0.2.yaml'), '--seed', 'legacy-usage'])
  assert.match(expect(3, ['licensing', 'usage', legacy]).error.message, /not enabled/)
  const help = human(['licensing', 'usage', '--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, /EXAMPLES[\s\S]*licensing usage \.\/units\/exp-c1 --refresh/)
  ok(['licensing', 'deregister', ctx.unit], at(32))
})

test.run()
