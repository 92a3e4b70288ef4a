import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {UsageFile} from '../../src/areas/usage.js'
import {CISCO_DIRECT_URL, defaultLicensingState, normalizeLicensing, type LicensingState} from '../../src/licensing/state.js'
import {isUnauthorized, licensingStatus, type SmartLicensingView} from '../../src/licensing/status.js'
import {REGISTRATION_TIMEOUT_MESSAGE} from '../../src/licensing/timers.js'

// licensingStatus is a pure function of stored state and now: every status of the seed and
// every timer (90-day evaluation, 30/90-day authorization, 6/12-month registration) is
// checked here by moving `now`, never by touching the state.

const T0 = '2026-01-01T00:00:00.000Z'
const DAY = 24 * 60 * 60 * 1000
const at = (days: number, base = T0) => new Date(Date.parse(base) + days * DAY)
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

function view(state: LicensingState, u: UsageFile, when: Date): SmartLicensingView {
  const v = licensingStatus(state, u, when)
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

test('license types not being consumed are not displayed (the seed)', async () => {
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

test('pending: Unregistered: Registration Pending with the seed message and the next attempt, still evaluating', async () => {
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

test.run()
