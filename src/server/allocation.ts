import {RefusedError} from '../errors.js'
import {LICENSE_TYPES, type LicenseCounts, type LicenseType} from '../licensing/license-types.js'
import type {AuthorizationResult, LicenseGrant} from '../licensing/protocol.js'

// The license server's allocation policy, apart from any SQL: given what the pool has and
// what an instance holds and asks, what it gets. The stores read the numbers under their
// locks, call these functions, and write the outcome in the same transaction.

export interface PoolCounters {
  owned: number
  inUse: number
  reserved: number
  inTransit: number
  /** allocated to the CSSM's On-Prems (0 at an On-Prem) */
  onPrem?: number
}

/** What nobody holds, reserves, has in transit or was allocated to an On-Prem. */
export function availableOf(line: PoolCounters): number {
  return Math.max(0, line.owned - line.inUse - line.reserved - line.inTransit - (line.onPrem ?? 0))
}

export interface ReportGrant {
  status: AuthorizationResult
  licenses: LicenseGrant[]
  /** per type, what the pool's in-use count moves by */
  delta: LicenseCounts
}

/**
 * One authorization report, granted per license type (SPEC 4). `usage` is the instance's full
 * need. For each type it may have what it holds plus what the pool has available:
 * - covered: its holding becomes exactly what it asked (a lower ask gives licenses back);
 *   the type is authorized (no-licenses-in-use when it asks none);
 * - not covered: it keeps what it held of that type (nothing new, nothing given back), the
 *   type is out of compliance, and what the pool lacked, `requested − (held + available)`,
 *   is its shortage of that type until a report asks less.
 * The report as a whole is out of compliance when any type is.
 */
export function grantReport(usage: LicenseCounts, held: LicenseCounts, available: LicenseCounts): ReportGrant {
  const delta: LicenseCounts = {rms: 0, room: 0, desktop: 0}
  const licenses = LICENSE_TYPES.map((type): LicenseGrant => {
    const requested = usage[type]
    const canHave = held[type] + available[type]
    if (requested <= canHave) {
      delta[type] = requested - held[type]
      return {type, requested, granted: requested, shortage: 0, status: requested === 0 ? 'no-licenses-in-use' : 'authorized'}
    }
    return {type, requested, granted: held[type], shortage: requested - canHave, status: 'out-of-compliance'}
  })
  return {status: overallStatus(licenses), licenses, delta}
}

export function overallStatus(licenses: ReadonlyArray<Pick<LicenseGrant, 'status'>>): AuthorizationResult {
  if (licenses.some((l) => l.status === 'out-of-compliance')) return 'out-of-compliance'
  return licenses.some((l) => l.status === 'authorized') ? 'authorized' : 'no-licenses-in-use'
}

export interface ReservationChange {
  /** the first authorization code of this UDI (reserved at once) or an update (in transit until confirmed) */
  first: boolean
  confirmed: LicenseCounts
  pending: LicenseCounts
  counts: LicenseCounts
}

/**
 * What a reservation (new or updated) takes from the pool on top of what it already blocks:
 * while an update is in transit the pool blocks max(confirmed, pending) per type. Refuses,
 * naming the first type the pool cannot cover.
 */
export function checkReservationFits(va: string, change: ReservationChange, available: LicenseCounts): void {
  for (const type of LICENSE_TYPES) {
    const before = Math.max(change.confirmed[type], change.pending[type])
    const after = change.first ? change.counts[type] : Math.max(change.confirmed[type], change.counts[type])
    if (after - before > available[type]) {
      throw new RefusedError(`Virtual account ${va} has ${available[type]} ${type} license(s) available; this reservation needs ${after - before} more.`, {
        actions: [`Add licenses (\`xway license-server licenses add DIR --virtual-account ${va} --type ${type} --count N\`) or reserve fewer.`],
      })
    }
  }
}

/** Blocked by a reservation per type, for `instances` and for what removing it releases. */
export function reservationHolding(confirmed: LicenseCounts, pending: LicenseCounts, type: LicenseType): number {
  return Math.max(confirmed[type], pending[type])
}
