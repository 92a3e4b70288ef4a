import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {ownTempDir} from './license-server-helpers.js'
import {at, expectAsync, makeLicenseServer, ok, profileFor, status, storedLicensing, type LicenseServer} from './licensing-helpers.js'

// Per-type status (SPEC 11) against a real license server process: 10 units register at
// once against a pool that covers one type (Room Registrations) and not the other (Rich Media
// Session). Whatever the server grants, every unit shows exactly what it was granted per type,
// its overall status is Out-of-compliance exactly when one of its types is, and the pool is
// never over-allocated. A server that grants per type (its reply carries each type's status)
// must leave every unit's Room Authorized and give Rich Media Session to 5 of them.

const UNITS = 10
const test = suite('licensing per type')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; units: string[]}

type Line = {type: string; inUse: number; status: string}
type Grant = {type: string; requested: number; granted: number; status?: string}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-per-type-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: UNITS / 2, room: UNITS})
  await ctx.server.start()
  const profile = profileFor(ctx.tmp.path, ctx.server, {calls: 1, room: 1})
  ctx.units = await Promise.all(Array.from({length: UNITS}, async (_, i) => {
    const unit = join(ctx.tmp.path, `u${i}`)
    await expectAsync(0, ['image', 'create', unit, '--profile', profile, '--seed', `per-type-${i}`])
    return unit
  }))
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

const NAMES: Record<string, string> = {rms: 'Rich Media Session', room: 'Room Registrations'}

test('10 units at once: each shows per type what it was granted; overall Out-of-compliance exactly when a type is; the pool never over-allocated', async () => {
  const token = ctx.server.token()
  const results = await Promise.all(ctx.units.map((unit) => expectAsync(0, ['licensing', 'register', unit, '--token', token], at(1))))
  const pool = ctx.server.pool()
  assert.ok(pool.rms!.inUse <= pool.rms!.owned && pool.room!.inUse <= pool.room!.owned, JSON.stringify(pool))

  const held: Record<string, number> = {rms: 0, room: 0}
  results.forEach((r, i) => {
    const licensing = r.licensing
    assert.is(licensing.registration.status, 'Registered')
    const grants = storedLicensing(ctx.units[i]!).authorization.licenses as Grant[]
    // the server answers each type asked for with its own status
    assert.ok(grants.filter((g) => g.requested > 0).every((g) => g.status !== undefined), JSON.stringify(grants))
    const lines = licensing.licenses as Line[]
    assert.equal(lines.map((l) => l.type), ['Rich Media Session', 'Room Registrations'])
    for (const type of ['rms', 'room']) {
      const grant = grants.find((g) => g.type === type)!
      held[type]! += grant.granted
      const line = lines.find((l) => l.type === NAMES[type])!
      // the unit shows the server's answer for the type, never the whole report's
      assert.is(line.status, grant.granted >= 1 ? 'Authorized' : 'Out of compliance', `${ctx.units[i]} ${type}: ${JSON.stringify(grant)}`)
      if (grant.status) assert.is(line.status, grant.status === 'authorized' ? 'Authorized' : 'Out of compliance')
    }
    const short = lines.some((l) => l.status === 'Out of compliance')
    assert.is(licensing.authorization.status, short ? 'Out-of-compliance' : 'Authorized')
    // the same status a person reads later
    assert.equal(status(ctx.units[i]!, at(1)).licenses, lines)
  })
  // what the units hold is what the pool counts in use
  assert.is(held.rms, pool.rms!.inUse)
  assert.is(held.room, pool.room!.inUse)

  const room = results.map((r) => (r.licensing.licenses as Line[]).find((l) => l.type === 'Room Registrations')!.status)
  const rms = results.map((r) => (r.licensing.licenses as Line[]).find((l) => l.type === 'Rich Media Session')!.status)
  assert.equal(room, Array(UNITS).fill('Authorized'), 'the pool covers every Room registration')
  assert.is(rms.filter((s) => s === 'Authorized').length, UNITS / 2)
  assert.is(rms.filter((s) => s === 'Out of compliance').length, UNITS / 2)
  assert.equal([pool.room!.inUse, pool.room!.shortage, pool.rms!.inUse, pool.rms!.shortage], [UNITS, 0, UNITS / 2, UNITS / 2])
})

test('a unit out of compliance gives up the type it cannot have: the next renewal authorizes it, and the shortage leaves the pool', async () => {
  const short = ctx.units.filter((u) => status(u, at(2)).authorization.status === 'Out-of-compliance')
  assert.ok(short.length > 0)
  await Promise.all(short.map(async (unit) => {
    await expectAsync(0, ['usage', 'set', unit, '--calls', '0'], at(2))
    const r = await expectAsync(0, ['licensing', 'renew', unit, '--authorization'], at(2))
    assert.equal(r.licensing.licenses, [{type: 'Room Registrations', inUse: 1, status: 'Authorized'}])
    assert.is(r.licensing.authorization.status, 'Authorized')
  }))
  const pool = ctx.server.pool()
  assert.equal([pool.rms!.shortage, pool.room!.shortage, pool.room!.inUse], [0, 0, UNITS])
  for (const unit of ctx.units) ok(['licensing', 'deregister', unit], at(3))
  assert.equal([ctx.server.pool().rms!.inUse, ctx.server.pool().room!.inUse], [0, 0])
})

test.run()
