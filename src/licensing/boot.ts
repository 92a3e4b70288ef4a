import type {AlarmsFile} from '../areas/state.js'
import {raiseAlarm} from '../areas/state.js'
import {P} from '../unit/paths.js'
import type {ProductInfo} from '../unit/unit.js'
import {readLicensing} from './state.js'

export interface BootLicensingResult {
  alarms: AlarmsFile
  writes: Array<{rel: string; data: string; mode: number}>
  notes: string[]
}

/**
 * Licensing checks that run at start. The seed: "After the Expressway device is restarted, if the
 * license has expired, the respective functionality will stop and an alarm is triggered."
 */
export function bootLicensing(unit: string, info: ProductInfo, alarms: AlarmsFile, at: Date): BootLicensingResult {
  const state = readLicensing(unit)
  const notes: string[] = []
  if (state.mode !== 'smart' || state.reservation.state !== 'installed') return {alarms, writes: [], notes}
  const expired = state.reservation.entitlements.filter((e) => e.endDate !== null && Date.parse(e.endDate) <= at.getTime() && !e.expired)
  if (expired.length === 0) return {alarms, writes: [], notes}
  for (const e of expired) {
    e.expired = true
    notes.push(`reservation of ${e.type} expired on ${e.endDate}: feature stopped`)
  }
  void info
  return {
    alarms: raiseAlarm(alarms, 'smart-licensing-reservation-expired', at),
    writes: [{rel: P.licensing, data: JSON.stringify(state, null, 2) + '\n', mode: 0o644}],
    notes,
  }
}
