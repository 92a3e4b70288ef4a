import {BadInputError, RefusedError} from '../errors.js'
import {isX142Expressway, type ProductInfo} from '../product.js'
import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file, folder} from './area.js'

/** Option keys (PAK). */
export const OPTION_KEYS = {dir: 'tandberg/persistent/optionkeys', file: 'tandberg/persistent/optionkeys/optionkeys.json'} as const

export interface OptionKeysFile {
  keys: string[]
}

export const readOptionKeys = (files: UnitReader) => readJson<OptionKeysFile>(files, OPTION_KEYS.file, {keys: []})

/** Feature letters of option keys (reference/expressway-facts.md, "Option keys"). */
const FEATURES: Record<string, string> = {
  E: 'Expressway Series',
  Y: 'Rich Media Sessions',
  A: 'Room Registrations',
  B: 'Desktop Registrations',
  I: 'TURN Relays',
  J: 'Advanced Account Security',
  C: 'Microsoft Interoperability',
  L: 'Advanced Networking',
  G: 'Interworking',
  P: 'Device Provisioning',
  U: 'FindMe',
  W: 'Traversal Calls',
  V: 'Non-traversal Calls',
  R: 'Registrations',
}
const VCS_ONLY = new Set(['W', 'V', 'R'])

export const OPTION_KEY_PATTERN = /^116341([A-Z])(\d{2})-(\d+)-([A-Z0-9]{8})$/
export const MS_INTEROP_FEATURE = 'C00'
export const AAS_FEATURE = 'J00'

export interface OptionKey {
  key: string
  feature: string
  name: string
}

export function parseOptionKey(text: string): OptionKey {
  const key = text.trim().toUpperCase()
  const m = OPTION_KEY_PATTERN.exec(key)
  if (!m || !(m[1] in FEATURES)) {
    throw new BadInputError(`"${text}" is not an option key: the pattern is 116341<feature>-<m>-<8 characters>, e.g. 116341C00-1-ABCD1234.`)
  }
  return {key, feature: `${m[1]}${m[2]}`, name: FEATURES[m[1]]}
}

export function hasFeature(keys: string[], feature: string): boolean {
  return keys.some((k) => OPTION_KEY_PATTERN.exec(k.toUpperCase()) && parseOptionKey(k).feature === feature)
}

/**
 * Whether a key may be added to a unit. The seed: from X14.2 option keys are removed on the
 * Expressway Series (standard edition); Microsoft Interoperability cannot be added from X14.2,
 * only kept if it was present before the upgrade. VCS and Select accept keys.
 */
export function assertKeyAllowed(info: ProductInfo, key: OptionKey): void {
  if (VCS_ONLY.has(key.feature[0]) && info.brand !== 'VCS') {
    throw new RefusedError(`Option key ${key.key} (${key.name}) is for Cisco VCS only.`, {actions: ['Add it to a VCS unit instead.']})
  }
  if (isX142Expressway(info) && info.edition === 'standard') {
    if (key.feature === MS_INTEROP_FEATURE) {
      throw new RefusedError(
        'The Microsoft Interoperability option key cannot be added from X14.2: it is kept only if it was present before the upgrade to X14.2.',
        {actions: ['Microsoft Interoperability is available on X14.2 only on units that had the key before upgrading.']},
      )
    }
    throw new RefusedError(
      `Option keys cannot be added on an Expressway X14.2 (standard edition): from X14.2 the Expressway Series uses Smart Licensing only.`,
      {actions: ['Use smart licensing (xway licensing register), or use a VCS or Expressway Select unit.']},
    )
  }
}

export const optionKeysArea: AreaModule = {
  name: 'option-keys',
  title: 'option keys',
  files: [folder(OPTION_KEYS.dir), file(OPTION_KEYS.file, 'json', {required: true})],
  question: {flag: 'o', long: 'keep-option-keys', prompt: null, order: null, legacyPrompt: 'Keep option keys [YES/NO]?', legacyOrder: 1},
  resetSource: 'payload',
  backup: true,
  restore: 'replace',
  resetDetail({action, optionKeysBefore, optionKeysAfter}) {
    if (action === 'kept') return `all ${optionKeysBefore.length} kept`
    const c00 = optionKeysAfter.length > 0 ? 'Microsoft Interoperability (C00) kept' : 'no Microsoft Interoperability (C00) key to keep'
    return `dropped (${optionKeysBefore.length - optionKeysAfter.length}); ${c00}`
  },
  applyReset(ctx) {
    if (ctx.action !== 'kept') ctx.putJson(OPTION_KEYS.file, {keys: ctx.optionKeysAfter})
  },
  inspect: ({files}) => ({optionKeys: readOptionKeys(files).keys.map((k) => parseOptionKey(k))}),
}
