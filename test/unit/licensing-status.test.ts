import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {UsageFile} from '../../src/areas/usage.js'
import type {ClusterShare} from '../../src/licensing/cluster-share.js'
import {CISCO_DIRECT_URL, defaultLicensingState, normalizeLicensing, type LicensingState} from '../../src/licensing/state.js'
import {isUnauthorized, licensingStatus, registrationNotes, reportDue, type SmartLicensingView, usageView} from '../../src/licensing/status.js'
import {REGISTRATION_TIMEOUT_MESSAGE} from '../../src/licensing/timers.js'

// licensingStatus is a pure function of stored state and now: every status of the seed and
// every timer (90-day evaluation, 30/90-day authorization, 6/12-month registration) is
// checked here by moving `now`, never by touching the state.

const T0 = '2026-01-01T00:00:00.000Z'
const DAY = 24 * 60 * 60 * 1000
const at = (days: number) => new Date(Date.parse(T0) + days * DAY)
const noUsage: UsageFile = {calls: 0, desktop: 0, room: 0, webrtc: false, exportControl: {state: 'ok'}}
const usage = (calls: number, room = 0, desktop = 0): UsageFile => ({...noUsage, calls, room, desktop})

function evaluating(): LicensingState {
  const s = defaultLicensingState('smart')
  s.evaluation.startedAt = T0
  return s
}

function registered(options: {registeredAt?: string; authorizedAt?: string | null; result?: LicensingState['authorization']['result']; granted?: Partial<Record<'rms' | 'room' | 'desktop', number>>; requested?: Partial<Record<'rms' | 'room' | 'desktop', number>>} = {}): LicensingState {
  const s = evaluating()
  s.registration = {
    ...s.registration, state: 'registered', smartAccount: 'Lab', virtualAccount: 'VA1', exportControlled: 'Allowed',
    registeredAt: options.registeredAt ?? T0, serial: 'ABCD1234', endpoint: 'https://127.0.0.1:1/SmartTransport',
  }
  const authorizedAt = options.authorizedAt === undefined ? options.registeredAt ?? T0 : options.authorizedAt
  s.authorization = {
    ...s.authorization,
    lastSuccessAt: authorizedAt,
    result: authorizedAt === null ? null : options.result ?? 'authorized',
    licenses: (['rms', 'room', 'desktop'] as const).map((type) => ({
      type, granted: options.granted?.[type] ?? 0, requested: options.requested?.[type] ?? options.granted?.[type] ?? 0,
    })),
  }
  return s
}

function view(state: LicensingState, u: UsageFile, when: Date, cluster?: ClusterShare): SmartLicensingView {
  const v = licensingStatus(state, u, when, [], cluster)
  assert.is(v.mode, 'smart')
  return v as SmartLicensingView
}

test('a legacy unit (VCS, X14.0.2 without smart licensing) shows only {"mode":"legacy"}', async () => {
  assert.equal(licensingStatus(defaultLicensingState('legacy'), noUsage, at(0)), {mode: 'legacy'})
})

test('evaluation: Unregistered + Evaluation Mode for 90 days, then Evaluation Expired and Unauthorized', async () => {
  const s = evaluating()
  const v0 = view(s, usage(3), at(0))
  assert.is(v0.registration.status, 'Unregistered')
  assert.is(v0.authorization.status, 'Evaluation Mode')
  assert.is(v0.evaluation.expiresAt, at(90).toISOString())
  assert.is(v0.unauthorized, false)
  assert.equal(v0.licenses, [{type: 'Rich Media Session', inUse: 3, status: 'Evaluation Mode'}])
  assert.is(view(s, usage(3), new Date(at(90).getTime() - 1)).authorization.status, 'Evaluation Mode')
  const v90 = view(s, usage(3), at(90))
  assert.is(v90.authorization.status, 'Evaluation Expired')
  assert.is(v90.unauthorized, true)
  assert.equal(v90.licenses[0]!.status, 'Evaluation Expired')
  assert.ok(isUnauthorized(s, at(90)))
})

test('license types not being consumed are not displayed (Cisco: "If a license type is not in use … it is not displayed")', async () => {
  const v = view(evaluating(), usage(0, 2, 0), at(1))
  assert.equal(v.licenses.map((l) => l.type), ['Room Registrations'])
  assert.equal(view(evaluating(), noUsage, at(1)).licenses, [])
})

