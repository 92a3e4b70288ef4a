import {AAS_FEATURE, assertKeyAllowed, MS_INTEROP_FEATURE, OPTION_KEY_PATTERN, OPTION_KEYS, type OptionKey, parseOptionKey, readOptionKeys} from '../areas/option-keys.js'
import {readFips} from '../areas/fips.js'
import {BadInputError, RefusedError} from '../errors.js'
import {readLicensing} from '../areas/licensing.js'
import {changeUnit, openUnit} from '../areas/open.js'
import {isX142Expressway, type ProductInfo} from '../product.js'

export interface OptionKeysListResult {
  unit: string
  optionKeys: OptionKey[]
}

export interface OptionKeyChangeResult extends OptionKeysListResult {
  key: string
  /** false when there was nothing to do (the key was already installed) */
  changed: boolean
  warnings: string[]
}

/** Keys as stored, parsed; a key that does not parse (hand-edited file) is listed with an empty feature. */
export function describeKeys(keys: string[]): OptionKey[] {
  return keys.map((k) => (OPTION_KEY_PATTERN.test(k.toUpperCase()) ? parseOptionKey(k) : {key: k, feature: '', name: 'unknown'}))
}

const VCS_ONLY_FEATURES = new Set(['W', 'V', 'R'])

/**
 * The option keys a unit keeps when it becomes (or stays) an Expressway on a version/edition:
 * - standard-edition Expressway on X14.2: only Microsoft Interoperability (C00); the seed: "Product
 *   Activation Keys (PAK) Licensing (Option Keys) are removed from version X14.2", and MS Interop
 *   is kept "only in cases where you have the MS Interop options before upgrade";
 * - Expressway Select, and Expressway before X14.2: every key but the VCS-only ones (Select accepts
 *   keys, SPEC 4; J00 is what FIPS needs there);
 * - VCS: every key ("legacy/option key license mode remains the only licensing mode").
 */
export function keysKeptOn(info: Pick<ProductInfo, 'brand' | 'edition' | 'softwareVersion'>, keys: string[]): {kept: string[]; dropped: string[]} {
  const kept: string[] = []
  const dropped: string[] = []
  for (const key of keys) {
    const parsed = OPTION_KEY_PATTERN.test(key.toUpperCase()) ? parseOptionKey(key) : null
    let keep: boolean
    if (info.brand === 'VCS') keep = true
    else if (isX142Expressway(info) && info.edition === 'standard') keep = parsed?.feature === MS_INTEROP_FEATURE
    else keep = parsed !== null && !VCS_ONLY_FEATURES.has(parsed.feature[0])
    ;(keep ? kept : dropped).push(key)
  }
  return {kept, dropped}
}

export async function listOptionKeys(unitArg: string): Promise<OptionKeysListResult> {
  const unit = await openUnit(unitArg)
  return {unit: unitArg, optionKeys: describeKeys(readOptionKeys(unit.files).keys)}
}

/**
 * `option-keys add`: the appliance's rules (assertKeyAllowed), plus the seed's "After Smart
 * Licensing is enabled, you cannot use option keys on the Expressway" for a standard-edition
 * Expressway that turned smart licensing on before X14.2. A key already installed is not an
 * error: nothing changes and the result says so (changed: false).
 */
export async function addOptionKey(unitArg: string, text: string): Promise<OptionKeyChangeResult> {
  const key = parseOptionKey(text)
  return changeUnit(unitArg, 'option-keys add', (tx, unit) => {
    const info = unit.info
    assertKeyAllowed(info, key)
    if (info.brand === 'Expressway' && info.edition === 'standard' && readLicensing(unit.files).mode === 'smart') {
      throw new RefusedError('Option keys cannot be used on an Expressway once smart licensing is on (Cisco: "After Smart Licensing is enabled, you cannot use option keys on the Expressway").', {
        actions: ['Use smart licensing entitlements instead (xway licensing register), or use a VCS or Expressway Select unit.'],
      })
    }
    const keys = readOptionKeys(unit.files).keys
    if (keys.some((k) => k.toUpperCase() === key.key)) {
      return {unit: unitArg, key: key.key, changed: false, optionKeys: describeKeys(keys), warnings: []}
    }
    const next = [...keys, key.key]
    tx.writeJson(OPTION_KEYS.file, {keys: next})
    tx.audit({action: 'add', feature: key.feature})
    return {unit: unitArg, key: key.key, changed: true, optionKeys: describeKeys(next), warnings: []}
  })
}

/**
 * `option-keys remove`: a key that is not installed is bad input (exit 4): the argument names
 * nothing on the unit. J00 cannot go while FIPS 140 mode is on: FIPS needs it.
 */
export async function removeOptionKey(unitArg: string, text: string): Promise<OptionKeyChangeResult> {
  const key = parseOptionKey(text)
  return changeUnit(unitArg, 'option-keys remove', (tx, unit) => {
    const keys = readOptionKeys(unit.files).keys
    if (!keys.some((k) => k.toUpperCase() === key.key)) {
      throw new BadInputError(`Option key ${key.key} is not installed on this unit.`, {actions: [`List the unit's keys with: xway option-keys list ${unitArg}`]})
    }
    if (key.feature === AAS_FEATURE && readFips(unit.files).enabled) {
      const others = keys.filter((k) => k.toUpperCase() !== key.key && OPTION_KEY_PATTERN.test(k.toUpperCase()) && parseOptionKey(k).feature === AAS_FEATURE)
      if (others.length === 0) {
        throw new RefusedError(`Option key ${key.key} (Advanced Account Security) cannot be removed while FIPS 140 mode is on: FIPS140-2 cryptographic mode needs the Advanced Account Security key.`, {
          actions: [`Leave FIPS 140 mode first (xway fips leave ${unitArg}), then remove the key.`],
        })
      }
    }
    const warnings: string[] = []
    if (key.feature === MS_INTEROP_FEATURE && isX142Expressway(unit.info) && unit.info.edition === 'standard') {
      warnings.push('The Microsoft Interoperability key cannot be added again from X14.2: once removed, it is gone for good on this Expressway.')
    }
    const next = keys.filter((k) => k.toUpperCase() !== key.key)
    tx.writeJson(OPTION_KEYS.file, {keys: next})
    tx.audit({action: 'remove', feature: key.feature})
    return {unit: unitArg, key: key.key, changed: true, optionKeys: describeKeys(next), warnings}
  })
}
