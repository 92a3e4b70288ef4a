import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {ownTempDir} from './license-server-helpers.js'
import {at, expect, makeLicenseServer, ok, profileFor, T0, treeHash, unitFrom, type LicenseServer} from './licensing-helpers.js'

// Alarms (SPEC 11): every alarm has a stable id (Cisco's 30042 and 30044, the project's own
// 9000x for the others, docs/licensing-agent.md), and `image inspect` shows the alarms that hold
// at `now`, computed from stored state and the clock, without a boot first.

const test = suite('licensing alarms')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer}
const ALARMS = 'tandberg/persistent/alarms.json'

type Alarm = {id: number; key: string; title: string}
const alarms = (unit: string, now: string): Alarm[] => ok(['image', 'inspect', unit], now).alarms

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-alarms-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 5})
  await ctx.server.start()
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test('an Unauthorized unit shows the evaluation alarm at inspect, without boot; registering clears it', async () => {
  const unit = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server), 'late')
  assert.equal(alarms(unit, at(89)), [])
  const before = treeHash(unit)
  const late = alarms(unit, at(91))
  assert.equal(late.map(({id, key}) => [id, key]), [[90004, 'evaluation-expired']])
  assert.match(late[0]!.title, /evaluation period has expired/)
  assert.is(treeHash(unit), before, 'inspect computes, it writes nothing')
  // the same unit looked at before the 90 days are over: the alarm does not hold then
  assert.equal(alarms(unit, at(10)), [])
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(91))
  assert.equal(alarms(unit, at(92)), [])
  ok(['licensing', 'deregister', unit], at(93))
  assert.equal(alarms(unit, at(93)).map((a) => a.id), [90004], 'deregistered after the evaluation: Unauthorized again')
})

test('export control and connectivity alarms carry their ids; an older alarms file without ids is shown with them', async () => {
  const unit = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server, {name: 'busy'}), 'busy')
  ok(['usage', 'set', unit, '--calls', '2300'], at(1))
  assert.equal(alarms(unit, at(1)).map(({id, key}) => [id, key]), [[90001, 'export-control-approaching']])
  ok(['usage', 'set', unit, '--calls', '2500'], at(1))
  assert.equal(alarms(unit, at(1)).map(({id, key}) => [id, key]), [[90002, 'export-control-reached']])
  ok(['usage', 'set', unit, '--calls', '2'], at(1))
  assert.equal(alarms(unit, at(1)), [])

  // a registration that cannot reach the server raises Cisco's 30042 and 30044
  const token = ctx.server.token()
  await ctx.server.stop()
  expect(6, ['licensing', 'register', unit, '--token', token], at(1))
  await ctx.server.start()
  // an older file: ids were null for the alarms Cisco has no number for
  const file = join(unit, ALARMS)
  const stored = JSON.parse(readFileSync(file, 'utf8')) as {alarms: Array<{id: number | null; key: string}>}
  stored.alarms.push({id: null, key: 'smart-licensing-reservation-expired', title: 'x', raisedAt: T0} as never)
  writeFileSync(file, JSON.stringify(stored))
  const shown = alarms(unit, at(1))
  assert.equal(shown.map(({id, key}) => [id, key]), [[30042, 'smart-licensing-registration'], [30044, 'smart-licensing-authorization'], [90003, 'smart-licensing-reservation-expired']])
  for (const a of shown) assert.ok(Number.isSafeInteger(a.id), JSON.stringify(a))
})

test.run()