test('no evaluation start and nothing registered: Not Applicable', async () => {
  const s = defaultLicensingState('smart')
  const v = view(s, usage(1), at(0))
  assert.is(v.authorization.status, 'Not Applicable')
  assert.is(v.unauthorized, false)
  assert.is(v.licenses[0]!.status, 'Not Authorized')
})

test('pending: Unregistered: Registration Pending with Cisco\'s message and the next attempt, still evaluating', async () => {
  const s = evaluating()
  s.registration = {...s.registration, state: 'pending', lastError: REGISTRATION_TIMEOUT_MESSAGE, nextAttemptAt: new Date(at(1).getTime() + 15 * 60_000).toISOString(), lastAttemptAt: at(1).toISOString()}
  const v = view(s, usage(1), at(1))
  assert.is(v.registration.status, 'Unregistered: Registration Pending')
  assert.is(v.registration.lastError, REGISTRATION_TIMEOUT_MESSAGE)
  assert.is(v.registration.nextAttemptAt, '2026-01-02T00:15:00.000Z')
  assert.is(v.registration.smartAccount, null)
  assert.is(v.authorization.status, 'Evaluation Mode')
  assert.is(view(s, usage(1), at(95)).authorization.status, 'Evaluation Expired')
  assert.is(view(s, usage(1), at(95)).unauthorized, true)
})

test('failed: Unregistered: Registration Failed, no next attempt', async () => {
  const s = evaluating()
  s.registration = {...s.registration, state: 'failed', lastError: 'The registration token expired.', nextAttemptAt: null}
  const v = view(s, noUsage, at(2))
  assert.is(v.registration.status, 'Unregistered: Registration Failed')
  assert.is(v.registration.nextAttemptAt, null)
  assert.is(v.registration.lastError, 'The registration token expired.')
  assert.is(v.authorization.status, 'Evaluation Mode')
})

test('registered and authorized: renewals at 30 days and 6 months, expiries at 90 days and 1 year', async () => {
  const s = registered({granted: {rms: 5}})
  const v = view(s, usage(5), at(1))
  assert.is(v.registration.status, 'Registered')
  assert.is(v.registration.smartAccount, 'Lab')
  assert.is(v.registration.virtualAccount, 'VA1')
  assert.is(v.registration.exportControlled, 'Allowed')
  assert.is(v.registration.nextRenewalAt, '2026-07-01T00:00:00.000Z')
  assert.is(v.registration.expiresAt, '2027-01-01T00:00:00.000Z')
  assert.is(v.authorization.status, 'Authorized')
  assert.is(v.authorization.nextRenewalAt, at(30).toISOString())
  assert.is(v.authorization.expiresAt, at(90).toISOString())
  assert.equal(v.licenses, [{type: 'Rich Media Session', inUse: 5, status: 'Authorized'}])
  assert.is(v.unauthorized, false)
})

test('Authorization Expired exactly 90 days after the last successful authorization, not before', async () => {
  const s = registered({granted: {rms: 1}})
  assert.is(view(s, usage(1), new Date(at(90).getTime() - 1)).authorization.status, 'Authorized')
  const v = view(s, usage(1), at(90))
  assert.is(v.authorization.status, 'Authorization Expired')
  assert.is(v.licenses[0]!.status, 'Authorization Expired')
  assert.is(v.registration.status, 'Registered')
  // registered: not the seed's Unauthorized state (that one is "evaluation over and not registered")
  assert.is(v.unauthorized, false)
})

test('a renewal moves the expiry: the clock counts from the last success, not from registration', async () => {
  const s = registered({granted: {rms: 1}, authorizedAt: at(80).toISOString()})
  assert.is(view(s, usage(1), at(100)).authorization.status, 'Authorized')
  assert.is(view(s, usage(1), at(170)).authorization.status, 'Authorization Expired')
})

test('Registration Expired one year after registeredAt; back to evaluation statuses', async () => {
  const s = registered({granted: {rms: 1}, authorizedAt: at(360).toISOString()})
  assert.is(view(s, usage(1), at(364)).registration.status, 'Registered')
  const v = view(s, usage(1), new Date('2027-01-01T00:00:00.000Z'))
  assert.is(v.registration.status, 'Unregistered: Registration Expired')
  assert.is(v.registration.expiresAt, '2027-01-01T00:00:00.000Z')
  assert.is(v.registration.nextRenewalAt, null)
  assert.is(v.authorization.status, 'Evaluation Expired')
  assert.is(v.authorization.expiresAt, null)
  assert.is(v.unauthorized, true)
})

