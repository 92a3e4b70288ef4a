import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {makeRequestCode, parseConfirmationCode, parseReturnCode} from '../../src/licensing/codes.js'
import {readLicensing} from '../../src/areas/licensing.js'
import {P} from '../support/paths.js'
import {changeUnit} from '../../src/areas/open.js'
import {cleanup, makeUnit} from '../support/run.js'
import {
  authorize, licensing, makeLab, ok, pool, refusedUnchanged, requestOn, run, udiOfUnit, unitOf, type Lab,
} from './reservation-helpers.js'

let lab: Lab

test.before(() => {
  lab = makeLab()
})
test.after(() => cleanup())

test('SLR: request → authorize → install → confirm reserves on the server; a newer code updates with a new confirmation code', async () => {
  const unit = unitOf(lab, 'slr-cycle')
  const requestCode = requestOn(unit)
  assert.match(requestCode, /^CB-ZEXPWY-VE-M-K9:[A-Za-z0-9]+-[A-Za-z0-9]{9}-[0-9A-F]{4}$/)
  assert.equal(licensing(unit).reservation, {enabled: true, state: 'requested', kind: null, entitlements: []})

  const first = authorize(lab, requestCode, ['--license', 'rms=10', '--license', 'room=2'])
  const installed = ok(['licensing', 'reservation', 'install', unit, first])
  assert.equal(Object.keys(installed).sort(), ['confirmationCode', 'kind'])
  assert.is(installed.kind, 'SLR')
  assert.match(installed.confirmationCode, /^CF-/)

  const lic = licensing(unit)
  assert.is(lic.registration.status, 'Registered')
  assert.is(lic.authorization.status, 'Authorized')
  assert.equal(lic.reservation.state, 'installed')
  assert.equal(lic.reservation.kind, 'SLR')
  assert.equal(lic.reservation.entitlements.map((e: {type: string; count: number}) => [e.type, e.count]), [['Rich Media Session', 10], ['Room Registrations', 2]])
  assert.equal(lic.licenses.map((l: {type: string; status: string}) => [l.type, l.status]), [['Rich Media Session', 'Authorized'], ['Room Registrations', 'Authorized']])

  ok(['license-server', 'reservation', 'confirm', lab.server, '--code', installed.confirmationCode])
  assert.is(pool(lab).rms.reserved, 10)
  assert.is(pool(lab).room.reserved, 2)

  // update: the server keeps the new counts in transit until the new confirmation code arrives
  const second = authorize(lab, requestCode, ['--license', 'rms=20', '--license', 'room=2'])
  assert.is(pool(lab).rms.inTransit, 10)
  const updated = ok(['licensing', 'reservation', 'install', unit, second])
  assert.is(updated.kind, 'SLR')
  assert.is.not(updated.confirmationCode, installed.confirmationCode)
  assert.ok(parseConfirmationCode(updated.confirmationCode).timestamp > parseConfirmationCode(installed.confirmationCode).timestamp)
  assert.equal(licensing(unit).reservation.entitlements.map((e: {count: number}) => e.count), [20, 2])
  ok(['license-server', 'reservation', 'confirm', lab.server, '--code', updated.confirmationCode])
  assert.equal([pool(lab).rms.reserved, pool(lab).rms.inTransit], [20, 0])

  // the older code and the installed one are refused: replayed input, exit 4, nothing changes
  refusedUnchanged(unit, ['licensing', 'reservation', 'install', unit, first], 4, /not newer|already installed/)
  refusedUnchanged(unit, ['licensing', 'reservation', 'install', unit, second], 4, /already installed/)

  // return: a return code for the installed reservation, accepted by the server; the unit drops it
  const {returnCode} = ok(['licensing', 'reservation', 'return', unit])
  assert.is(parseReturnCode(returnCode).timestamp, parseConfirmationCode(updated.confirmationCode).timestamp)
  const after = licensing(unit)
  assert.equal(after.reservation, {enabled: true, state: 'none', kind: null, entitlements: []})
  assert.is(after.registration.status, 'Unregistered')
  const udi = await udiOfUnit(unit)
  ok(['license-server', 'instances', 'remove', lab.server, udi, '--return-code', returnCode])
  assert.equal([pool(lab).rms.reserved, pool(lab).room.reserved], [0, 0])
  refusedUnchanged(unit, ['licensing', 'reservation', 'return', unit], 3, /nothing to return/)
})

