import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup} from '../support/run.js'
import {authorize, licensing, makeLab, ok, requestOn, run, unitOf} from './reservation-helpers.js'

const byType = (unit: string) => Object.fromEntries(licensing(unit).licenses.map((l: {type: string; status: string}) => [l.type, l.status]))

test('peers of a cluster share reserved licenses: a node borrows when its own are used up, and only while peers have spare', async () => {
  const lab = makeLab('{ calls: 0, desktop: 0, room: 3, webrtc: false }')
  const a = unitOf(lab, 'node-a')
  const b = unitOf(lab, 'node-b')
  // a reserves 5 room registrations and uses 3; b reserves 1 and uses 3
  ok(['licensing', 'reservation', 'install', a, authorize(lab, requestOn(a), ['--license', 'room=5'])])
  ok(['licensing', 'reservation', 'install', b, authorize(lab, requestOn(b), ['--license', 'room=1'])])
  assert.is(byType(b)['Room Registrations'], 'Out of compliance', 'alone, b cannot cover 3 with 1')
  assert.is(licensing(b).authorization.status, 'Out-of-compliance', 'a reserved type used beyond its count, with nothing to borrow')

  ok(['cluster', 'create', a, b])
  assert.is(byType(a)['Room Registrations'], 'Authorized')
  assert.is(byType(b)['Room Registrations'], 'Authorized', 'b borrows 2 of a\'s spare 2')
  // b reports only the 1 it has installed; a reports its own 3 and the 2 b uses of its licenses
  assert.equal(licensing(b).licenses, [{type: 'Room Registrations', inUse: 3, status: 'Authorized', reported: 1, borrowed: 2}])
  assert.equal(licensing(a).licenses, [{type: 'Room Registrations', inUse: 3, status: 'Authorized', reported: 5, borrowed: 0}])
  assert.is(licensing(b).authorization.status, 'Authorized')

  // a uses all of its own: nothing left to lend
  ok(['usage', 'set', a, '--room', '5'])
  assert.is(byType(a)['Room Registrations'], 'Authorized')
  assert.is(byType(b)['Room Registrations'], 'Out of compliance')
  assert.is(licensing(b).authorization.status, 'Out-of-compliance')

  // leaving the cluster ends the borrowing
  ok(['usage', 'set', a, '--room', '1'])
  assert.is(byType(b)['Room Registrations'], 'Authorized')
  assert.is(run(['cluster', 'leave', b]).code, 0)
  assert.is(byType(b)['Room Registrations'], 'Out of compliance')
})

test.after.each(() => cleanup())
test.run()
