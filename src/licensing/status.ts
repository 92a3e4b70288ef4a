import type {UsageFile} from '../areas/state.js'
import type {LicenseType, LicensingState} from './state.js'
import {
  AUTHORIZATION_EXPIRY_DAYS, AUTHORIZATION_RENEWAL_INTERVAL_DAYS, EVALUATION_PERIOD_DAYS, plusDays, plusMonths,
  REGISTRATION_EXPIRY_MONTHS, REGISTRATION_RENEWAL_INTERVAL_MONTHS,
} from './timers.js'

export const LICENSE_NAMES: Record<LicenseType, string> = {
  rms: 'Rich Media Session',
  room: 'Room Registrations',
  desktop: 'Desktop Registrations',
}

export type RegistrationStatus =
  | 'Registered' | 'Unregistered' | 'Unregistered: Registration Expired' | 'Unregistered: Registration Pending' | 'Unregistered: Registration Failed'
export type AuthorizationStatus =
  | 'Authorized' | 'Authorization Expired' | 'Out-of-compliance' | 'No Licenses in Use' | 'Evaluation Mode' | 'Evaluation Expired' | 'Not Applicable'
export type LicenseStatus =
  | 'Authorized' | 'Evaluation Mode' | 'Evaluation Expired' | 'Authorization Expired' | 'Invalid' | 'Invalid-tag' | 'Not Authorized' | 'Out of compliance' | 'Waiting'

export interface TrustStoreEntry {
  subject: string
  fingerprint: string
  lab: boolean
}

export interface SmartLicensingView {
  mode: 'smart'
  transport: {mode: string; url: string | null; proxy: {host: string; port: number; username: string | null} | null}
  hideIdentity: boolean
  registration: {
    status: RegistrationStatus
    smartAccount: string | null
    virtualAccount: string | null
    exportControlled: 'Allowed' | 'Not Allowed' | null
    expiresAt: string | null
    nextRenewalAt: string | null
    lastError: string | null
    nextAttemptAt: string | null
  }
  authorization: {status: AuthorizationStatus; expiresAt: string | null; nextRenewalAt: string | null}
  evaluation: {startedAt: string | null; expiresAt: string | null}
  unauthorized: boolean
  licenses: Array<{type: string; inUse: number; status: LicenseStatus}>
  reservation: {enabled: boolean; state: 'none' | 'requested' | 'installed'; kind: 'SLR' | 'PLR' | null; entitlements: Array<{type: string; count: number; endDate: string | null}>}
  trustStore: TrustStoreEntry[]
}

export type LicensingView = SmartLicensingView | {mode: 'legacy'}

function inUseOf(usage: UsageFile): Array<{type: LicenseType; inUse: number}> {
  // the seed: a license type not being consumed is not displayed
  return ([['rms', usage.calls], ['room', usage.room], ['desktop', usage.desktop]] as Array<[LicenseType, number]>)
    .filter(([, n]) => n > 0)
    .map(([type, inUse]) => ({type, inUse}))
}

/** True when the registration is valid at `now` (registered and not past its 1-year expiry). */
export function isRegistered(state: LicensingState, at: Date): boolean {
  const r = state.registration
  return r.state === 'registered' && r.registeredAt !== null && at < plusMonths(r.registeredAt, REGISTRATION_EXPIRY_MONTHS)
}

export function evaluationExpiresAt(state: LicensingState): Date | null {
  return state.evaluation.startedAt ? plusDays(state.evaluation.startedAt, EVALUATION_PERIOD_DAYS) : null
}

export function isEvaluationExpired(state: LicensingState, at: Date): boolean {
  const expires = evaluationExpiresAt(state)
  return expires !== null && at >= expires
}

/**
 * The licensing status of a unit: a pure function of its stored state and now (DESIGN 4).
 * Never uses timestamps sent by a server.
 */
