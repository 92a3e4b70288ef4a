import {readCluster} from '../areas/cluster.js'
import {readFips} from '../areas/fips.js'
import {OPTION_KEYS, readOptionKeys} from '../areas/option-keys.js'
import {RefusedError, UsageError} from '../errors.js'
import {isRegistered} from '../licensing/status.js'
import {defaultLicensingState, type LicensingState} from '../licensing/state.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import {changeUnit, openUnit} from '../areas/open.js'
import {type Brand, isX142Expressway, type ProductInfo, type UnitType} from '../product.js'
import {BRAND, renderProductInfo} from '../areas/brand.js'
import {FIPS_EXPORT_CONTROL_MESSAGE} from './create.js'
import {keysKeptOn} from './option-keys.js'

export interface ConvertOptions {
  /** the series to convert to; absent with a type: Expressway Series */
  to?: 'expressway' | 'vcs'
  type?: UnitType
}

export interface ConvertResult {
  unit: string
  /** false when the unit already was what was asked (nothing to do) */
  changed: boolean
  from: {brand: Brand; type: UnitType}
  to: {brand: Brand; type: UnitType}
  licensing: {mode: 'smart' | 'legacy'; turnedOn: boolean; evaluationStartedAt: string | null}
  optionKeys: {kept: string[]; dropped: string[]}
  warnings: string[]
}

/**
 * Smart licensing on, as X14.2 turns it on (convert, upgrade): a unit already in smart mode keeps
 * its state (transport, registration; an evaluation already running is not restarted); a unit
 * in legacy mode starts from the defaults (Direct transport) with the 90-day evaluation starting
 * now. An unregistered unit whose evaluation never started starts it now.
 */
export function smartLicensingTurnedOn(existing: LicensingState, at: Date): LicensingState {
  if (existing.mode === 'smart') {
    const state = structuredClone(existing)
    if (state.evaluation.startedAt === null && !isRegistered(state, at)) state.evaluation.startedAt = at.toISOString()
    return state
  }
  const state = defaultLicensingState('smart')
  state.directUrl = existing.directUrl
  state.hideIdentity = existing.hideIdentity
  state.evaluation.startedAt = at.toISOString()
  return state
}

export interface ConvertPlan {
  info: ProductInfo
  licensing: LicensingState
  keys: {kept: string[]; dropped: string[]}
  changed: boolean
}

/** The rules of Service Select, pure: what the unit becomes, or a RefusedError quoting the rule. */
export function planConvert(
  unitArg: string,
  current: {info: ProductInfo; licensing: LicensingState; keys: string[]; fips: boolean; inCluster: boolean},
  options: ConvertOptions,
  at: Date,
): ConvertPlan {
  const {info} = current
  if (!options.to && !options.type) throw new UsageError('Say what to convert to: --type expressway-c|expressway-e, or --to vcs.')
  const brand: Brand = options.to === 'vcs' ? 'VCS' : options.to === 'expressway' || options.type ? 'Expressway' : info.brand
  const type: UnitType = options.type ?? info.type
  const next: ProductInfo = {...info, brand, type}
  const unchanged = {info, licensing: current.licensing, keys: {kept: current.keys, dropped: []}, changed: false}
  if (brand === info.brand && type === info.type) return unchanged

  if (current.inCluster) {
    throw new RefusedError('The series or type of a unit cannot be changed while it is in a cluster: a cluster cannot mix series or types.', {
      actions: [`Take the unit out of its cluster first (xway cluster leave ${unitArg}).`],
    })
  }
  if (brand === 'VCS' && info.brand === 'Expressway') {
    if (current.licensing.mode === 'smart' || isX142Expressway(info)) {
      throw new RefusedError(
        'With Smart Licensing on, the series cannot be changed in Service Select (Cisco: "Once Smart Licensing is turned ON, you do not have an option for reverting to Cisco VCS through Service Select"); a factory reset is needed, since smart licensing is not supported on VCS.',
        {actions: [`Run a factory reset without -v (brand and type are not kept, the unit comes back as Cisco VCS, Expressway-C): xway factory-reset ${unitArg}`]},
      )
    }
    // before X14.2, without smart licensing: VCS keeps every option key, licensing stays legacy
    return {info: next, licensing: current.licensing, keys: {kept: current.keys, dropped: []}, changed: true}
  }
  if (brand === 'Expressway' && info.brand === 'VCS') {
    if (current.fips && isX142Expressway(next) && next.edition === 'standard') {
      throw new RefusedError(
        `${FIPS_EXPORT_CONTROL_MESSAGE}: this VCS is in FIPS 140 mode and would become an export-restricted Expressway X14.2, where FIPS 140 is not available.`,
        {actions: [`Leave FIPS 140 mode first (xway fips leave ${unitArg}), or convert an Expressway Select unit instead.`]},
      )
    }
    const keys = keysKeptOn(next, current.keys)
    // the seed: "When Cisco VCS is converted to Expressway Series X14.2, Smart License mode is turned ON automatically."
    const licensing = isX142Expressway(next) ? smartLicensingTurnedOn({...current.licensing, mode: 'legacy'}, at) : current.licensing
    return {info: next, licensing, keys, changed: true}
  }
  // a type change within a series (Expressway-C ↔ Expressway-E, or the type of a VCS)
  return {info: next, licensing: current.licensing, keys: {kept: current.keys, dropped: []}, changed: true}
}

/** `convert`: Service Select, VCS → Expressway Series, Expressway-C ↔ E; Expressway → VCS only without smart licensing. */
export async function convertUnit(unitArg: string, options: ConvertOptions, at: Date): Promise<ConvertResult> {
  return changeUnit(unitArg, 'convert', (tx, unit) => {
    const u = unit.files
    const licensingBefore = readLicensing(u)
    const keys = readOptionKeys(u).keys
    const plan = planConvert(unitArg, {
      info: unit.info, licensing: licensingBefore, keys, fips: readFips(u).enabled, inCluster: readCluster(u).cluster !== null,
    }, options, at)
    const turnedOn = licensingBefore.mode !== 'smart' && plan.licensing.mode === 'smart'
    const warnings: string[] = []
    if (plan.changed) {
      tx.write(BRAND.productInfo, renderProductInfo(plan.info))
      if (turnedOn) tx.writeJson(LICENSING.state, plan.licensing)
      if (plan.keys.dropped.length > 0) {
        tx.writeJson(OPTION_KEYS.file, {keys: plan.keys.kept})
        warnings.push(`Option keys removed: ${plan.keys.dropped.join(', ')}.`)
      }
      tx.audit({
        from: {brand: unit.info.brand, type: unit.info.type}, to: {brand: plan.info.brand, type: plan.info.type},
        smartLicensingTurnedOn: turnedOn, optionKeysDropped: plan.keys.dropped.length,
      })
    }
    return {
      unit: unitArg,
      changed: plan.changed,
      from: {brand: unit.info.brand, type: unit.info.type},
      to: {brand: plan.info.brand, type: plan.info.type},
      licensing: {mode: plan.licensing.mode, turnedOn, evaluationStartedAt: plan.licensing.mode === 'smart' ? plan.licensing.evaluation.startedAt : null},
      optionKeys: plan.keys,
      warnings,
    }
  })
}
