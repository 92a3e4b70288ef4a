import {BadInputError, RefusedError} from '../errors.js'
import {type ProductInfo, udiOf} from '../product.js'
import {makeConfirmationCode, makeRequestCode, makeReturnCode, randomRequestNonce} from './codes.js'
import {type ReservationKind, type VerifiedAuthorizationCode, verifyAuthorizationCode} from './authorization-code.js'
import {type ClusterShareLine, shareClusterLicenses} from './cluster-share.js'
import {LICENSE_TYPES, type LicenseType} from './license-types.js'
import type {LicensingState} from './state.js'

// Smart License Reservation (SLR) and Permanent License Reservation (PLR) on the agent (SPEC 4).
// The seed's CLI: xconfiguration License Smart ReservationEnable: On|Off, then
// xcommand License Smart Reservation Request | Install "<code>" | Return |
// ReturnAuthorization "<code>" | Cancel. The plan* functions are pure (state, product, now →
// new state and result); the reservation* operations apply them in one unit transaction.
//
// Stored in licensing.json `reservation` (src/licensing/state.ts):
// - `requestCode`: the pending request (state `requested`), kept while installed so that the
//   license server can update the reservation under the same request code;
// - `timestamp`: the installed code's <timestamp> (milliseconds) as ISO 8601; the confirmation
//   and return codes are derived from it and the UDI, so they are never stored;
// - `installed`: SHA-256 digests of every authorization code this unit installed or gave a
//   return code for (ReturnAuthorization): such a code is refused ever after (replay).

export const RESERVATION_ALARM = 'smart-licensing-reservation-expired' as const
/** Digests kept for replay refusal; the timestamp order refuses anything older anyway. */
export const MAX_CONSUMED_DIGESTS = 100

export type {ReservationKind}
export type ReservationEntitlement = LicensingState['reservation']['entitlements'][number]

/**
 * What a PLR grants. The seed: PLR enables "all entitlements on Expressway till the physical
 * capacity of the Expressway box". Capacities follow the Expressway capacity tables by VM size
 * (PID EXPWY-VE-S/M/L, appliances as large); an unknown PID counts as medium.
 */
export function boxCapacity(pid: string): Record<LicenseType, number> {
  const p = pid.toUpperCase()
  let calls = 100
  let registrations = 2500
  if (/-VE-S\b|-VE-S-|SMALL/.test(p)) [calls, registrations] = [40, 2000]
  else if (/-VE-L\b|-VE-L-|LARGE|CE1[0-9]{3}/.test(p)) [calls, registrations] = [500, 5000]
  return {rms: calls, room: registrations, desktop: registrations}
}

// ---------------------------------------------------------------------------
// Pure planning
// ---------------------------------------------------------------------------

export interface ReservationPlan<R> {
  /** the new licensing state, or null when nothing changes */
  state: LicensingState | null
  result: R
  /** clear the reservation-expired alarm (a new or no reservation) */
  clearExpiredAlarm: boolean
  audit: Record<string, unknown> | null
}

function clone(state: LicensingState): LicensingState {
  return JSON.parse(JSON.stringify(state)) as LicensingState
}

function requireSmart(state: LicensingState): void {
  if (state.mode !== 'smart') {
    throw new RefusedError('License reservation is part of smart licensing, which is not enabled on this unit. Cisco: "Enable smart licensing before executing the reservation commands."', {
      actions: ['Reservation applies to Expressway units on X14.2 (xway upgrade UNIT --to X14.2.0, or xway convert).'],
    })
  }
}

function requireEnabled(state: LicensingState, unitHint: string): void {
  requireSmart(state)
  if (!state.reservation.enabled) {
    throw new RefusedError('License reservation is not enabled. Cisco: "Reservation is disabled by default. You must enable it."', {
      actions: [`Run: xway licensing reservation enable ${unitHint}`],
    })
  }
}

function requireUnregistered(state: LicensingState, unitHint: string): void {
  const r = state.registration.state
  if (r === 'registered' || r === 'pending') {
    throw new RefusedError(
      `License reservation needs an unregistered unit, and this one is ${r === 'registered' ? 'registered' : 'registering (Registration Pending)'}. ` +
      'Cisco: "Expressway is unregistered with Cisco Smart Software Manager or On-Prem" and "First, deregister yourself if you have already registered to enable reservation."',
      {actions: [`Run: xway licensing deregister ${unitHint}, then enable reservation.`]},
    )
  }
}

