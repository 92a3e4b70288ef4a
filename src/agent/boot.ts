import {type AlarmsFile, clearAlarm, raiseAlarm} from '../areas/alarms.js'
import type {UnitReader} from '../unit/store.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import type {LicensingState} from '../licensing/state.js'
import {isUnauthorized, LICENSE_NAMES} from '../licensing/status.js'

export const RESERVATION_EXPIRED_ALARM = 'smart-licensing-reservation-expired' as const

export interface BootLicensingResult {
  alarms: AlarmsFile
  writes: Array<{rel: string; data: string; mode: number}>
  notes: string[]
}

export interface BootLicensingPlan {
  /** the new licensing state, or null when boot changes nothing in it */
  state: LicensingState | null
  alarms: AlarmsFile
  notes: string[]
}

/**
 * Licensing checks that run at start, pure. The seed: "After the Expressway device is restarted,
 * if the license has expired, the respective functionality will stop and an alarm is triggered."
 * An SLR entitlement whose end date has passed (by the unit's own now) is marked expired: its
 * license status becomes Authorization Expired (status.ts) and the feature stops. Until then
 * nothing changes, however late the clock. The alarm is re-evaluated: present exactly while an
 * installed reservation holds an expired entitlement.
 */
export function planBootLicensing(state: LicensingState, alarms: AlarmsFile, at: Date): BootLicensingPlan {
  const r = state.reservation
  const installed = state.mode === 'smart' && r.state === 'installed'
  const due = installed ? r.entitlements.filter((e) => e.endDate !== null && !e.expired && Date.parse(e.endDate) <= at.getTime()) : []
  let next: LicensingState | null = null
  const notes: string[] = []
  if (due.length > 0) {
    next = JSON.parse(JSON.stringify(state)) as LicensingState
    for (const e of next.reservation.entitlements) {
      if (e.endDate !== null && !e.expired && Date.parse(e.endDate) <= at.getTime()) {
        e.expired = true
        notes.push(`${r.kind ?? 'SLR'} reservation of ${e.count} ${LICENSE_NAMES[e.type]} expired on ${e.endDate}: feature stopped (Authorization Expired)`)
      }
    }
  }
  const anyExpired = installed && (next ?? state).reservation.entitlements.some((e) => e.expired)
  let nextAlarms = anyExpired ? raiseAlarm(alarms, RESERVATION_EXPIRED_ALARM, at) : clearAlarm(alarms, RESERVATION_EXPIRED_ALARM)
  // the evaluation alarm follows the unit's own clock: 90 days of evaluation, not registered → unauthorized
  if (state.mode === 'smart') {
    nextAlarms = isUnauthorized(state, at) ? raiseAlarm(nextAlarms, 'evaluation-expired', at) : clearAlarm(nextAlarms, 'evaluation-expired')
  }
  return {state: next, alarms: nextAlarms, notes}
}

export function bootLicensing(files: UnitReader, alarms: AlarmsFile, at: Date): BootLicensingResult {
  const plan = planBootLicensing(readLicensing(files), alarms, at)
  return {
    alarms: plan.alarms,
    writes: plan.state ? [{rel: LICENSING.state, data: JSON.stringify(plan.state, null, 2) + '\n', mode: 0o644}] : [],
    notes: plan.notes,
  }
}
