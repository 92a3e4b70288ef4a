import type {KeyObject} from 'node:crypto'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {generateRsaKey} from '../../src/crypto/keys.js'
import {issueCertificate} from '../../src/crypto/x509.js'
import {XwayError} from '../../src/errors.js'
import {planBootLicensing} from '../../src/agent/boot.js'
import {buildAuthorizationCode, entitlementsFor, type ReservationKind} from '../../src/licensing/authorization-code.js'
import {
  confirmationCodeMatches, formatUdi, parseConfirmationCode, parseRequestCode, parseReturnCode, piidForUdi, returnCodeMatches,
} from '../../src/licensing/codes.js'
import type {LicenseCounts} from '../../src/licensing/license-types.js'
import {
  boxCapacity, planCancel, planEnable, planInstall, planRequest, planReturn, planReturnAuthorization, shareClusterReservations,
} from '../../src/licensing/reservation.js'
import {defaultLicensingState, type LicensingState} from '../../src/licensing/state.js'
import {licensingStatus, type SmartLicensingView} from '../../src/licensing/status.js'

const INFO = {pid: 'EXPWY-VE-M-K9', serial: '0A1B2C3D'}
const UDI = formatUdi(INFO.pid, INFO.serial)
const T0 = Date.parse('2026-01-01T00:00:00Z')

function makeCa(name: string): {certPem: string; key: KeyObject; signer: {certPem: string; key: KeyObject}} {
  const notBefore = new Date(Date.now() - 86_400_000)
  const key = generateRsaKey(2048)
  const certPem = issueCertificate({subject: {commonName: `${name} CA`}, subjectKey: key, notBefore, days: 365, isCa: true})
  const signingKey = generateRsaKey(2048)
  const signingPem = issueCertificate({subject: {commonName: `${name} signing`}, subjectKey: signingKey, issuer: {certPem, key}, notBefore, days: 365, extKeyUsage: ['codeSigning']})
  return {certPem, key, signer: {certPem: signingPem, key: signingKey}}
}

const LAB = makeCa('lab')
const OTHER = makeCa('other')
const ANCHORS = [LAB.certPem]

function counts(c: Partial<LicenseCounts>): LicenseCounts {
  return {rms: 0, room: 0, desktop: 0, ...c}
}

function code(kind: ReservationKind, timestamp: number, c: Partial<LicenseCounts> = {rms: 10}, options: {udi?: string; until?: Date; signer?: {certPem: string; key: KeyObject}} = {}): string {
  const udi = options.udi ?? UDI
  return buildAuthorizationCode(
    {kind, udi, piid: piidForUdi(udi), timestamp, entitlements: entitlementsFor(kind, counts(c), new Date(timestamp), options.until ?? null)},
    options.signer ?? LAB.signer,
  )
}

function smart(): LicensingState {
  return defaultLicensingState('smart')
}

function apply<R>(plan: {state: LicensingState | null; result: R}, before: LicensingState): {state: LicensingState; result: R} {
  return {state: plan.state ?? before, result: plan.result}
}

function requested(): LicensingState {
  let s = apply(planEnable(smart(), true), smart()).state
  s = apply(planRequest(s, INFO, 'A6rZG7jGd'), s).state
  return s
}

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  try {
    fn()
  } catch (err) {
    assert.instance(err, XwayError)
    assert.is((err as XwayError).code, code, (err as Error).message)
    if (pattern) assert.match([(err as Error).message, ...(err as XwayError).actions].join('\n'), pattern)
    return
  }
  assert.unreachable(`expected a ${code} error`)
}

test('enable is refused while registered or registering, allowed when unregistered, and idempotent', () => {
  for (const state of ['registered', 'pending'] as const) {
    const s = smart()
    s.registration.state = state
    throwsCode(() => planEnable(s, true), 'refused', /deregister/)
  }
  const failed = smart()
  failed.registration.state = 'failed'
  assert.ok(planEnable(failed, true).state?.reservation.enabled)
  // a failed registration is unregistered: a reservation then registers the unit
  let f = planEnable(failed, true).state!
  f = planRequest(f, INFO, 'A6rZG7jGd').state!
  const fi = planInstall(f, INFO, code('PLR', T0), ANCHORS).state!
  assert.equal([fi.registration.state, fi.registration.lastError], ['unregistered', null])
  const on = planEnable(smart(), true).state!
  assert.is(planEnable(on, true).state, null)
  throwsCode(() => planEnable(defaultLicensingState('legacy'), true), 'refused', /smart licensing/)
})

