import {readFips} from '../areas/fips.js'
import {OPTION_KEYS, readOptionKeys} from '../areas/option-keys.js'
import {RefusedError} from '../errors.js'
import {isRegistered} from '../licensing/status.js'
import type {LicensingState} from '../licensing/state.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import {changeUnit, openUnit} from '../areas/open.js'
import {compareVersions, isX142Expressway, type ProductInfo} from '../product.js'
import {readJson} from '../unit/unit.js'
import {BRAND, renderProductInfo} from '../areas/brand.js'
import {smartLicensingTurnedOn} from './convert.js'
import {FIPS_EXPORT_CONTROL_MESSAGE} from './create.js'
import {keysKeptOn} from './option-keys.js'
import {availableVersions, packSoftwareImage, releaseKey, softwareImage} from './software.js'
import {CONFIG} from '../areas/config.js'
import {PRODUCT} from '../areas/product.js'

/** The seed's advice, quoted when smart licensing was not on before an upgrade to X14.2. */
export const SMART_BEFORE_UPGRADE_ADVICE =
  'We recommend you to enable Smart License before upgrading Expressway to version X14.2. This will help while reverting to a previous image.'

/** Facts: after upgrading a FIPS system, `xconfiguration SIP Advanced SipTlsDhKeySize: "2048"`. */
export const FIPS_SIP_TLS_DH_KEY_SIZE = '2048'

export interface UpgradeResult {
  unit: string
  from: string
  to: string
  /** false when the unit already runs that version (nothing to do) */
  changed: boolean
  licensing: {mode: 'smart' | 'legacy'; turnedOn: boolean; registrationKept: boolean; evaluationStartedAt: string | null}
  optionKeys: {kept: string[]; dropped: string[]}
  fips: {enabled: boolean; sipTlsDhKeySize: string | null}
  warnings: string[]
}

type XConfiguration = Record<string, unknown> & {SIP?: Record<string, unknown> & {Advanced?: Record<string, unknown>}}

export interface UpgradePlan {
  info: ProductInfo
  licensing: LicensingState
  keys: {kept: string[]; dropped: string[]}
  config: XConfiguration | null
  warnings: string[]
  changed: boolean
}

/** The rules of an upgrade, pure: what the unit becomes, or a RefusedError quoting the rule. */
export function planUpgrade(
  unitArg: string,
  current: {info: ProductInfo; licensing: LicensingState; keys: string[]; fips: boolean; config: XConfiguration},
  to: string,
  at: Date,
): UpgradePlan {
  const {info} = current
  const image = softwareImage(availableVersions().find((v) => v.toLowerCase() === to.toLowerCase()) ?? to) // unknown version: bad input (exit 4), listing the versions this xway ships
  const version = image.info.version
  const order = compareVersions(version, info.softwareVersion)
  if (order === 0) return {info, licensing: current.licensing, keys: {kept: current.keys, dropped: []}, config: null, warnings: [], changed: false}
  if (order < 0) {
    throw new RefusedError(`Downgrades are not supported: the unit runs ${info.softwareVersion}, and ${version} is older.`, {
      actions: [`Build a new unit on ${version} (xway image create) and restore a backup taken on ${version} onto it.`],
    })
  }
  const next: ProductInfo = {...info, softwareVersion: version}
  const smartOnly = info.brand === 'Expressway' && (isX142Expressway(next) || image.info.smartLicensing !== 'optional')
  if (current.fips && isX142Expressway(next) && next.edition === 'standard') {
    throw new RefusedError(
      `${FIPS_EXPORT_CONTROL_MESSAGE}: this Expressway is in FIPS 140 mode, and the export-restricted Expressway Series has no FIPS 140 mode from X14.2.`,
      {actions: [`Leave FIPS 140 mode first (xway fips leave ${unitArg}), then upgrade; or use an Expressway Select or VCS unit for FIPS 140.`]},
    )
  }
  const warnings: string[] = []
  let licensing = current.licensing
  if (smartOnly) {
    licensing = smartLicensingTurnedOn(current.licensing, at)
    if (current.licensing.mode !== 'smart') {
      warnings.push(`Smart licensing was not enabled before the upgrade to ${version}; it is on now, the only licensing mode of the Expressway. Cisco: "${SMART_BEFORE_UPGRADE_ADVICE}"`)
    }
  }
  const keys = info.brand === 'Expressway' ? keysKeptOn(next, current.keys) : {kept: current.keys, dropped: []}
  if (keys.dropped.length > 0) warnings.push(`Option keys (PAK) removed by the upgrade: ${keys.dropped.join(', ')}.`)
  let config: XConfiguration | null = null
  if (current.fips) {
    config = structuredClone(current.config)
    const sip = (config.SIP ??= {})
    const advanced = (sip.Advanced ??= {})
    advanced.SipTlsDhKeySize = FIPS_SIP_TLS_DH_KEY_SIZE
  }
  return {info: next, licensing, keys, config, warnings, changed: true}
}

/**
 * `upgrade`: the unit's software version, its factory payload (software image and release key),
 * option keys and licensing move to the new version, in one transaction.
 */
export async function upgradeUnit(unitArg: string, to: string, at: Date): Promise<UpgradeResult> {
  return changeUnit(unitArg, 'upgrade', async (tx, unit) => {
    const u = unit.files
    const before = readLicensing(u)
    const fips = readFips(u).enabled
    const keys = readOptionKeys(u).keys
    const plan = planUpgrade(unitArg, {info: unit.info, licensing: before, keys, fips, config: readJson<XConfiguration>(u, CONFIG.file)}, to, at)
    const turnedOn = before.mode !== 'smart' && plan.licensing.mode === 'smart'
    if (plan.changed) {
      const version = plan.info.softwareVersion
      const rk = releaseKey(plan.info.serial, version) + '\n'
      tx.write(BRAND.productInfo, renderProductInfo(plan.info))
      tx.write(BRAND.releaseKey, rk)
      tx.write(PRODUCT.payloadRk, rk)
      tx.write(PRODUCT.payloadImage, await packSoftwareImage(version))
      if (JSON.stringify(plan.licensing) !== JSON.stringify(before)) tx.writeJson(LICENSING.state, plan.licensing)
      if (plan.keys.dropped.length > 0) tx.writeJson(OPTION_KEYS.file, {keys: plan.keys.kept})
      if (plan.config) tx.writeJson(CONFIG.file, plan.config)
      tx.audit({from: unit.info.softwareVersion, to: version, smartLicensingTurnedOn: turnedOn, optionKeysDropped: plan.keys.dropped.length, fips})
    }
    const sip = plan.config?.SIP?.Advanced?.SipTlsDhKeySize
    return {
      unit: unitArg,
      from: unit.info.softwareVersion,
      to: plan.info.softwareVersion,
      changed: plan.changed,
      licensing: {
        mode: plan.licensing.mode,
        turnedOn,
        registrationKept: plan.licensing.mode === 'smart' && isRegistered(plan.licensing, at),
        evaluationStartedAt: plan.licensing.mode === 'smart' ? plan.licensing.evaluation.startedAt : null,
      },
      optionKeys: plan.keys,
      fips: {enabled: fips, sipTlsDhKeySize: typeof sip === 'string' ? sip : null},
      warnings: plan.warnings,
    }
  })
}
