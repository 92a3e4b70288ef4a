import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup} from '../support/run.js'
import {authorize, licensing, makeLab, ok, requestOn, run, treeHash, unitOf} from './reservation-helpers.js'

test.after(() => cleanup())

const ALARM = 'smart-licensing-reservation-expired'
const alarmKeys = (unit: string, now: string): string[] => ok(['image', 'inspect', unit], {now}).alarms.map((a: {key: string}) => a.key)
const rmsStatus = (unit: string, now: string): string => licensing(unit, now).licenses.find((l: {type: string}) => l.type === 'Rich Media Session').status

test('an expired SLR entitlement changes nothing until boot, which stops the feature and raises the alarm; a newer code brings it back', async () => {
  const lab = makeLab()
  const unit = unitOf(lab, 'boot-slr')
  const requestCode = requestOn(unit)
  const code = authorize(lab, requestCode, ['--license', 'rms=5', '--until', '2026-02-01'])
  ok(['licensing', 'reservation', 'install', unit, code])

  // a boot before the end date changes nothing in licensing
  ok(['boot', unit], {now: '2026-01-20T00:00:00Z'})
  assert.not.ok(alarmKeys(unit, '2026-01-20T00:00:00Z').includes(ALARM))

  // past the end date: still authorized, no alarm, calls still admitted, until the restart
  const late = '2026-03-01T00:00:00Z'
  assert.is(rmsStatus(unit, late), 'Authorized')
  assert.is(licensing(unit, late).authorization.status, 'Authorized')
  assert.not.ok(alarmKeys(unit, late).includes(ALARM))
  assert.is(run(['usage', 'admit', unit, '--call'], {now: late}).code, 0)

  const booted = ok(['boot', unit], {now: late})
  assert.ok(booted.licensing.some((n: string) => /Rich Media Session expired/.test(n)), JSON.stringify(booted))
  assert.ok(booted.alarms.some((a: {key: string}) => a.key === ALARM))
  assert.is(rmsStatus(unit, late), 'Authorization Expired')
  // the overall status follows: the SLR has stopped
  assert.is(licensing(unit, late).authorization.status, 'Authorization Expired')
  assert.equal(licensing(unit, late).reservation.entitlements.map((e: {status: string}) => e.status), ['Authorization Expired'])
  assert.ok(alarmKeys(unit, late).includes(ALARM))

  // the stopped feature admits no new call (exit 3, nothing changed); other types are not affected
  const stopped = treeHash(unit)
  const refused = run(['usage', 'admit', unit, '--call'], {now: late})
  assert.is(refused.code, 3)
  assert.match(refused.json.error.message, /expired and the feature was stopped/)
  assert.is(treeHash(unit), stopped)

  // booting again finds nothing new to do
  const before = treeHash(unit)
  assert.equal(ok(['boot', unit], {now: late}).licensing, [])
  assert.is(treeHash(unit), before)

  // an update with a later end date (a newer code) restores the feature and clears the alarm
  const renewed = authorize(lab, requestCode, ['--license', 'rms=5', '--until', '2026-12-31'], {now: late})
  assert.match(ok(['licensing', 'reservation', 'install', unit, renewed], {now: late}).confirmationCode, /^CF-/)
  assert.is(rmsStatus(unit, late), 'Authorized')
  assert.is(licensing(unit, late).authorization.status, 'Authorized')
  assert.not.ok(alarmKeys(unit, late).includes(ALARM))
  assert.is(run(['usage', 'admit', unit, '--call'], {now: late}).code, 0)
})

test.run()