test('a registration renewal (new registeredAt) extends the year', async () => {
  const s = registered({registeredAt: at(180).toISOString(), authorizedAt: at(350).toISOString(), granted: {rms: 1}})
  assert.is(view(s, usage(1), at(400)).registration.status, 'Registered')
  assert.is(view(s, usage(1), at(546)).registration.status, 'Unregistered: Registration Expired')
})

test('Out-of-compliance: the server could not cover the report; per license Out of compliance or Authorized', async () => {
  const s = registered({result: 'out-of-compliance', granted: {rms: 2, room: 1}, requested: {rms: 5, room: 1}})
  const v = view(s, usage(5, 1), at(1))
  assert.is(v.authorization.status, 'Out-of-compliance')
  assert.equal(v.licenses, [
    {type: 'Rich Media Session', inUse: 5, status: 'Out of compliance'},
    {type: 'Room Registrations', inUse: 1, status: 'Authorized'},
  ])
  assert.is(view(s, usage(5, 1), at(90)).authorization.status, 'Authorization Expired')
})

test('No Licenses in Use when the last report asked for nothing; usage grown since then is Waiting', async () => {
  const s = registered({result: 'no-licenses-in-use'})
  assert.is(view(s, noUsage, at(1)).authorization.status, 'No Licenses in Use')
  const v = view(s, usage(2), at(1))
  assert.is(v.authorization.status, 'No Licenses in Use')
  assert.equal(v.licenses, [{type: 'Rich Media Session', inUse: 2, status: 'Waiting'}])
})

test('registered but never authorized: evaluation continues, licenses are Waiting', async () => {
  const s = registered({authorizedAt: null})
  const v = view(s, usage(1), at(1))
  assert.is(v.registration.status, 'Registered')
  assert.is(v.authorization.status, 'Evaluation Mode')
  assert.is(v.authorization.expiresAt, null)
  assert.equal(v.licenses[0]!.status, 'Waiting')
  assert.is(v.unauthorized, false)
})

test('a corrupt grant is Invalid', async () => {
  const s = registered({granted: {rms: 1}})
  s.authorization.licenses[0]!.granted = -1
  assert.is(view(s, usage(1), at(1)).licenses[0]!.status, 'Invalid')
})

test('retries of a registered unit show as nextAttemptAt; the error stays until a success clears it', async () => {
  const s = registered({granted: {rms: 1}})
  s.registration.lastError = 'x'
  s.authorization.nextAttemptAt = at(31).toISOString()
  s.registration.nextAttemptAt = at(32).toISOString()
  const v = view(s, usage(1), at(31))
  assert.is(v.registration.nextAttemptAt, at(31).toISOString())
  assert.is(v.registration.lastError, 'x')
})

test('reservation: Registered + Authorized; per license Authorized, Out of compliance, Not Authorized, Authorization Expired', async () => {
  const s = evaluating()
  s.reservation = {...s.reservation, enabled: true, state: 'installed', kind: 'SLR', entitlements: [{type: 'rms', tag: 't', count: 2, endDate: null}]}
  const v = view(s, usage(2, 1), at(200))
  assert.is(v.registration.status, 'Registered')
  assert.is(v.authorization.status, 'Authorized')
  assert.is(v.unauthorized, false)
  assert.equal(v.licenses.map((l) => l.status), ['Authorized', 'Not Authorized'])
  assert.is(view(s, usage(3), at(200)).licenses[0]!.status, 'Out of compliance')
  s.reservation.entitlements[0]!.expired = true
  assert.is(view(s, usage(1), at(200)).licenses[0]!.status, 'Authorization Expired')
  s.reservation.entitlements = [{type: 'bogus' as never, tag: 'x', count: 1, endDate: null}]
  assert.is(view(s, usage(1), at(200)).licenses[0]!.status, 'Invalid-tag')
})

