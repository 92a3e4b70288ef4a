import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {RefusedError} from '../../src/errors.js'
import {availableOf, checkReservationFits, grantReport, overallStatus} from '../../src/server/allocation.js'

// The allocation policy alone, without a database (the stores apply it under their locks).

const c = (rms = 0, room = 0, desktop = 0) => ({rms, room, desktop})

test('available is what nobody holds, reserves or has in transit, never below zero', () => {
  assert.is(availableOf({owned: 10, inUse: 3, reserved: 2, inTransit: 1}), 4)
  assert.is(availableOf({owned: 1, inUse: 1, reserved: 1, inTransit: 0}), 0)
})

test('each type is granted on its own: Room covered and Authorized while RMS is short and Out of compliance', () => {
  const g = grantReport(c(5, 2), c(0, 0), c(3, 4))
  assert.is(g.status, 'out-of-compliance')
  assert.equal(g.licenses, [
    {type: 'rms', requested: 5, granted: 0, shortage: 2, status: 'out-of-compliance'},
    {type: 'room', requested: 2, granted: 2, shortage: 0, status: 'authorized'},
    {type: 'desktop', requested: 0, granted: 0, shortage: 0, status: 'no-licenses-in-use'},
  ])
  assert.equal(g.delta, c(0, 2, 0))
})

test('what an instance holds counts: it may grow into held + available; a short type keeps what it held; a lower ask gives back', () => {
  const grow = grantReport(c(7), c(4), c(3))
  assert.equal([grow.status, grow.licenses[0]!.granted, grow.delta.rms], ['authorized', 7, 3])
  const short = grantReport(c(9), c(4), c(3))
  assert.equal([short.licenses[0]!.granted, short.licenses[0]!.shortage, short.delta.rms], [4, 2, 0])
  const lower = grantReport(c(1), c(4), c(0))
  assert.equal([lower.status, lower.licenses[0]!.granted, lower.delta.rms], ['authorized', 1, -3])
  const none = grantReport(c(), c(4, 1), c())
  assert.equal([none.status, none.delta], ['no-licenses-in-use', c(-4, -1, 0)])
})

test('the overall status: out of compliance when any type is, else authorized when any is asked, else no licenses in use', () => {
  assert.is(overallStatus([{status: 'authorized'}, {status: 'out-of-compliance'}]), 'out-of-compliance')
  assert.is(overallStatus([{status: 'no-licenses-in-use'}, {status: 'authorized'}]), 'authorized')
  assert.is(overallStatus([{status: 'no-licenses-in-use'}]), 'no-licenses-in-use')
})

test('a reservation takes what it adds on top of what it already blocks, and is refused beyond what is available', () => {
  const zero = c()
  checkReservationFits('lab', {first: true, confirmed: zero, pending: zero, counts: c(4)}, c(4))
  assert.throws(() => checkReservationFits('lab', {first: true, confirmed: zero, pending: zero, counts: c(5)}, c(4)), (e: unknown) => e instanceof RefusedError && /4 rms license\(s\) available; this reservation needs 5 more/.test((e as Error).message))
  // an update from 4 confirmed to 6 needs 2 more; to 3 needs nothing (the confirmed ones stay blocked until confirmed)
  checkReservationFits('lab', {first: false, confirmed: c(4), pending: c(4), counts: c(6)}, c(2))
  assert.throws(() => checkReservationFits('lab', {first: false, confirmed: c(4), pending: c(4), counts: c(7)}, c(2)), (e: unknown) => e instanceof RefusedError)
  checkReservationFits('lab', {first: false, confirmed: c(4), pending: c(4), counts: c(3)}, c(0))
})

test.run()