test('request needs reservation enabled; prints CB-Z<PID>:<serial>-<nonce>-<check>, the same while pending', () => {
  throwsCode(() => planRequest(smart(), INFO, 'A6rZG7jGd'), 'refused', /disabled by default/)
  const s = requested()
  assert.is(s.reservation.state, 'requested')
  const parsed = parseRequestCode(s.reservation.requestCode!)
  assert.is(parsed.udi, UDI)
  assert.match(s.reservation.requestCode!, /^CB-ZEXPWY-VE-M-K9:0A1B2C3D-A6rZG7jGd-[0-9A-F]{4}$/)
  const again = planRequest(s, INFO, 'OtherNonc')
  assert.is(again.state, null)
  assert.is(again.result.requestCode, s.reservation.requestCode)
})

test('SLR install: verified, installed, prints a confirmation code the server accepts', () => {
  const s = requested()
  const plan = planInstall(s, INFO, code('SLR', T0, {rms: 10, room: 5}, {until: new Date(T0 + 90 * 86_400_000)}), ANCHORS)
  assert.is(plan.result.kind, 'SLR')
  const cf = parseConfirmationCode(plan.result.confirmationCode!)
  assert.ok(confirmationCodeMatches(cf, UDI))
  assert.is(cf.timestamp, T0)
  const r = plan.state!.reservation
  assert.is(r.state, 'installed')
  assert.is(r.kind, 'SLR')
  assert.equal(r.entitlements.map((e) => [e.type, e.count]), [['rms', 10], ['room', 5]])
  assert.is(r.entitlements[0]!.endDate, new Date(T0 + 90 * 86_400_000).toISOString())
  assert.is(r.timestamp, new Date(T0).toISOString())
  assert.is(r.requestCode, s.reservation.requestCode, 'the request code stays for updates')
})

test('PLR install prints no confirmation code and grants every license to the box capacity', () => {
  const plan = planInstall(requested(), INFO, code('PLR', T0), ANCHORS)
  assert.equal(plan.result, {kind: 'PLR', confirmationCode: null})
  const cap = boxCapacity(INFO.pid)
  assert.equal(plan.state!.reservation.entitlements.map((e) => [e.type, e.count, e.endDate]), [['rms', cap.rms, null], ['room', cap.room, null], ['desktop', cap.desktop, null]])
})

test('a newer code updates the reservation with a new confirmation code; an older or the same one is refused', () => {
  const first = planInstall(requested(), INFO, code('SLR', T0, {rms: 10}), ANCHORS)
  const newer = planInstall(first.state!, INFO, code('SLR', T0 + 1000, {rms: 20}), ANCHORS)
  assert.is.not(newer.result.confirmationCode, first.result.confirmationCode)
  assert.is(parseConfirmationCode(newer.result.confirmationCode!).timestamp, T0 + 1000)
  assert.equal(newer.state!.reservation.entitlements.map((e) => e.count), [20])
  throwsCode(() => planInstall(newer.state!, INFO, code('SLR', T0 + 500, {rms: 30}), ANCHORS), 'bad-input', /not newer/)
  throwsCode(() => planInstall(newer.state!, INFO, code('SLR', T0 + 1000, {rms: 20}), ANCHORS), 'bad-input', /already installed/)
  throwsCode(() => planInstall(newer.state!, INFO, code('PLR', T0 + 2000), ANCHORS), 'refused', /return/i)
})