test('transport view: On-Prem URL, Direct endpoint (lab override or Cisco), proxy tunnelling to it; no secrets', async () => {
  const s = evaluating()
  assert.equal(view(s, noUsage, at(0)).transport, {mode: 'direct', url: CISCO_DIRECT_URL, proxy: null})
  s.directUrl = 'https://127.0.0.1:9/SmartTransport'
  s.transport = {mode: 'proxy', url: null, proxy: {host: '127.0.0.1', port: 3128, username: 'u', hasPassword: true}}
  const v = view(s, noUsage, at(0))
  assert.equal(v.transport, {mode: 'proxy', url: 'https://127.0.0.1:9/SmartTransport', proxy: {host: '127.0.0.1', port: 3128, username: 'u'}})
  s.transport = {mode: 'on-prem', url: 'https://ssm.lab/SmartTransport', proxy: null}
  assert.equal(view(s, noUsage, at(0)).transport, {mode: 'on-prem', url: 'https://ssm.lab/SmartTransport', proxy: null})
})

test('the view has exactly the field names of SPEC 5', async () => {
  const v = view(registered({granted: {rms: 1}}), usage(1), at(1))
  assert.equal(Object.keys(v).sort(), ['authorization', 'evaluation', 'hideIdentity', 'licenses', 'mode', 'registration', 'reservation', 'transport', 'trustStore', 'unauthorized'])
  assert.equal(Object.keys(v.registration).sort(), ['expiresAt', 'exportControlled', 'lastError', 'nextAttemptAt', 'nextRenewalAt', 'smartAccount', 'status', 'virtualAccount'])
  assert.equal(Object.keys(v.authorization).sort(), ['expiresAt', 'nextRenewalAt', 'status'])
  assert.equal(Object.keys(v.licenses[0]!).sort(), ['inUse', 'status', 'type'])
})

test('older state files without the new fields still read (normalizeLicensing)', async () => {
  const old = JSON.parse(JSON.stringify(registered({granted: {rms: 1}}))) as Record<string, Record<string, unknown>>
  delete old.registration!.pendingForce
  delete old.authorization!.nextAttemptAt
  const s = normalizeLicensing(old as never)
  assert.is(s.registration.pendingForce, false)
  assert.is(s.authorization.nextAttemptAt, null)
  assert.is(view(s, usage(1), at(1)).authorization.status, 'Authorized')
})

test('the status is the same function of the same inputs (pure)', async () => {
  const s = registered({granted: {rms: 1}})
  const copy = JSON.stringify(s)
  assert.equal(view(s, usage(1), at(45)), view(s, usage(1), at(45)))
  assert.is(JSON.stringify(s), copy)
})

// ---------------------------------------------------------------------------
// Per-type status (SPEC 11)
// ---------------------------------------------------------------------------

test('per type: the server\'s own answer for each type; Room Authorized while Rich Media Session is Out of compliance, overall Out-of-compliance', async () => {
  const s = registered({result: 'out-of-compliance', granted: {rms: 0, room: 1}, requested: {rms: 3, room: 1}})
  s.authorization.licenses = [
    {type: 'rms', requested: 3, granted: 0, status: 'out-of-compliance'},
    {type: 'room', requested: 1, granted: 1, status: 'authorized'},
    {type: 'desktop', requested: 0, granted: 0, status: 'authorized'},
  ]
  const v = view(s, usage(3, 1), at(1))
  assert.equal(v.licenses, [
    {type: 'Rich Media Session', inUse: 3, status: 'Out of compliance'},
    {type: 'Room Registrations', inUse: 1, status: 'Authorized'},
  ])
  assert.is(v.authorization.status, 'Out-of-compliance')
  // without a per-type status (an older server) the agent derives it from granted and requested: the same answer
  for (const l of s.authorization.licenses) delete l.status
  assert.equal(view(s, usage(3, 1), at(1)).licenses.map((l) => l.status), ['Out of compliance', 'Authorized'])
})

test('per type: a server answer "authorized" for a type stands even where its grant is below the use; the top-level answer alone does not make a type short', async () => {
  const s = registered({result: 'authorized', granted: {room: 1}, requested: {room: 2}})
  s.authorization.licenses[1]!.status = 'authorized'
  assert.is(view(s, usage(0, 2), at(1)).licenses[0]!.status, 'Authorized')
  assert.is(view(s, usage(0, 2), at(1)).authorization.status, 'Authorized')
})

