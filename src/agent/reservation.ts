import {ALARMS, type AlarmsFile, clearAlarm, readAlarms} from '../areas/alarms.js'
import {BadInputError, RefusedError} from '../errors.js'
import {changeUnit} from '../areas/open.js'
import type {UnitReader} from '../unit/store.js'
import {type ProductInfo, udiOf} from '../product.js'
import {makeConfirmationCode, makeRequestCode, makeReturnCode, randomRequestNonce} from '../licensing/codes.js'
import {type VerifiedAuthorizationCode, verifyAuthorizationCode} from '../licensing/authorization-code.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import type {LicenseType, LicensingState} from '../licensing/state.js'
import {readTrustStore} from '../licensing/trust-store.js'
import {planCancel, planEnable, planInstall, planRequest, planReturn, planReturnAuthorization, RESERVATION_ALARM, type ReservationCancelResult, type ReservationEnableResult, type ReservationInstallResult, type ReservationPlan, type ReservationRequestResult, type ReservationReturnResult} from '../licensing/reservation.js'

// `licensing reservation …`: the reservation plans (src/licensing/reservation.ts) applied to a
// unit, one transaction each; a refusal changes nothing.
// ---------------------------------------------------------------------------
// Operations on a unit (one transaction each; a refusal changes nothing)
// ---------------------------------------------------------------------------

function applyPlan<R>(tx: {writeJson(rel: string, value: unknown, mode?: number): void; audit(e: Record<string, unknown>): void}, unit: UnitReader, plan: ReservationPlan<R>): R {
  if (plan.state) tx.writeJson(LICENSING.state, plan.state)
  if (plan.clearExpiredAlarm) {
    const alarms: AlarmsFile = readAlarms(unit)
    const next = clearAlarm(alarms, RESERVATION_ALARM)
    if (next.alarms.length !== alarms.alarms.length) tx.writeJson(ALARMS.file, next)
  }
  if (plan.audit && plan.state) tx.audit(plan.audit)
  return plan.result
}

function trustPems(unit: UnitReader): string[] {
  return readTrustStore(unit).map((a) => a.pem)
}

async function change<R>(unitArg: string, command: string, plan: (ctx: {unit: UnitReader; info: ProductInfo; state: LicensingState}) => ReservationPlan<R>): Promise<R> {
  return changeUnit(unitArg, `licensing reservation ${command}`, (tx, {files, info}) => applyPlan(tx, files, plan({unit: files, info, state: readLicensing(files)})))
}

export function reservationEnable(unitArg: string, on: boolean): Promise<ReservationEnableResult> {
  return change(unitArg, on ? 'enable' : 'disable', ({state}) => planEnable(state, on, unitArg))
}

export function reservationRequest(unitArg: string, nonce: string = randomRequestNonce()): Promise<ReservationRequestResult> {
  return change(unitArg, 'request', ({state, info}) => planRequest(state, info, nonce, unitArg))
}

export function reservationInstall(unitArg: string, code: string): Promise<ReservationInstallResult> {
  return change(unitArg, 'install', ({unit, state, info}) => planInstall(state, info, code, trustPems(unit), unitArg))
}

export function reservationReturn(unitArg: string): Promise<ReservationReturnResult> {
  return change(unitArg, 'return', ({state, info}) => planReturn(state, info, unitArg))
}

export function reservationReturnAuthorization(unitArg: string, code: string): Promise<ReservationReturnResult> {
  return change(unitArg, 'return-authorization', ({unit, state, info}) => planReturnAuthorization(state, info, code, trustPems(unit), unitArg))
}

export function reservationCancel(unitArg: string): Promise<ReservationCancelResult> {
  return change(unitArg, 'cancel', ({state}) => planCancel(state, unitArg))
}