test('tampered, malformed, foreign-UDI, untrusted or unrequested codes are refused as bad input', () => {
  const s = requested()
  const good = code('SLR', T0, {rms: 10})
  const tampered = good.replace('<count>10</count>', '<count>99</count>')
  throwsCode(() => planInstall(s, INFO, tampered, ANCHORS), 'bad-input', /signature/)
  // one flipped character of the signature
  const sig = /<signature>([^<]+)<\/signature>/.exec(good)![1]!
  const flipped = good.replace(sig, (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1))
  throwsCode(() => planInstall(s, INFO, flipped, ANCHORS), 'bad-input')
  throwsCode(() => planInstall(s, INFO, '<specificPLR>nope</specificPLR>', ANCHORS), 'bad-input', /malformed/)
  throwsCode(() => planInstall(s, INFO, '', ANCHORS), 'bad-input', /malformed/)
  throwsCode(() => planInstall(s, INFO, code('SLR', T0, {rms: 1}, {udi: formatUdi(INFO.pid, 'FFFF0000')}), ANCHORS), 'bad-input', /another product instance/)
  // the <udi> edited to this unit's: the piid no longer matches
  const moved = code('SLR', T0, {rms: 1}, {udi: formatUdi(INFO.pid, 'FFFF0000')}).replace('SN:FFFF0000', `SN:${INFO.serial}`)
  throwsCode(() => planInstall(s, INFO, moved, ANCHORS), 'bad-input')
  throwsCode(() => planInstall(s, INFO, code('SLR', T0, {rms: 1}, {signer: OTHER.signer}), ANCHORS), 'bad-input', /Unknown CA/)
  const enabled = planEnable(smart(), true).state!
  throwsCode(() => planInstall(enabled, INFO, good, ANCHORS), 'bad-input', /No reservation request is pending/)
  throwsCode(() => planInstall(smart(), INFO, good, ANCHORS), 'refused', /disabled by default/)
})

test('return gives a return code for the installed reservation and drops it; nothing installed is refused', () => {
  const installed = planInstall(requested(), INFO, code('SLR', T0, {rms: 10}), ANCHORS).state!
  const ret = planReturn(installed, INFO)
  const parts = parseReturnCode(ret.result.returnCode)
  assert.ok(returnCodeMatches(parts, UDI))
  assert.is(parts.timestamp, T0)
  const r = ret.state!.reservation
  assert.equal([r.state, r.kind, r.entitlements.length, r.requestCode, r.enabled], ['none', null, 0, null, true])
  throwsCode(() => planReturn(ret.state!, INFO), 'refused', /nothing to return/)
  // the returned code cannot be installed again after a new request
  const again = planRequest(ret.state!, INFO, 'B7sAH8kHe').state!
  throwsCode(() => planInstall(again, INFO, code('SLR', T0, {rms: 10}), ANCHORS), 'bad-input', /already installed/)
})

test('return-authorization gives a return code for a code never installed, which then cannot be installed', () => {
  const s = requested()
  const c = code('SLR', T0, {rms: 10})
  const plan = planReturnAuthorization(s, INFO, c, ANCHORS)
  const parts = parseReturnCode(plan.result.returnCode)
  assert.ok(returnCodeMatches(parts, UDI))
  assert.is(plan.state!.reservation.state, 'none')
  const again = planRequest(plan.state!, INFO, 'B7sAH8kHe').state!
  throwsCode(() => planInstall(again, INFO, c, ANCHORS), 'bad-input', /already installed/)
  throwsCode(() => planReturnAuthorization(s, INFO, c.replace('<count>10</count>', '<count>11</count>'), ANCHORS), 'bad-input')
  const installed = planInstall(s, INFO, c, ANCHORS).state!
  throwsCode(() => planReturnAuthorization(installed, INFO, c, ANCHORS), 'bad-input', /installed/)
  throwsCode(() => planReturnAuthorization(installed, INFO, code('SLR', T0 + 5, {rms: 3}), ANCHORS), 'refused', /return/)
})

test('cancel drops a pending request; refused with nothing pending or a reservation installed', () => {
  const s = requested()
  const plan = planCancel(s)
  assert.is(plan.state!.reservation.state, 'none')
  assert.is(plan.state!.reservation.requestCode, null)
  throwsCode(() => planCancel(plan.state!), 'refused', /nothing to cancel/)
  const installed = planInstall(s, INFO, code('PLR', T0), ANCHORS).state!
  throwsCode(() => planCancel(installed), 'refused', /return/)
  throwsCode(() => planEnable(installed, false), 'refused', /return/i)
  throwsCode(() => planEnable(s, false), 'refused', /cancel/i)
})

