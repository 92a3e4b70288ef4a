import type {ClusterShare, ClusterShareLine} from './cluster-share.js'
import type {SessionCounts} from './export-control.js'
import {LICENSE_TYPE_NAMES} from './license-types.js'
import {directEndpoint, LICENSE_TYPES, type LicenseType, type LicensingState, type ReportKind} from './state.js'
import {AUTHORIZATION_EXPIRY_DAYS, AUTHORIZATION_RENEWAL_INTERVAL_DAYS, EVALUATION_PERIOD_DAYS, plusDays, plusMonths, REGISTRATION_EXPIRY_MONTHS, REGISTRATION_RENEWAL_INTERVAL_MONTHS, USAGE_REPORT_INTERVAL_MS} from './timers.js'

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

/** One license type: current usage and status; on a cluster peer also what it reports and borrows. */
export interface LicenseLine {
  type: string
  inUse: number
  status: LicenseStatus
  /** cluster peers only: what the node reports for this type (never more than it has installed, see cluster-share.ts) */
  reported?: number
  /** cluster peers only: licenses of peers it uses because its own are used up */
  borrowed?: number
}

export interface ReservationEntitlementView {
  /** the license type's name, or null for a tag this version does not know */
  type: string | null
  tag: string
  count: number
  endDate: string | null
  status: 'Authorized' | 'Authorization Expired' | 'Invalid-tag'
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
  licenses: LicenseLine[]
  reservation: {enabled: boolean; state: 'none' | 'requested' | 'installed'; kind: 'SLR' | 'PLR' | null; entitlements: ReservationEntitlementView[]}
  trustStore: TrustStoreEntry[]
}