export interface ReservationEnableResult {
  enabled: boolean
  changed: boolean
  state: LicensingState['reservation']['state']
}

export function planEnable(state: LicensingState, on: boolean, unitHint = 'UNIT'): ReservationPlan<ReservationEnableResult> {
  requireSmart(state)
  const r = state.reservation
  if (on) {
    requireUnregistered(state, unitHint)
    if (r.enabled) return {state: null, result: {enabled: true, changed: false, state: r.state}, clearExpiredAlarm: false, audit: null}
    const next = clone(state)
    next.reservation.enabled = true
    return {state: next, result: {enabled: true, changed: true, state: r.state}, clearExpiredAlarm: false, audit: {reservationEnable: 'On'}}
  }
  if (!r.enabled) return {state: null, result: {enabled: false, changed: false, state: r.state}, clearExpiredAlarm: false, audit: null}
  if (r.state === 'installed') {
    throw new RefusedError(`A ${r.kind} reservation is installed: reservation cannot be disabled while it holds licenses.`, {
      actions: [`Return it first: xway licensing reservation return ${unitHint} (and enter the return code on the license server).`],
    })
  }
  if (r.state === 'requested') {
    throw new RefusedError('A reservation request is in progress: reservation cannot be disabled while it is pending.', {
      actions: [`Cancel it first: xway licensing reservation cancel ${unitHint}`],
    })
  }
  const next = clone(state)
  next.reservation.enabled = false
  return {state: next, result: {enabled: false, changed: true, state: r.state}, clearExpiredAlarm: false, audit: {reservationEnable: 'Off'}}
}

export interface ReservationRequestResult {
  requestCode: string
}

/**
 * `Request`: prints the request code to paste into the license server. Asked again while a
 * request is pending, it prints the same code (the license server may already hold it).
 */
export function planRequest(state: LicensingState, info: Pick<ProductInfo, 'pid' | 'serial'>, nonce: string, unitHint = 'UNIT'): ReservationPlan<ReservationRequestResult> {
  requireEnabled(state, unitHint)
  requireUnregistered(state, unitHint)
  const r = state.reservation
  if (r.state === 'requested' && r.requestCode) {
    return {state: null, result: {requestCode: r.requestCode}, clearExpiredAlarm: false, audit: null}
  }
  if (r.state === 'installed') {
    throw new RefusedError(`A ${r.kind} reservation is installed: updates are made on the license server ("Update Reserved Licenses") and installed with Install; no new request is needed.`, {
      actions: [
        'Update it: xway license-server reservation authorize DIR --virtual-account VA --request-code <the same request code> …, then install the new code.',
        `Or return it: xway licensing reservation return ${unitHint}`,
      ],
    })
  }
  const requestCode = makeRequestCode(info.pid, info.serial, nonce)
  const next = clone(state)
  next.reservation.state = 'requested'
  next.reservation.requestCode = requestCode
  return {state: next, result: {requestCode}, clearExpiredAlarm: false, audit: {reservation: 'requested'}}
}

export interface ReservationInstallResult {
  kind: ReservationKind
  confirmationCode: string | null
}

type UnknownEntitlement = LicensingState['reservation']['unknownEntitlements'][number]

/** The entitlements a code installs, and those whose tag this version does not know (listed as Invalid-tag, granting nothing). */
function entitlementsOf(code: VerifiedAuthorizationCode, info: Pick<ProductInfo, 'pid'>): {entitlements: ReservationEntitlement[]; unknown: UnknownEntitlement[]} {
  const unknown: UnknownEntitlement[] = code.entitlements.filter((e) => e.type === null).map((e) => ({tag: e.tag, count: e.count, endDate: e.endDate}))
  if (code.kind === 'PLR') {
    const cap = boxCapacity(info.pid)
    const tag = code.entitlements.find((e) => e.type === 'plr')?.tag
    if (!tag) throw new BadInputError('The PLR authorization code holds no "Expressway PLR" entitlement.')
    return {entitlements: LICENSE_TYPES.map((type) => ({type, tag, count: cap[type], endDate: null})), unknown}
  }
  const out: ReservationEntitlement[] = []
  for (const e of code.entitlements) {
    // Advanced Account Security is a permission linked with export control, not a count of licenses
    if (e.type === null || e.type === 'plr' || e.type === 'aas') continue
    const same = out.find((o) => o.type === e.type && o.endDate === e.endDate)
    if (same) same.count += e.count
    else out.push({type: e.type, tag: e.tag, count: e.count, endDate: e.endDate})
  }
  if (out.length === 0) {
    throw new BadInputError('The SLR authorization code reserves no license this Expressway knows (no Rich Media Session, Room or Desktop entitlement tag).', {
      actions: ['Reserve rms, room or desktop licenses on the license server.'],
    })
  }
  return {entitlements: out, unknown}
}