export function licensingStatus(state: LicensingState, usage: UsageFile, at: Date, trustStore: TrustStoreEntry[] = []): LicensingView {
  if (state.mode !== 'smart') return {mode: 'legacy'}
  const r = state.registration
  const registered = isRegistered(state, at)
  const evalExpired = isEvaluationExpired(state, at)
  const reservationInstalled = state.reservation.state === 'installed'

  let registrationStatus: RegistrationStatus
  if (r.state === 'registered') registrationStatus = registered ? 'Registered' : 'Unregistered: Registration Expired'
  else if (r.state === 'pending') registrationStatus = 'Unregistered: Registration Pending'
  else if (r.state === 'failed') registrationStatus = 'Unregistered: Registration Failed'
  else registrationStatus = reservationInstalled ? 'Registered' : 'Unregistered'

  const a = state.authorization
  const authExpired = a.lastSuccessAt !== null && at >= plusDays(a.lastSuccessAt, AUTHORIZATION_EXPIRY_DAYS)
  let authorizationStatus: AuthorizationStatus
  if (reservationInstalled) authorizationStatus = 'Authorized'
  else if (registered && a.lastSuccessAt !== null) {
    if (authExpired) authorizationStatus = 'Authorization Expired'
    else if (a.result === 'out-of-compliance') authorizationStatus = 'Out-of-compliance'
    else if (a.result === 'no-licenses-in-use') authorizationStatus = 'No Licenses in Use'
    else authorizationStatus = 'Authorized'
  } else authorizationStatus = evalExpired ? 'Evaluation Expired' : 'Evaluation Mode'

  const licenses = inUseOf(usage).map(({type, inUse}) => ({type: LICENSE_NAMES[type], inUse, status: licenseStatus(state, type, inUse, authorizationStatus)}))
  const ev = evaluationExpiresAt(state)
  return {
    mode: 'smart',
    transport: {
      mode: state.transport.mode,
      url: state.transport.mode === 'on-prem' ? state.transport.url : state.transport.mode === 'direct' ? state.directUrl : state.directUrl,
      proxy: state.transport.proxy ? {host: state.transport.proxy.host, port: state.transport.proxy.port, username: state.transport.proxy.username} : null,
    },
    hideIdentity: state.hideIdentity,
    registration: {
      status: registrationStatus,
      smartAccount: r.state === 'registered' ? r.smartAccount : null,
      virtualAccount: r.state === 'registered' ? r.virtualAccount : null,
      exportControlled: r.state === 'registered' ? r.exportControlled : null,
      expiresAt: r.state === 'registered' && r.registeredAt ? plusMonths(r.registeredAt, REGISTRATION_EXPIRY_MONTHS).toISOString() : null,
      nextRenewalAt: registered && r.registeredAt ? plusMonths(r.registeredAt, REGISTRATION_RENEWAL_INTERVAL_MONTHS).toISOString() : null,
      lastError: r.lastError,
      nextAttemptAt: r.state === 'pending' ? r.nextAttemptAt : null,
    },
    authorization: {
      status: authorizationStatus,
      expiresAt: registered && a.lastSuccessAt ? plusDays(a.lastSuccessAt, AUTHORIZATION_EXPIRY_DAYS).toISOString() : null,
      nextRenewalAt: registered && a.lastSuccessAt ? plusDays(a.lastSuccessAt, AUTHORIZATION_RENEWAL_INTERVAL_DAYS).toISOString() : null,
    },
    evaluation: {startedAt: state.evaluation.startedAt, expiresAt: ev ? ev.toISOString() : null},
    unauthorized: authorizationStatus === 'Evaluation Expired' || authorizationStatus === 'Authorization Expired',
    licenses,
    reservation: {
      enabled: state.reservation.enabled,
      state: state.reservation.state,
      kind: state.reservation.kind,
      entitlements: state.reservation.entitlements.map((e) => ({type: LICENSE_NAMES[e.type], count: e.count, endDate: e.endDate})),
    },
    trustStore,
  }
}

function licenseStatus(state: LicensingState, type: LicenseType, inUse: number, auth: AuthorizationStatus): LicenseStatus {
  if (state.reservation.state === 'installed') {
    const ent = state.reservation.entitlements.filter((e) => e.type === type)
    if (ent.length === 0) return 'Not Authorized'
    // the seed: an expired reservation changes nothing until the restart (xway boot) stops the feature
    if (ent.some((e) => e.expired)) return 'Authorization Expired'
    return ent.reduce((n, e) => n + e.count, 0) >= inUse ? 'Authorized' : 'Out of compliance'
  }
  switch (auth) {
    case 'Evaluation Mode':
    case 'Evaluation Expired':
    case 'Authorization Expired':
      return auth
    case 'Out-of-compliance': {
      const lic = state.authorization.licenses.find((l) => l.type === type)
      return lic && lic.granted >= inUse ? 'Authorized' : 'Out of compliance'
    }
    default: {
      const lic = state.authorization.licenses.find((l) => l.type === type)
      if (!lic) return 'Waiting'
      return lic.granted >= inUse ? 'Authorized' : 'Waiting'
    }
  }
}