export type LicensingView = SmartLicensingView | {mode: 'legacy'}

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
 * The authorization status before the license types are looked at (Cisco's license
 * authorization statuses):
 * - registered and authorized at least once: Authorization Expired 90 days after the last
 *   successful authorization renewal (usage reports do not move it), else what the server
 *   answered last (Authorized, Out-of-compliance, No Licenses in Use);
 * - not registered (unregistered, pending, failed, registration expired), or registered but
 *   not yet authorized: the evaluation period — Evaluation Mode, or Evaluation Expired 90
 *   days after it started;
 * - Not Applicable when the evaluation never started and nothing else is known ("unable to
 *   determine the current registration status").
 * A reservation is decided by its license types (authorizationStatus).
 */
function baseAuthorization(state: LicensingState, at: Date): AuthorizationStatus {
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

/** The overall authorization status: the base status, then the license types in use decide (SPEC 11). */
function overallStatus(state: LicensingState, at: Date, lines: Array<{status: LicenseStatus}>): AuthorizationStatus {
  const r = state.reservation
  if (r.state === 'installed') {
    // under a reservation the types decide: a stopped SLR is Authorization Expired, a reserved type used beyond its count (nothing to borrow) Out-of-compliance
    const known = r.entitlements
    if (lines.some((l) => l.status === 'Authorization Expired') || (known.length > 0 && known.every((e) => e.expired))) return 'Authorization Expired'
    if (lines.some((l) => l.status === 'Out of compliance')) return 'Out-of-compliance'
    return 'Authorized'
  }
  const base = baseAuthorization(state, at)
  if (base !== 'Authorized' && base !== 'Out-of-compliance' && base !== 'No Licenses in Use') return base
  // one type out of compliance makes the whole authorization Out-of-compliance; once no type is, the last answer's shortage is history
  if (lines.some((l) => l.status === 'Out of compliance')) return 'Out-of-compliance'
  if (base === 'Out-of-compliance') {
    if (lines.some((l) => l.status === 'Waiting')) return 'Out-of-compliance'
    return lines.length > 0 ? 'Authorized' : 'No Licenses in Use'
  }
  return base
}

/**
 * Cisco's Unauthorized state: "After the evaluation period, if Expressway is not registered
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

/** Authorized once by a server, and that authorization is still valid at `at` (not expired, registration valid). */
export function holdsAuthorization(state: LicensingState, at: Date): boolean {
  return state.reservation.state !== 'installed' && isRegistered(state, at) && state.authorization.lastSuccessAt !== null && !isAuthorizationExpired(state, at)
}

/**
 * The licensing status of a unit: a pure function of its stored state and now (DESIGN 4).
 * Never uses timestamps sent by a server. `cluster`: for a unit in a cluster, its share of the
 * peers' licenses (cluster-share.ts); its license lines then carry `reported` and `borrowed`.
 */
export function licensingStatus(state: LicensingState, usage: SessionCounts, at: Date, trustStore: TrustStoreEntry[] = [], cluster?: ClusterShare): LicensingView {
  if (state.mode !== 'smart') return {mode: 'legacy'}
  const r = state.registration
  const a = state.authorization
  const registered = isRegistered(state, at)
  const regStatus = registrationStatus(state, at)
  const lines = licenseLines(state, usage, at, cluster)
  const authStatus = overallStatus(state, at, lines)
  const holdsRegistration = r.state === 'registered'
  const authorizedOnce = registered && a.lastSuccessAt !== null && state.reservation.state !== 'installed'

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
    licenses: lines,
    reservation: {
      enabled: state.reservation.enabled,
      state: state.reservation.state,
      kind: state.reservation.kind,
      entitlements: reservationEntitlements(state),
    },
    trustStore,
  }
}

function reservationEntitlements(state: LicensingState): ReservationEntitlementView[] {
  const r = state.reservation
  const known: ReservationEntitlementView[] = r.entitlements.map((e) => ({
    type: LICENSE_NAMES[e.type] ?? null, tag: e.tag, count: e.count, endDate: e.endDate,
    status: !(e.type in LICENSE_NAMES) ? 'Invalid-tag' : e.expired ? 'Authorization Expired' : 'Authorized',
  }))
  // Cisco's "Invalid-tag: The entitlement tag is invalid": listed, and it grants nothing
  const unknown: ReservationEntitlementView[] = (r.unknownEntitlements ?? []).map((e) => ({type: null, tag: e.tag, count: e.count, endDate: e.endDate, status: 'Invalid-tag'}))
  return [...known, ...unknown]
}

/**
 * The license types in use, each with its status (Cisco's list under "License usage"); with
 * `includeReported`, also the types a cluster peer reports without using them (it lends them).
 */
export function licenseLines(state: LicensingState, usage: SessionCounts, at: Date, cluster?: ClusterShare, includeReported = false): LicenseLine[] {
  const base = baseAuthorization(state, at)
  const counts: Record<LicenseType, number> = {rms: usage.calls, room: usage.room, desktop: usage.desktop}
  return LICENSE_TYPES
    .filter((type) => counts[type] > 0 || (includeReported && (cluster?.[type]?.reported ?? 0) > 0))
    .map((type) => {
      const inUse = counts[type]
      const share = cluster?.[type]
      const status = state.reservation.state === 'installed'
        ? reservedLicenseStatus(state, type, inUse, share)
        : licenseStatus(state, type, inUse, base, at, share)
      const line: LicenseLine = {type: LICENSE_NAMES[type], inUse, status}
      if (cluster) Object.assign(line, {reported: share?.reported ?? 0, borrowed: share?.borrowed ?? 0})
      return line
    })
}

/**
 * Status of one license type under a reservation: Authorized while the reserved count covers
 * the use (or, in a cluster, with what peers lend), Out of compliance beyond it, Not Authorized
 * for a type the reservation does not hold, Invalid-tag for such a type when the code held an
 * entitlement whose tag this version does not know, Authorization Expired once boot has
 * stopped an expired entitlement (and peers do not cover the use).
 */
function reservedLicenseStatus(state: LicensingState, type: LicenseType, inUse: number, share?: ClusterShareLine): LicenseStatus {
  // stored types are widened: a PLR entitlement ('plr') covers every type, an unknown tag has none of ours
  const all = state.reservation.entitlements as unknown as Array<{type: string; count: number; expired?: boolean}>
  if (all.some((e) => e.type === 'plr')) return 'Authorized'
  const ent = all.filter((e) => e.type === type)
  const covered = share?.status === 'Authorized'
  // Cisco: an expired reservation changes nothing until the restart (xway boot) stops the feature
  if (ent.some((e) => e.expired) && !covered) return 'Authorization Expired'
  const own = ent.filter((e) => !e.expired).reduce((n, e) => n + e.count, 0)
  if (own >= inUse && ent.length > 0) return 'Authorized'
  // in a cluster, a node borrows its peers' spare reserved licenses when its own are used up
  if (share) return share.status
  if (ent.length === 0) {
    const unknownTag = (state.reservation.unknownEntitlements ?? []).length > 0 || all.some((e) => !(e.type in LICENSE_NAMES))
    return unknownTag ? 'Invalid-tag' : 'Not Authorized'
  }
  return 'Out of compliance'
}

/**
 * Status of one license type in use, registered with a server or evaluating:
 * - evaluation and expiries: the authorization status itself (Waiting while a registered
 *   unit's first authorization is not answered);
 * - authorized by the server: Authorized while what the server granted (plus, in a cluster,
 *   what peers lend) covers the use; Waiting when the use grew beyond what was last reported
 *   (the request is not answered yet); else the server's own answer for the type when it sent
 *   one, or Out of compliance (asked for and not granted);
 * - Invalid when the stored grant is not a count (an error condition).
 */
function licenseStatus(state: LicensingState, type: LicenseType, inUse: number, base: AuthorizationStatus, at: Date, share?: ClusterShareLine): LicenseStatus {
  switch (base) {
    case 'Evaluation Mode':
      return isRegistered(state, at) ? 'Waiting' : 'Evaluation Mode'
    case 'Evaluation Expired':
    case 'Authorization Expired':
      return base
    case 'Not Applicable':
      return isRegistered(state, at) ? 'Waiting' : 'Not Authorized'
    default: {
      const lic = state.authorization.licenses.find((l) => l.type === type)
      if (!lic) return 'Waiting'
      if (!Number.isSafeInteger(lic.granted) || lic.granted < 0 || !Number.isSafeInteger(lic.requested) || lic.requested < 0) return 'Invalid'
      const own = inUse - (share?.borrowed ?? 0)
      if (lic.granted >= own) return 'Authorized'
      if (own > lic.requested) return 'Waiting'
      if (lic.status === 'authorized') return 'Authorized'
      return 'Out of compliance'
    }
  }
}

export interface UsageView {
  /** per type: current usage and status; on a cluster peer also what it reports and borrows */
  licenses: LicenseLine[]
  /** the last successful usage report (or authorization renewal, which carries the usage) */
  lastReportedAt: string | null
  /** when the agent reports next: 6 hours after the last report, or the retry of a failed one; null when nothing is reported (not registered, or a reservation) */
  nextReportAt: string | null
}

/** Cisco's "License usage": summary of the usage as reported, auto-updated every 6 hours. */
export function usageView(state: LicensingState, usage: SessionCounts, at: Date, cluster?: ClusterShare): UsageView {
  const reporting = state.mode === 'smart' && state.reservation.state !== 'installed' && isRegistered(state, at)
  const last = state.usageReportedAt
  const scheduled = last === null ? null : new Date(Date.parse(last) + USAGE_REPORT_INTERVAL_MS).toISOString()
  const retry = state.authorization.nextAttemptAt
  const next = scheduled === null ? retry : retry !== null && retry > scheduled ? retry : scheduled
  return {
    licenses: state.mode === 'smart' ? licenseLines(state, usage, at, cluster, true) : [],
    lastReportedAt: reporting ? last : null,
    nextReportAt: reporting ? next : null,
  }
}

/**
 * What a person should read beside the status: once a registration has expired, that it has,
 * and where the evaluation stands (Cisco: registration "is valid for one year"; afterwards the
 * unit is unregistered and on its evaluation period).
 */
export function registrationNotes(view: LicensingView): string[] {
  if (view.mode !== 'smart' || view.registration.status !== 'Unregistered: Registration Expired') return []
  const ev = view.evaluation
  const evaluation = view.authorization.status === 'Evaluation Expired'
    ? `Evaluation Expired since ${ev.expiresAt}${view.unauthorized ? ': the unit is Unauthorized, no new registrations until it is registered' : ''}`
    : view.authorization.status === 'Evaluation Mode' ? `Evaluation Mode until ${ev.expiresAt}` : view.authorization.status
  return [`The registration expired on ${view.registration.expiresAt} (not renewed within its year): the unit is unregistered and back on its evaluation period (${evaluation}). Register it again with a registration token.`]
}

/**
 * Which exchange carrying usage is due at `at`: the authorization renewal 30 days after the
 * last one (or the first authorization), else a usage report 6 hours after the last report
 * (the renewal carries the usage too, so one exchange does for both).
 */
export function reportDue(state: LicensingState, at: Date): ReportKind | null {
  const a = state.authorization
  if (a.lastSuccessAt === null || at >= plusDays(a.lastSuccessAt, AUTHORIZATION_RENEWAL_INTERVAL_DAYS)) return 'authorization'
  if (state.usageReportedAt === null || at.getTime() >= Date.parse(state.usageReportedAt) + USAGE_REPORT_INTERVAL_MS) return 'usage'
  return null
}