/** Verifies an authorization code for this unit: signature and signer (trust anchors), then the UDI. */
export function verifyForUnit(code: string, info: Pick<ProductInfo, 'pid' | 'serial'>, trustAnchorPems: string[]): VerifiedAuthorizationCode {
  const verified = verifyAuthorizationCode(typeof code === 'string' ? code.trim() : code, trustAnchorPems)
  const udi = udiOf(info)
  if (verified.udi !== udi) {
    throw new BadInputError(`The authorization code is for another product instance (${verified.udi}); this unit is ${udi}.`, {
      actions: ['Generate the authorization code from this unit\'s own request code.'],
    })
  }
  return verified
}

function consume(digests: string[], digest: string): string[] {
  return [...digests.filter((d) => d !== digest), digest].slice(-MAX_CONSUMED_DIGESTS)
}

/**
 * `Install "<authorization code>"`: verified against the trust anchors and the UDI; needs a
 * pending request, or an installed reservation of the same kind that the (newer) code updates.
 */
export function planInstall(
  state: LicensingState, info: Pick<ProductInfo, 'pid' | 'serial'>, code: string, trustAnchorPems: string[], unitHint = 'UNIT',
): ReservationPlan<ReservationInstallResult> {
  requireEnabled(state, unitHint)
  requireUnregistered(state, unitHint)
  const verified = verifyForUnit(code, info, trustAnchorPems)
  const r = state.reservation
  if (r.installed.includes(verified.digest)) {
    throw new BadInputError('This authorization code was already installed on this unit (or returned): a code is used once.', {
      actions: ['Generate a new authorization code on the license server (update the reservation) and install that one.'],
    })
  }
  if (r.state === 'none') {
    throw new BadInputError('No reservation request is pending on this unit: an authorization code is installed only in answer to a request.', {
      actions: [`Run: xway licensing reservation request ${unitHint}, generate the authorization code from that request code, then install it.`],
    })
  }
  if (r.state === 'installed') {
    if (r.kind !== verified.kind) {
      throw new RefusedError(`A ${r.kind} reservation is installed; a ${verified.kind} code cannot update it.`, {
        actions: [`Return the ${r.kind} reservation first: xway licensing reservation return ${unitHint}`],
      })
    }
    const installedAt = r.timestamp === null ? 0 : Date.parse(r.timestamp)
    if (verified.timestamp <= installedAt) {
      throw new BadInputError(`This authorization code (timestamp ${new Date(verified.timestamp).toISOString()}) is not newer than the installed one (${r.timestamp}): it is old or replayed.`, {
        actions: ['Install the latest authorization code generated for this unit.'],
      })
    }
  }
  const {entitlements, unknown} = entitlementsOf(verified, info)
  const udi = udiOf(info)
  const next = clone(state)
  const update = r.state === 'installed'
  next.reservation = {
    ...next.reservation,
    state: 'installed',
    kind: verified.kind,
    entitlements,
    unknownEntitlements: unknown,
    timestamp: new Date(verified.timestamp).toISOString(),
    installed: consume(r.installed, verified.digest),
  }
  if (next.registration.state === 'failed') {
    // a failed token registration is history once a reservation registers the unit (status: Registered)
    next.registration = {...next.registration, state: 'unregistered', lastError: null, nextAttemptAt: null}
  }
  // the seed: SLR install prints a confirmation code (used whenever the licenses are updated); PLR does not
  const confirmationCode = verified.kind === 'SLR' ? makeConfirmationCode(udi, verified.timestamp) : null
  return {
    state: next,
    result: {kind: verified.kind, confirmationCode},
    clearExpiredAlarm: true,
    audit: {reservation: update ? 'updated' : 'installed', kind: verified.kind, timestamp: verified.timestamp, entitlements: entitlements.map((e) => ({type: e.type, count: e.count, endDate: e.endDate}))},
  }
}

export interface ReservationReturnResult {
  returnCode: string
}

/** The stored reservation with no request, code or entitlements (enabled stays as it was). */
function dropped(state: LicensingState, consumed: string[]): LicensingState {
  const next = clone(state)
  next.reservation = {...next.reservation, state: 'none', kind: null, requestCode: null, entitlements: [], unknownEntitlements: [], timestamp: null, installed: consumed}
  return next
}

