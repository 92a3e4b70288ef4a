import {ALARMS, readAlarms} from '../areas/alarms.js'
import {readUsage, USAGE, type UsageFile} from '../areas/usage.js'
import {RefusedError} from '../errors.js'
import {admitsOneMore, exportControlLimit, exportControlThresholds, nextExportControlState, sessionTotal} from '../licensing/export-control.js'
import {isEvaluationExpired, isRegistered} from '../licensing/status.js'
import {readLicensing} from '../areas/licensing.js'
import {changeUnit, openUnit} from '../areas/open.js'
import type {UnitReader} from '../unit/store.js'
import type {UnitTransaction} from '../unit/transaction.js'
import type {ProductInfo} from '../product.js'
import {exportControlAlarms} from './boot.js'

export interface UsageView {
  calls: number
  desktop: number
  room: number
  webrtc: boolean
  exportControl: {limit: number | null; state: string}
}

export interface UsageSetResult {
  unit: string
  usage: UsageView
  changed: boolean
  alarms: string[]
}

export interface UsageAdmitResult {
  unit: string
  usage: UsageView
  admitted: true
  kind: AdmitKind
}

export type AdmitKind = 'call' | 'desktop' | 'room'

export interface UsageChange {
  calls?: number
  desktop?: number
  room?: number
  webrtc?: boolean
}

function view(info: ProductInfo, usage: UsageFile): UsageView {
  return {
    calls: usage.calls, desktop: usage.desktop, room: usage.room, webrtc: usage.webrtc,
    exportControl: {limit: exportControlLimit(info, usage.webrtc), state: usage.exportControl.state},
  }
}

/** Writes the usage and the export-control alarms that follow its state; returns the active alarm keys. */
function record(tx: UnitTransaction, u: UnitReader, before: UsageFile, next: UsageFile, at: Date): string[] {
  if (JSON.stringify(next) !== JSON.stringify(before)) tx.writeJson(USAGE.file, next)
  const alarmsBefore = readAlarms(u)
  const alarms = exportControlAlarms(alarmsBefore, next.exportControl.state, at)
  if (JSON.stringify(alarms) !== JSON.stringify(alarmsBefore)) tx.writeJson(ALARMS.file, alarms)
  return alarms.alarms.map((a) => a.key)
}

/**
 * `usage set`: never refuses. Records the counts given (the others unchanged) and moves the
 * export-control state by the hysteresis rules, so going from 2500 down to 2480 stays `reached`.
 */
export async function setUsage(unitArg: string, change: UsageChange, at: Date): Promise<UsageSetResult> {
  return changeUnit(unitArg, 'usage set', (tx, unit) => {
    const u = unit.files
    const before = readUsage(u)
    const counts = {
      calls: change.calls ?? before.calls,
      desktop: change.desktop ?? before.desktop,
      room: change.room ?? before.room,
    }
    const webrtc = change.webrtc ?? before.webrtc
    const state = nextExportControlState(before.exportControl.state, sessionTotal(counts), exportControlLimit(unit.info, webrtc))
    const next: UsageFile = {...before, ...counts, webrtc, exportControl: {...before.exportControl, state}}
    const alarms = record(tx, u, before, next, at)
    const changed = !tx.empty
    if (changed) tx.audit({calls: next.calls, desktop: next.desktop, room: next.room, webrtc: next.webrtc, exportControl: state})
    return {unit: unitArg, usage: view(unit.info, next), changed, alarms}
  })
}

/**
 * `usage admit`: one new call or registration, admitted (counted) or refused (exit 3, nothing
 * changes). Refused while export control is `reached` (until the total drops below the limit − 1 %),
 * or when it would pass the limit; and, on a smart-licensing unit whose evaluation has expired
 * and that is not registered (Unauthorized), new registrations are refused: the seed, "In the
 * Unauthorized state, it does not allow new device registrations until the product is
 * registered". Calls are not registrations: they stay subject to export control only.
 */
export async function admitSession(unitArg: string, kind: AdmitKind, at: Date): Promise<UsageAdmitResult> {
  return changeUnit(unitArg, 'usage admit', (tx, unit) => {
    const u = unit.files
    const before = readUsage(u)
    if (kind !== 'call') {
      const lic = readLicensing(u)
      if (lic.mode === 'smart' && isEvaluationExpired(lic, at) && !isRegistered(lic, at) && lic.reservation.state !== 'installed') {
        throw new RefusedError(
          `Unauthorized: the 90-day smart licensing evaluation has expired and the unit is not registered; new ${kind} registrations are refused until the product is registered.`,
          {actions: [`Register the unit: xway licensing register ${unitArg} --token TOKEN`]},
        )
      }
    }
    const reservation = readLicensing(u).reservation
    const licenseType = kind === 'call' ? 'rms' : kind
    if (reservation.state === 'installed' && reservation.entitlements.some((e) => e.type === licenseType && e.expired)) {
      // the seed: after a restart with an expired license "the respective functionality will stop"
      throw new RefusedError(`The reserved ${kind === 'call' ? 'Rich Media Session' : kind} licenses expired and the feature was stopped at the last restart: new ${kind === 'call' ? 'calls' : `${kind} registrations`} are refused.`, {
        actions: ['Install a newer authorization code from the license server (xway licensing reservation install UNIT CODE).'],
      })
    }
    const limit = exportControlLimit(unit.info, before.webrtc)
    const total = sessionTotal(before)
    if (!admitsOneMore(before.exportControl.state, total, limit)) {
      const t = exportControlThresholds(limit)!
      throw new RefusedError(
        `Export control: the limit of ${t.limit} calls + registrations${before.webrtc ? ' (WebRTC on)' : ''} has been reached (${total} in use); new calls and registrations are admitted again only below ${t.lowerWatermark} (the limit − 1 %).`,
        {actions: [`Wait for calls and registrations to drop below ${t.lowerWatermark} (xway usage set ${unitArg} --calls N), or use Expressway Select, which has no export-control limit.`]},
      )
    }
    const field = kind === 'call' ? 'calls' : kind
    const counts = {calls: before.calls, desktop: before.desktop, room: before.room, [field]: before[field] + 1}
    const state = nextExportControlState(before.exportControl.state, sessionTotal(counts), limit)
    const next: UsageFile = {...before, ...counts, exportControl: {...before.exportControl, state}}
    record(tx, u, before, next, at)
    tx.audit({admitted: kind, total: sessionTotal(counts), exportControl: state})
    return {unit: unitArg, usage: view(unit.info, next), admitted: true, kind}
  })
}