test('tampered, malformed, foreign or unrequested codes exit 4 and leave the unit byte-for-byte unchanged', async () => {
  const unit = unitOf(lab, 'hostile')
  const requestCode = requestOn(unit)
  const good = authorize(lab, requestCode, ['--license', 'rms=1'])
  const install = (code: string) => ['licensing', 'reservation', 'install', unit, code]

  // one byte of the signed XML changed
  refusedUnchanged(unit, install(good.replace('<count>1</count>', '<count>9</count>')), 4, /signature/)
  // one byte of the signature changed
  const sig = /<signature>([^<]+)<\/signature>/.exec(good)![1]!
  refusedUnchanged(unit, install(good.replace(sig, (sig[5] === 'A' ? sig.slice(0, 5) + 'B' : sig.slice(0, 5) + 'A') + sig.slice(6))), 4)
  refusedUnchanged(unit, install('<specificPLR>not a code</specificPLR>'), 4, /malformed/)
  refusedUnchanged(unit, install('CB-ZEXPWY-VE-M-K9:0-0-0'), 4, /malformed/)
  // a genuine code of another product instance
  const foreign = authorize(lab, makeRequestCode('EXPWY-VE-M-K9', 'FFEE0001', 'Zz9Yy8Xx7'), ['--license', 'rms=1'])
  refusedUnchanged(unit, install(foreign), 4, /another product instance/)
  // a unit whose agent does not trust the lab CA
  const stranger = makeUnit(lab.dir, {name: 'stranger', seed: 'stranger'})
  requestOn(stranger)
  refusedUnchanged(stranger, ['licensing', 'reservation', 'install', stranger, good], 4, /Unknown CA|another product instance/)

  // no request pending
  ok(['licensing', 'reservation', 'cancel', unit])
  refusedUnchanged(unit, install(good), 4, /No reservation request is pending/)
  // the genuine code still installs once a request is pending again
  requestOn(unit)
  assert.is(ok(['licensing', 'reservation', 'install', unit, '-'], {input: good}).kind, 'SLR')
})

test('PLR: install prints no confirmation code and every license in use is authorized', async () => {
  const unit = unitOf(lab, 'plr')
  const requestCode = requestOn(unit)
  const code = authorize(lab, requestCode, ['--plr'])
  assert.match(code, /^<permanentPLR>/)
  assert.equal(ok(['licensing', 'reservation', 'install', unit, code]), {kind: 'PLR', confirmationCode: null})
  const lic = licensing(unit)
  assert.equal([lic.registration.status, lic.authorization.status, lic.reservation.kind], ['Registered', 'Authorized', 'PLR'])
  assert.ok(lic.licenses.every((l: {status: string}) => l.status === 'Authorized'), JSON.stringify(lic.licenses))
  refusedUnchanged(unit, ['licensing', 'reservation', 'request', unit], 3, /installed/)
  refusedUnchanged(unit, ['licensing', 'reservation', 'disable', unit], 3, /installed/)
  assert.match(ok(['licensing', 'reservation', 'return', unit]).returnCode, /^RT-/)
})

test('cancel drops the request; return-authorization gives back a code never installed, which then cannot be installed', async () => {
  const unit = unitOf(lab, 'cancel')
  const requestCode = requestOn(unit)
  const code = authorize(lab, requestCode, ['--license', 'desktop=3'])
  assert.equal(ok(['licensing', 'reservation', 'cancel', unit]), {cancelled: true, state: 'none'})
  assert.is(licensing(unit).reservation.state, 'none')
  refusedUnchanged(unit, ['licensing', 'reservation', 'cancel', unit], 3, /nothing to cancel/)

  const {returnCode} = ok(['licensing', 'reservation', 'return-authorization', unit, code])
  assert.match(returnCode, /^RT-/)
  const udi = await udiOfUnit(unit)
  ok(['license-server', 'instances', 'remove', lab.server, udi, '--return-code', returnCode])
  assert.is(pool(lab).desktop.reserved, 0)

  requestOn(unit)
  refusedUnchanged(unit, ['licensing', 'reservation', 'install', unit, code], 4, /already installed|returned/)
  refusedUnchanged(unit, ['licensing', 'reservation', 'return-authorization', unit, code], 4)
  ok(['licensing', 'reservation', 'cancel', unit])
  assert.equal(ok(['licensing', 'reservation', 'disable', unit]), {enabled: false, changed: true, state: 'none'})
})

test('enable is refused while registered (exit 3, unit unchanged); request and install need reservation enabled', async () => {
  const unit = unitOf(lab, 'registered')
  refusedUnchanged(unit, ['licensing', 'reservation', 'request', unit], 3, /disabled by default/)
  await changeUnit(unit, 'test: registered', (tx, u) => {
    const state = readLicensing(u.files)
    state.registration = {...state.registration, state: 'registered', smartAccount: 'Acme', virtualAccount: 'lab', registeredAt: '2026-01-01T00:00:00.000Z'}
    tx.writeJson(P.licensing, state)
  })
  const r = refusedUnchanged(unit, ['licensing', 'reservation', 'enable', unit], 3, /unregistered/)
  assert.match(r.json.error.actions.join(' '), /deregister/)
  const legacy = makeUnit(lab.dir, {name: 'vcs', seed: 'vcs', profile: 'profiles/vcs.yaml'})
  refusedUnchanged(legacy, ['licensing', 'reservation', 'enable', legacy], 3, /smart licensing/)
  assert.is(run(['licensing', 'reservation', 'install', unit]).code, 2, 'no code and no stdin is a usage error')
})

test.run()
