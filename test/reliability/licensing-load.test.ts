import {cpSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {ownTempDir, pool} from '../e2e/license-server-helpers.js'
import {unitLicensingStatus} from '../../src/agent/queries.js'
import type {SmartLicensingView} from '../../src/licensing/status.js'
import {at, makeLicenseServer, ok, profileFor, runAsync, udiOf, unitFrom, type LicenseServer} from '../e2e/licensing-helpers.js'

// 50 units (50 agent processes) register at once against a pool too small for all of them:
// the server never over-allocates, loses no registration, and every unit's own status agrees
// with what the pool granted it. Then all of them deregister at once and the pool is whole.
// Bounded: the whole file must finish within 60 s.

const UNITS = 50
const CALLS = 2
const OWNED = 60 // 30 units fit, 20 do not
const CONCURRENCY = 50
const test = suite('licensing load')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; units: string[]; started: number}

test.before(async () => {
  ctx.started = Date.now()
  ctx.tmp = ownTempDir('xway-lic-load-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: OWNED})
  await ctx.server.start()
  const profile = profileFor(ctx.tmp.path, ctx.server, {calls: CALLS})
  const first = unitFrom(ctx.tmp.path, profile, 'u00')
  // copies of one built unit, each with its own serial (hence its own UDI): building 50 would
  // only measure image create
  ctx.units = [first]
  const xml = readFileSync(join(first, 'info/product_info.xml'), 'utf8')
  for (let i = 1; i < UNITS; i++) {
    const unit = join(ctx.tmp.path, `u${String(i).padStart(2, '0')}`)
    cpSync(first, unit, {recursive: true})
    writeFileSync(join(unit, 'info/product_info.xml'), xml.replace(/<serial>[^<]*<\/serial>/, `<serial>L0AD${String(i).padStart(4, '0')}</serial>`))
    ctx.units.push(unit)
  }
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test(`${UNITS} units register at once against a pool for ${OWNED / CALLS}: no over-allocation, statuses consistent with the pool`, async () => {
  const token = ctx.server.token()
  const t0 = Date.now()
  const results = await pool(UNITS, CONCURRENCY, (i) => runAsync(['licensing', 'register', ctx.units[i]!, '--token', token], at(1), {XWAY_LICENSING_TIMEOUT_MS: '40000'}))
  const elapsed = Date.now() - t0
  const runs = results.map((r, i) => {
    assert.ok(r.ok, `unit ${i}: ${String((r as {error?: unknown}).error)}`)
    return (r as {value: Awaited<ReturnType<typeof runAsync>>}).value
  })
  for (const [i, r] of runs.entries()) assert.is(r.code, 0, `unit ${i} exited ${r.code}: ${r.stdout}${r.stderr}`)
  console.log(`  ${UNITS} concurrent registrations (register + first authorization, each its own process) in ${elapsed} ms`)

  const statuses = runs.map((r) => r.json.licensing)
  for (const s of statuses) assert.is(s.registration.status, 'Registered')
  const authorized = statuses.filter((s) => s.authorization.status === 'Authorized')
  const short = statuses.filter((s) => s.authorization.status === 'Out-of-compliance')
  assert.is(authorized.length + short.length, UNITS)
  assert.is(authorized.length, OWNED / CALLS, 'every license is used, none twice')

  const p = ctx.server.pool().rms!
  assert.is(p.owned, OWNED)
  assert.is(p.inUse, OWNED)
  assert.ok(p.inUse <= p.owned)
  assert.is(p.available, 0)
  assert.is(p.shortage, short.length * CALLS)

  // each unit agrees with the server about itself (its status read in-process: the same function the CLI calls)
  const byUdi = new Map(ctx.server.instances().map((i) => [i.udi, i as unknown as {status: string; licenses: {rms: number}}]))
  assert.is(byUdi.size, UNITS, 'no registration lost')
  for (const unit of ctx.units) {
    const mine = (await unitLicensingStatus(unit, new Date(at(1)))) as SmartLicensingView
    const theirs = byUdi.get(udiOf(unit))!
    assert.ok(theirs, `${unit} is known to the server`)
    if (mine.authorization.status === 'Authorized') {
      assert.is(theirs.status, 'authorized')
      assert.is(theirs.licenses.rms, CALLS)
      assert.equal(mine.licenses, [{type: 'Rich Media Session', inUse: CALLS, status: 'Authorized'}])
    } else {
      assert.is(theirs.status, 'out-of-compliance')
      assert.is(theirs.licenses.rms, 0)
      assert.equal(mine.licenses, [{type: 'Rich Media Session', inUse: CALLS, status: 'Out of compliance'}])
    }
  }
})

test('all of them deregister at once: every license goes back, none is lost', async () => {
  const results = await pool(UNITS, CONCURRENCY, (i) => runAsync(['licensing', 'deregister', ctx.units[i]!], at(2), {XWAY_LICENSING_TIMEOUT_MS: '40000'}))
  for (const [i, r] of results.entries()) {
    assert.ok(r.ok)
    const run = (r as {value: Awaited<ReturnType<typeof runAsync>>}).value
    assert.is(run.code, 0, `unit ${i}: ${run.stdout}${run.stderr}`)
    assert.equal(run.json.warnings, [], `unit ${i} reached the server`)
  }
  const p = ctx.server.pool().rms!
  assert.is(p.inUse, 0)
  assert.is(p.available, OWNED)
  assert.is(ctx.server.instances().length, 0)
  assert.is(ok(['image', 'verify', ctx.units[0]!]).ok, true)
})

test('the whole file stays within 60 s', async () => {
  const total = Date.now() - ctx.started
  console.log(`  licensing load: ${total} ms in all`)
  assert.ok(total < 60_000, `took ${total} ms`)
})

test.run()
