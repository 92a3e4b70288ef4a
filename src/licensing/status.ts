import type {SessionCounts} from './export-control.js'
import type {UsageFile} from '../areas/usage.js'
import {LICENSE_TYPE_NAMES} from './license-types.js'
import {directEndpoint, type LicenseType, type LicensingState} from './state.js'
import {AUTHORIZATION_EXPIRY_DAYS, AUTHORIZATION_RENEWAL_INTERVAL_DAYS, EVALUATION_PERIOD_DAYS, plusDays, plusMonths, REGISTRATION_EXPIRY_MONTHS, REGISTRATION_RENEWAL_INTERVAL_MONTHS} from './timers.js'

/** The appliance's names of the license types (one table: license-types.ts). */
export const LICENSE_NAMES: Record<LicenseType, string> = LICENSE_TYPE_NAMES

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

function inUseOf(usage: SessionCounts): Array<{type: LicenseType; inUse: number}> {
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

/** Registered once, and the registration certificate's year has run out without a renewal. */
export function isRegistrationExpired(state: LicensingState, at: Date): boolean {
  const r = state.registration
  return r.state === 'registered' && r.registeredAt !== null && at >= plusMonths(r.registeredAt, REGISTRATION_EXPIRY_MONTHS)
}

export function evaluationExpiresAt(state: LicensingState): Date | null {
  return state.evaluation.startedAt ? plusDays(state.evaluation.startedAt, EVALUATION_PERIOD_DAYS) : null
}

export function isEvaluationExpired(state: LicensingState, at: Date): boolean {
  const expires = evaluationExpiresAt(state)
  return expires !== null && at >= expires
}

/** Authorized once, and 90 days have passed since the last successful authorization. */
export function isAuthorizationExpired(state: LicensingState, at: Date): boolean {
  const last = state.authorization.lastSuccessAt
  return last !== null && at >= plusDays(last, AUTHORIZATION_EXPIRY_DAYS)
}

export function registrationStatus(state: LicensingState, at: Date): RegistrationStatus {
  const r = state.registration
  switch (r.state) {
    case 'registered':
      // a registration without its issue time cannot be timed: it is treated as expired, never as valid
      return isRegistered(state, at) ? 'Registered' : 'Unregistered: Registration Expired'
    case 'pending':
      return 'Unregistered: Registration Pending'
    case 'failed':
      return 'Unregistered: Registration Failed'
    default:
      // a reservation (SLR/PLR) registers the unit without a network exchange
      return state.reservation.state === 'installed' ? 'Registered' : 'Unregistered'
  }
}

/**
 * The seed's license authorization statuses:
 * - a reservation installed: Authorized (it is the authorization);
 * - registered and authorized at least once: Authorization Expired 90 days after the last
 *   successful authorization, else what the server answered last (Authorized,
 *   Out-of-compliance, No Licenses in Use);
 * - not registered (unregistered, pending, failed, registration expired), or registered but
 *   not yet authorized: the evaluation period — Evaluation Mode, or Evaluation Expired 90
 *   days after it started;
 * - Not Applicable when the evaluation never started and nothing else is known ("unable to
 *   determine the current registration status").
 */
export function authorizationStatus(state: LicensingState, at: Date): AuthorizationStatus {
  if (state.reservation.state === 'installed') return 'Authorized'
  const a = state.authorization
  if (isRegistered(state, at) && a.lastSuccessAt !== null) {
    if (isAuthorizationExpired(state, at)) return 'Authorization Expired'
    switch (a.result) {
      case 'out-of-compliance': return 'Out-of-compliance'
      case 'no-licenses-in-use': return 'No Licenses in Use'
      case 'authorized': return 'Authorized'
      default: return 'Not Applicable'
    }
  }
  if (state.evaluation.startedAt === null) return 'Not Applicable'
  return isEvaluationExpired(state, at) ? 'Evaluation Expired' : 'Evaluation Mode'
}

/**
 * The seed's Unauthorized state: "After the evaluation period, if Expressway is not registered
 * with either CSSM or Smart Software Manager On-Prem, the product moves to Unauthorized state"
 * (no new registrations until it is registered). A reservation counts as registered.
 */
export function isUnauthorized(state: LicensingState, at: Date): boolean {
  if (state.mode !== 'smart') return false
  if (state.reservation.state === 'installed' || isRegistered(state, at)) return false
  return isEvaluationExpired(state, at)
}

function earliestOf(...dates: Array<string | null>): string | null {
  const set = dates.filter((d): d is string => d !== null).sort()
  return set.length > 0 ? set[0]! : null
}

/**
 * The licensing status of a unit: a pure function of its stored state and now (DESIGN 4).
 * Never uses timestamps sent by a server.
 */
/** `clusterShare`: for a clustered unit with a reservation, what its peers' spare reserved licenses cover (src/licensing/cluster-share.ts). */
export function licensingStatus(state: LicensingState, usage: SessionCounts, at: Date, trustStore: TrustStoreEntry[] = [], clusterShare?: Partial<Record<LicenseType, 'Authorized' | 'Out of compliance'>>): LicensingView {
  if (state.mode !== 'smart') return {mode: 'legacy'}
  const r = state.registration
  const a = state.authorization
  const registered = isRegistered(state, at)
  const regStatus = registrationStatus(state, at)
  const authStatus = authorizationStatus(state, at)
  const holdsRegistration = r.state === 'registered'
  const authorizedOnce = registered && a.lastSuccessAt !== null && state.reservation.state !== 'installed'

  const licenses = inUseOf(usage).map(({type, inUse}) => ({type: LICENSE_NAMES[type], inUse, status: licenseStatus(state, type, inUse, authStatus, at, clusterShare?.[type])}))
  const ev = evaluationExpiresAt(state)
  const t = state.transport
  return {
    mode: 'smart',
    transport: {
      mode: t.mode,
      // a proxy tunnels to the Direct endpoint
      url: t.mode === 'on-prem' ? t.url : directEndpoint(state),
      proxy: t.mode === 'proxy' && t.proxy ? {host: t.proxy.host, port: t.proxy.port, username: t.proxy.username} : null,
    },
    hideIdentity: state.hideIdentity,
    registration: {
      status: regStatus,
      smartAccount: holdsRegistration ? r.smartAccount : null,
      virtualAccount: holdsRegistration ? r.virtualAccount : null,
      exportControlled: holdsRegistration ? r.exportControlled : null,
      expiresAt: holdsRegistration && r.registeredAt ? plusMonths(r.registeredAt, REGISTRATION_EXPIRY_MONTHS).toISOString() : null,
      nextRenewalAt: registered && r.registeredAt ? plusMonths(r.registeredAt, REGISTRATION_RENEWAL_INTERVAL_MONTHS).toISOString() : null,
      lastError: r.lastError,
      // the agent's next retry: a pending registration, or a failed renewal or report of a registered unit
      nextAttemptAt: r.state === 'pending' ? r.nextAttemptAt : registered ? earliestOf(r.nextAttemptAt, a.nextAttemptAt) : null,
    },
    authorization: {
      status: authStatus,
      expiresAt: authorizedOnce ? plusDays(a.lastSuccessAt!, AUTHORIZATION_EXPIRY_DAYS).toISOString() : null,
      nextRenewalAt: authorizedOnce ? plusDays(a.lastSuccessAt!, AUTHORIZATION_RENEWAL_INTERVAL_DAYS).toISOString() : null,
    },
    evaluation: {startedAt: state.evaluation.startedAt, expiresAt: ev ? ev.toISOString() : null},
    unauthorized: isUnauthorized(state, at),
    licenses,
    reservation: {
      enabled: state.reservation.enabled,
      state: state.reservation.state,
      kind: state.reservation.kind,
      entitlements: state.reservation.entitlements.map((e) => ({type: LICENSE_NAMES[e.type] ?? e.type, count: e.count, endDate: e.endDate})),
    },
    trustStore,
  }
}

/**
 * Status of one license type in use (the seed's per-license list):
 * - reservation: Authorized while the reserved count covers the use, Out of compliance
 *   beyond it, Not Authorized for a type the reservation does not hold, Invalid-tag for an
 *   entitlement whose tag this version does not know, Authorization Expired once boot has
 *   stopped an expired entitlement;
 * - evaluation and expiries: the authorization status itself;
 * - authorized by the server: Authorized while what the server granted covers the use, Out
 *   of compliance when the server was asked for it and could not grant it, Waiting when the
 *   use grew after the last report (the request is not answered yet);
 * - Invalid when the stored grant is not a count (an error condition).
 */
function licenseStatus(state: LicensingState, type: LicenseType, inUse: number, auth: AuthorizationStatus, at: Date, shared?: 'Authorized' | 'Out of compliance'): LicenseStatus {
  if (state.reservation.state === 'installed') {
    // stored types are widened: a PLR entitlement ('plr') covers every type, an unknown tag has none of ours
    const all = state.reservation.entitlements as unknown as Array<{type: string; count: number; expired?: boolean}>
    if (all.some((e) => e.type === 'plr')) return 'Authorized'
    const ent = all.filter((e) => e.type === type)
    // the seed: an expired reservation changes nothing until the restart (xway boot) stops the feature
    if (ent.some((e) => e.expired) && shared !== 'Authorized') return 'Authorization Expired'
    const own = ent.filter((e) => !e.expired).reduce((n, e) => n + e.count, 0)
    if (own >= inUse && ent.length > 0) return 'Authorized'
    // in a cluster, a node borrows its peers' spare reserved licenses when its own are used up
    if (shared) return shared
    if (ent.length === 0) return all.some((e) => !(e.type in LICENSE_NAMES)) ? 'Invalid-tag' : 'Not Authorized'
    return 'Out of compliance'
  }
  switch (auth) {
    case 'Evaluation Mode':
      // registered, the first authorization not answered yet: the request is waiting
      return isRegistered(state, at) ? 'Waiting' : 'Evaluation Mode'
    case 'Evaluation Expired':
    case 'Authorization Expired':
      return auth
    case 'Not Applicable':
      return isRegistered(state, at) ? 'Waiting' : 'Not Authorized'
    default: {
      const lic = state.authorization.licenses.find((l) => l.type === type)
      if (!lic) return 'Waiting'
      if (!Number.isSafeInteger(lic.granted) || lic.granted < 0 || !Number.isSafeInteger(lic.requested) || lic.requested < 0) return 'Invalid'
      if (lic.granted >= inUse) return 'Authorized'
      return lic.requested >= inUse ? 'Out of compliance' : 'Waiting'
    }
  }
}