test('overall follows the types: once no type in use is short (usage dropped), the last answer\'s Out-of-compliance is history', async () => {
  const s = registered({result: 'out-of-compliance', granted: {rms: 2, room: 0}, requested: {rms: 2, room: 4}})
  assert.is(view(s, usage(2, 4), at(1)).authorization.status, 'Out-of-compliance')
  assert.is(view(s, usage(2, 0), at(1)).authorization.status, 'Authorized')
  assert.is(view(s, noUsage, at(1)).authorization.status, 'No Licenses in Use')
  // grown beyond the report: still waiting for the answer, and still short
  assert.equal(view(s, usage(2, 6), at(1)).licenses.map((l) => l.status), ['Authorized', 'Waiting'])
  assert.is(view(s, usage(2, 6), at(1)).authorization.status, 'Out-of-compliance')
  // an answer "authorized" with one type out of compliance (a server granting per type) is Out-of-compliance
  s.authorization.result = 'authorized'
  assert.is(view(s, usage(2, 4), at(1)).authorization.status, 'Out-of-compliance')
})

test('reservation: the overall status follows the types — Out-of-compliance beyond a reserved count, Authorization Expired once boot stopped the SLR', async () => {
  const s = evaluating()
  s.reservation = {...s.reservation, enabled: true, state: 'installed', kind: 'SLR', entitlements: [{type: 'rms', tag: 't', count: 2, endDate: '2026-03-01T00:00:00.000Z'}]}
  assert.is(view(s, usage(2), at(200)).authorization.status, 'Authorized', 'an expired end date changes nothing until boot')
  assert.is(view(s, usage(3), at(1)).authorization.status, 'Out-of-compliance')
  // a type the reservation does not hold is Not Authorized (enforcement not applicable): not a reserved type exceeded
  assert.is(view(s, usage(1, 1), at(1)).authorization.status, 'Authorized')
  s.reservation.entitlements[0]!.expired = true
  assert.is(view(s, usage(1), at(200)).authorization.status, 'Authorization Expired')
  assert.is(view(s, noUsage, at(200)).authorization.status, 'Authorization Expired', 'every entitlement stopped: expired even with nothing in use')
  assert.is(view(s, noUsage, at(200)).registration.status, 'Registered')
})

test('reservation: in a cluster, a reserved type used beyond its count is Authorized while peers lend, Out-of-compliance when they cannot', async () => {
  const s = evaluating()
  s.reservation = {...s.reservation, enabled: true, state: 'installed', kind: 'SLR', entitlements: [{type: 'room', tag: 't', count: 1, endDate: null}]}
  const lends: ClusterShare = {room: {type: 'room', installed: 1, inUse: 3, reported: 1, borrowed: 2, lent: 0, status: 'Authorized'}}
  const v = view(s, usage(0, 3), at(1), lends)
  assert.equal(v.licenses, [{type: 'Room Registrations', inUse: 3, status: 'Authorized', reported: 1, borrowed: 2}])
  assert.is(v.authorization.status, 'Authorized')
  const short: ClusterShare = {room: {...lends.room!, borrowed: 1, status: 'Out of compliance'}}
  assert.is(view(s, usage(0, 3), at(1), short).authorization.status, 'Out-of-compliance')
})

test('Invalid-tag: an entitlement whose tag the unit does not know is listed with its status and grants nothing', async () => {
  const s = evaluating()
  s.reservation = {
    ...s.reservation, enabled: true, state: 'installed', kind: 'SLR',
    entitlements: [{type: 'rms', tag: 'regid.rms', count: 2, endDate: null}],
    unknownEntitlements: [{tag: 'regid.2099-01.com.cisco.SOMETHING_ELSE,1.0_x', count: 5, endDate: null}],
  }
  const v = view(s, usage(1, 1), at(1))
  assert.equal(v.reservation.entitlements, [
    {type: 'Rich Media Session', tag: 'regid.rms', count: 2, endDate: null, status: 'Authorized'},
    {type: null, tag: 'regid.2099-01.com.cisco.SOMETHING_ELSE,1.0_x', count: 5, endDate: null, status: 'Invalid-tag'},
  ])
  // the room registration in use gets nothing from the 5 of the unknown tag
  assert.equal(v.licenses.map((l) => [l.type, l.status]), [['Rich Media Session', 'Authorized'], ['Room Registrations', 'Invalid-tag']])
})

test('a cluster peer registered with a server: authorized by its own grant plus what it borrows; lines carry reported and borrowed', async () => {
  const s = registered({granted: {rms: 10}, requested: {rms: 10}})
  const share: ClusterShare = {rms: {type: 'rms', installed: 10, inUse: 20, reported: 10, borrowed: 10, lent: 0, status: 'Authorized'}}
  const v = view(s, usage(20), at(1), share)
  assert.equal(v.licenses, [{type: 'Rich Media Session', inUse: 20, status: 'Authorized', reported: 10, borrowed: 10}])
  assert.is(v.authorization.status, 'Authorized')
  // without the peers' licenses the same use grew beyond what was reported: Waiting for the answer
  assert.is(view(s, usage(20), at(1)).licenses[0]!.status, 'Waiting')
  // outside a cluster the lines keep exactly SPEC 5's fields
  assert.equal(Object.keys(view(s, usage(5), at(1)).licenses[0]!).sort(), ['inUse', 'status', 'type'])
})

