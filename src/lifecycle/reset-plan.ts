import type {AreaAction, AreaName, LicensingAfterReset, ResetContext, ResetSeries} from '../areas/area.js'
import type {AlarmKey} from '../areas/alarms.js'
import {AAS_FEATURE, hasFeature, MS_INTEROP_FEATURE, OPTION_KEY_PATTERN} from '../areas/option-keys.js'
import {area as areaByName, AREAS} from '../areas/registry.js'
import {policyFor} from '../crypto/policy.js'
import {type Brand, isX142Expressway, type ProductInfo, type UnitType} from '../product.js'
import type {PayloadSummary} from './payload.js'
import {checkKeepAnswers, type KeepAnswers, resetSeries} from './reset-dialogue.js'

// The factory reset as a plan (pure): a function of the unit's state, the keep answers and now.
// The rules of the appliance live here; each area module words its own line of the plan.


export interface PlannedArea {
  area: AreaName
  action: AreaAction
  /** what the area holds on the unit now: kept as is, or replaced/deleted by the reset */
  bytes: number
  files: number
  detail: string
}

export interface AreaSize {
  bytes: number
  files: number
}

/** What planning needs from the unit (read under its lock). */
export interface FactoryResetState {
  info: ProductInfo
  sizes: Record<AreaName, AreaSize>
  optionKeys: string[]
  fipsEnabled: boolean
  dns: string[]
  licensingMode: 'smart' | 'legacy'
  /** files under certs/sni (deleted by every reset) */
  sniFiles: number
  /** a proxy password is stored encrypted under the bootstrap key */
  hasProxyPassword: boolean
  payload: PayloadSummary
}

export interface FactoryResetPlan {
  series: ResetSeries
  areas: PlannedArea[]
  after: {brand: Brand; type: UnitType}
  /** option keys the unit holds after the reset */
  optionKeys: string[]
  /** kept; none: Cisco VCS (no smart licensing); evaluation: smart, Direct, evaluation restarts; payload: the version's defaults */
  licensing: LicensingAfterReset
  evaluationStartedAt: string | null
  /** alarms raised after the reset */
  alarms: AlarmKey[]
  cryptoPolicy: 'default' | 'fips'
  warnings: string[]
}

function isMsInterop(key: string): boolean {
  const m = OPTION_KEY_PATTERN.exec(key.toUpperCase())
  return m !== null && `${m[1]}${m[2]}` === MS_INTEROP_FEATURE
}

/**
 * The factory reset as a plan: per area kept, reset or deleted, with what the area holds now. Pure:
 * a function of the unit's state, the keep answers and now. The rules of the appliance live here.
 */
export function planFactoryReset(state: FactoryResetState, answers: KeepAnswers, at: Date): FactoryResetPlan {
  const {info} = state
  checkKeepAnswers(info, answers)
  const series = resetSeries(info)
  const keep = (name: AreaName): boolean => {
    // the VCS reset is unchanged: it never asks about brand and type, which stay
    if (name === 'brand' && series === 'legacy') return true
    const a = areaByName(name)
    return a.question !== null && answers[name] === true
  }
  const warnings: string[] = []
  // the seed: "-v No: the default values are Expressway-C and Cisco VCS"
  const after = keep('brand') ? {brand: info.brand, type: info.type} : {brand: state.payload.brand, type: state.payload.type}
  const afterInfo = {...info, brand: after.brand, type: after.type}
  // the seed: "After Factory Reset, if the MS Interop option key is on the device, it will be preserved."
  const optionKeys = keep('option-keys') ? [...state.optionKeys] : state.optionKeys.filter(isMsInterop)
  const licensing: FactoryResetPlan['licensing'] = keep('licensing') ? 'kept'
    : after.brand === 'VCS' ? 'none'
      : isX142Expressway(afterInfo) ? 'evaluation' : 'payload'
  const fipsAfter = keep('fips') ? state.fipsEnabled : state.payload.fipsEnabled
  const dnsAfter = keep('ip') ? state.dns : state.payload.dns
  const alarms: AlarmKey[] = []
  if (licensing === 'kept' && state.licensingMode === 'smart' && dnsAfter.length === 0) {
    // the seed: "-t Yes … the device will go offline until the DNS settings are configured"
    alarms.push('smart-licensing-registration', 'smart-licensing-authorization')
    warnings.push('Smart licensing settings are kept but the unit has no DNS server: it stays offline, with alarms 30042 and 30044, until DNS is configured (xway network set UNIT --dns IP) and the next licensing exchange succeeds.')
  }
  if (fipsAfter && !hasFeature(optionKeys, AAS_FEATURE) && info.brand === 'VCS') {
    warnings.push('FIPS 140 mode is kept but the Advanced Account Security key (116341J00-…) it needs was not: add it again with xway option-keys add.')
  }
  const keepBootstrapKey = keep('licensing') && state.hasProxyPassword

  const policy = policyFor(fipsAfter)
  const context = (action: AreaAction): ResetContext => ({
    info, series, action, after, optionKeysBefore: state.optionKeys, optionKeysAfter: optionKeys, licensing,
    evaluationStartedAt: licensing === 'evaluation' ? at.toISOString() : null, alarms, policy, fipsEnabled: state.fipsEnabled,
    sniFiles: state.sniFiles, at,
  })
  const areas: PlannedArea[] = AREAS.map((a) => {
    const size = state.sizes[a.name] ?? {bytes: 0, files: 0}
    const kept = a.name === 'bootstrap-key' ? keepBootstrapKey : keep(a.name)
    const action: AreaAction = kept ? 'kept' : a.resetSource === 'delete' ? 'deleted' : 'reset'
    return {area: a.name, action, bytes: size.bytes, files: size.files, detail: a.resetDetail(context(action))}
  })

  return {
    series, areas, after, optionKeys, licensing,
    evaluationStartedAt: licensing === 'evaluation' ? at.toISOString() : null,
    alarms, cryptoPolicy: policy.name, warnings,
  }
}