test('boot: an expired SLR entitlement stops its feature and raises the alarm; before, nothing changes', () => {
  const until = new Date(T0 + 30 * 86_400_000)
  const installed = planInstall(requested(), INFO, code('SLR', T0, {rms: 10, room: 2}, {until}), ANCHORS).state!
  const before = planBootLicensing(installed, {alarms: []}, new Date(until.getTime() - 1000))
  assert.is(before.state, null)
  assert.equal(before.alarms.alarms, [])
  const after = planBootLicensing(installed, {alarms: []}, new Date(until.getTime() + 1000))
  assert.ok(after.state!.reservation.entitlements.every((e) => e.expired))
  assert.equal(after.alarms.alarms.map((a) => a.key), ['smart-licensing-reservation-expired'])
  assert.is(after.notes.length, 2)
  // a second boot: nothing more to mark, the alarm stays
  const again = planBootLicensing(after.state!, after.alarms, new Date(until.getTime() + 2000))
  assert.is(again.state, null)
  assert.equal(again.alarms.alarms.map((a) => a.key), ['smart-licensing-reservation-expired'])
  // PLR never expires; the stale alarm of a returned reservation is cleared
  const plr = planInstall(requested(), INFO, code('PLR', T0), ANCHORS).state!
  assert.is(planBootLicensing(plr, {alarms: []}, new Date(T0 + 3650 * 86_400_000)).state, null)
  assert.equal(planBootLicensing(smart(), after.alarms, new Date()).alarms.alarms, [])
})

test('an entitlement whose tag this unit does not know is kept as Invalid-tag and grants nothing; the known ones install', async () => {
  const foreign = 'regid.2099-01.com.cisco.OTHER_PRODUCT,9.9_00000000-0000-4000-8000-000000000000'
  const entitlements = [
    ...entitlementsFor('SLR', counts({rms: 3}), new Date(T0), null),
    {tag: foreign, count: 7, startDate: null, endDate: null, licenseType: 'PERPETUAL' as const},
  ]
  const xml = buildAuthorizationCode({kind: 'SLR', udi: UDI, piid: piidForUdi(UDI), timestamp: T0, entitlements}, LAB.signer)
  const r = planInstall(requested(), INFO, xml, ANCHORS).state!.reservation
  assert.equal(r.entitlements.map((e) => [e.type, e.count]), [['rms', 3]])
  assert.equal(r.unknownEntitlements, [{tag: foreign, count: 7, endDate: null}])
  const view = licensingStatus(planInstall(requested(), INFO, xml, ANCHORS).state!, {calls: 3, room: 1, desktop: 0}, new Date(T0)) as SmartLicensingView
  assert.equal(view.reservation.entitlements.map((e) => [e.type, e.status]), [['Rich Media Session', 'Authorized'], [null, 'Invalid-tag']])
  assert.equal(view.licenses.map((l) => l.status), ['Authorized', 'Invalid-tag'])
  // a return drops them with the reservation
  const returned = planReturn(planInstall(requested(), INFO, xml, ANCHORS).state!, INFO).state!.reservation
  assert.equal(returned.unknownEntitlements, [])
})

test('cluster: a node borrows reserved licenses from peers when its own are used up, and reports at most what it installed', async () => {
  const share = shareClusterReservations([
    {name: 'a', entitlements: [{type: 'rms', count: 10}], inUse: {rms: 14}},
    {name: 'b', entitlements: [{type: 'rms', count: 10}], inUse: {rms: 3}},
    {name: 'c', entitlements: [{type: 'rms', count: 5, expired: true}], inUse: {rms: 2}},
  ])
  const line = (n: number) => share[n]!.licenses.find((l) => l.type === 'rms')!
  assert.equal(line(0), {type: 'rms', installed: 10, inUse: 14, reported: 10, borrowed: 4, lent: 0, status: 'Authorized'})
  // b reports what is used of its own licenses: its 3 and the 6 its peers use (never more than its 10)
  assert.equal(line(1), {type: 'rms', installed: 10, inUse: 3, reported: 9, borrowed: 0, lent: 6, status: 'Authorized'})
  // b had 7 spare: 4 went to a, 2 to c (whose own entitlement expired)
  assert.equal(line(2), {type: 'rms', installed: 0, inUse: 2, reported: 0, borrowed: 2, lent: 0, status: 'Authorized'})
  const short = shareClusterReservations([
    {name: 'a', entitlements: [{type: 'room', count: 1}], inUse: {room: 5}},
    {name: 'b', entitlements: [{type: 'room', count: 2}], inUse: {room: 2}},
  ])
  assert.equal(short[0]!.licenses[0], {type: 'room', installed: 1, inUse: 5, reported: 1, borrowed: 0, lent: 0, status: 'Out of compliance'})
})

test.run()