/** `Return`: a return code for the installed reservation, which is removed from the unit. */
export function planReturn(state: LicensingState, info: Pick<ProductInfo, 'pid' | 'serial'>, unitHint = 'UNIT'): ReservationPlan<ReservationReturnResult> {
  requireSmart(state)
  const r = state.reservation
  if (r.state !== 'installed' || r.timestamp === null) {
    throw new RefusedError('No reservation is installed on this unit, so there is nothing to return.', {
      actions: r.state === 'requested'
        ? [`For an authorization code generated but not installed: xway licensing reservation return-authorization ${unitHint} "<authorization code>"`, `To drop the pending request: xway licensing reservation cancel ${unitHint}`]
        : ['Nothing to do.'],
    })
  }
  const returnCode = makeReturnCode(udiOf(info), Date.parse(r.timestamp))
  return {state: dropped(state, r.installed), result: {returnCode}, clearExpiredAlarm: true, audit: {reservation: 'returned', kind: r.kind}}
}

/**
 * `ReturnAuthorization "<code>"`: a return code for an authorization code that was never
 * installed (the seed: after Cancel, or instead of installing). The code is remembered so that
 * it cannot be installed afterwards; a pending request it answered is closed.
 */
export function planReturnAuthorization(
  state: LicensingState, info: Pick<ProductInfo, 'pid' | 'serial'>, code: string, trustAnchorPems: string[], unitHint = 'UNIT',
): ReservationPlan<ReservationReturnResult> {
  requireEnabled(state, unitHint)
  const verified = verifyForUnit(code, info, trustAnchorPems)
  const r = state.reservation
  if (r.installed.includes(verified.digest)) {
    throw new BadInputError('This authorization code was installed on this unit or already returned: ReturnAuthorization is for a code never installed.', {
      actions: r.state === 'installed' ? [`To return the installed reservation: xway licensing reservation return ${unitHint}`] : ['Nothing to do.'],
    })
  }
  if (r.state === 'installed') {
    throw new RefusedError(`A ${r.kind} reservation is installed on this unit; returning an authorization code next to it would release licenses the unit still uses.`, {
      actions: [`Return the installed reservation: xway licensing reservation return ${unitHint}`],
    })
  }
  const returnCode = makeReturnCode(verified.udi, verified.timestamp)
  return {
    state: dropped(state, consume(r.installed, verified.digest)),
    result: {returnCode},
    clearExpiredAlarm: false,
    audit: {reservation: 'authorization-returned', kind: verified.kind, timestamp: verified.timestamp},
  }
}

export interface ReservationCancelResult {
  cancelled: boolean
  state: 'none'
}

/** `Cancel`: drops a pending request (before its authorization code is installed). */
export function planCancel(state: LicensingState, unitHint = 'UNIT'): ReservationPlan<ReservationCancelResult> {
  requireEnabled(state, unitHint)
  const r = state.reservation
  if (r.state === 'installed') {
    throw new RefusedError(`A ${r.kind} reservation is installed; Cancel only drops a request in progress (Cisco: "cancel the reservation process before the authorization code … is installed").`, {
      actions: [`To give the licenses back: xway licensing reservation return ${unitHint}`],
    })
  }
  if (r.state !== 'requested') {
    throw new RefusedError('No reservation request is in progress, so there is nothing to cancel.', {actions: ['Nothing to do.']})
  }
  return {state: dropped(state, r.installed), result: {cancelled: true, state: 'none'}, clearExpiredAlarm: false, audit: {reservation: 'cancelled'}}
}

// ---------------------------------------------------------------------------
// Cluster: peers share reserved licenses
// ---------------------------------------------------------------------------

export interface ClusterNodeReservation {
  name: string
  entitlements: Array<Pick<ReservationEntitlement, 'type' | 'count' | 'expired'>>
  inUse: Partial<Record<LicenseType, number>>
}

/** Peers sharing reserved licenses (cluster-share.ts): expired entitlements (stopped at boot) count for nothing. */
export function shareClusterReservations(nodes: ClusterNodeReservation[]): Array<{name: string; licenses: ClusterShareLine[]}> {
  return shareClusterLicenses(nodes.map((n) => {
    const installed: Partial<Record<LicenseType, number>> = {}
    for (const e of n.entitlements) if (!e.expired) installed[e.type] = (installed[e.type] ?? 0) + e.count
    return {name: n.name, installed, inUse: n.inUse, asksServer: false}
  }))
}