// ---------------------------------------------------------------------------
// Authorization renewal and usage reports (SPEC 11)
// ---------------------------------------------------------------------------

test('reportDue: the authorization renewal at 30 days, a usage report every 6 hours in between, nothing otherwise', async () => {
  const s = registered({granted: {rms: 1}})
  s.usageReportedAt = T0
  const hours = (h: number) => new Date(Date.parse(T0) + h * 3_600_000)
  assert.is(reportDue(s, hours(5)), null)
  assert.is(reportDue(s, hours(6)), 'usage')
  s.usageReportedAt = hours(48).toISOString()
  assert.is(reportDue(s, hours(49)), null)
  assert.is(reportDue(s, at(30)), 'authorization', 'the renewal carries the usage too: one exchange does for both')
  s.authorization.lastSuccessAt = null
  assert.is(reportDue(s, hours(49)), 'authorization', 'never authorized: the first authorization')
})

test('a usage report moves lastReportedAt and nextReportAt, never the authorization\'s expiry', async () => {
  const s = registered({granted: {rms: 1}})
  s.usageReportedAt = at(2).toISOString()
  const u = usageView(s, usage(1), at(2))
  assert.is(u.lastReportedAt, at(2).toISOString())
  assert.is(u.nextReportAt, new Date(Date.parse(at(2).toISOString()) + 6 * 3_600_000).toISOString())
  assert.equal(u.licenses, [{type: 'Rich Media Session', inUse: 1, status: 'Authorized'}])
  assert.is(view(s, usage(1), at(2)).authorization.expiresAt, at(90).toISOString(), 'from the last renewal, not the last report')
  // a failed report scheduled later than the 6 hours: the retry is the next report
  s.authorization.nextAttemptAt = at(3).toISOString()
  assert.is(usageView(s, usage(1), at(2)).nextReportAt, at(3).toISOString())
  // nothing is reported while not registered, nor under a reservation
  assert.is(usageView(evaluating(), usage(1), at(2)).nextReportAt, null)
  const reserved = evaluating()
  reserved.reservation = {...reserved.reservation, enabled: true, state: 'installed', kind: 'PLR', entitlements: [{type: 'rms', tag: 'p', count: 100, endDate: null}]}
  assert.equal(usageView(reserved, usage(1), at(2)), {licenses: [{type: 'Rich Media Session', inUse: 1, status: 'Authorized'}], lastReportedAt: null, nextReportAt: null})
})

test('usage view of a cluster peer lists a type it reports without using it (it lends)', async () => {
  const s = registered({granted: {rms: 10}})
  const lender: ClusterShare = {rms: {type: 'rms', installed: 10, inUse: 0, reported: 10, borrowed: 0, lent: 10, status: 'Authorized'}}
  assert.equal(usageView(s, noUsage, at(1), lender).licenses, [{type: 'Rich Media Session', inUse: 0, status: 'Authorized', reported: 10, borrowed: 0}])
  assert.equal(view(s, noUsage, at(1), lender).licenses, [], 'the status lists only the types in use')
})

test('registration expired: the note says so with the evaluation\'s state; nothing to say otherwise', async () => {
  const s = registered({granted: {rms: 1}})
  assert.equal(registrationNotes(view(s, usage(1), at(10))), [])
  const late = view(s, usage(1), at(366))
  assert.is(late.registration.status, 'Unregistered: Registration Expired')
  const [note] = registrationNotes(late)
  assert.match(note!, /^The registration expired on 2027-01-01T00:00:00.000Z/)
  assert.match(note!, /Evaluation Expired since 2026-04-01T00:00:00.000Z: the unit is Unauthorized/)
  // an evaluation restarted later (a factory reset) is still running
  s.evaluation.startedAt = at(300).toISOString()
  assert.match(registrationNotes(view(s, usage(1), at(366)))[0]!, /Evaluation Mode until 2027-01-26T00:00:00.000Z/)
})

test.run()
