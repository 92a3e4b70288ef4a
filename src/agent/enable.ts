import {readOptionKeys} from '../areas/option-keys.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import {changeUnit} from '../areas/open.js'
import {RefusedError} from '../errors.js'
import type {LicensingState} from '../licensing/state.js'
import {evaluationExpiresAt} from '../licensing/status.js'
import {isX142Expressway, type ProductInfo} from '../product.js'
import {smartLicensingTurnedOn} from '../lifecycle/convert.js'

// `licensing enable UNIT`: smart licensing turned on for an Expressway before X14.2, so that
// Cisco's advice "We recommend you to enable Smart License before upgrading Expressway to
// version X14.2" can be followed. From then on the unit is licensed by smart licensing (the
// 90-day evaluation starts) and option keys can no longer be added ("After Smart Licensing is
// enabled, you cannot use option keys on the Expressway", enforced by option-keys add).

export interface EnableResult {
  unit: string
  /** false when smart licensing was already on (X14.0.2 enabled before): nothing changed */
  changed: boolean
  licensing: {mode: 'smart'; evaluation: {startedAt: string | null; expiresAt: string | null}}
  /** the option keys that stay stored on the unit (an upgrade to X14.2 then keeps only C00) */
  optionKeys: string[]
  warnings: string[]
}

/** The rule, pure: the licensing state after enabling, or null when it is already on; refused on VCS and from X14.2. */
export function planEnableSmartLicensing(info: ProductInfo, state: LicensingState, at: Date, unitArg = 'UNIT'): LicensingState | null {
  if (info.brand === 'VCS') {
    throw new RefusedError('Smart licensing cannot be enabled on Cisco VCS: Cisco: "For Cisco VCS, legacy/option key license mode remains the only licensing mode."', {
      actions: [`Use option keys on the VCS (xway option-keys add ${unitArg} KEY), or convert it to the Expressway Series (xway convert ${unitArg} --type expressway-c).`],
    })
  }
  if (isX142Expressway(info)) {
    throw new RefusedError(`Smart licensing is already on: on ${info.brand} ${info.softwareVersion} it is the only licensing mode (Cisco: "Product Activation Keys (PAK) Licensing (Option Keys) are removed from version X14.2").`, {
      actions: [`See its status: xway licensing status ${unitArg}`],
    })
  }
  if (state.mode === 'smart') return null
  return smartLicensingTurnedOn(state, at)
}

export async function enableSmartLicensing(unitArg: string, at: Date): Promise<EnableResult> {
  return changeUnit(unitArg, 'licensing enable', (tx, unit) => {
    const before = readLicensing(unit.files)
    const next = planEnableSmartLicensing(unit.info, before, at, unitArg)
    const state = next ?? before
    const keys = readOptionKeys(unit.files).keys
    const warnings: string[] = []
    if (next) {
      tx.writeJson(LICENSING.state, next)
      tx.audit({smartLicensing: 'enabled', evaluationStartedAt: next.evaluation.startedAt})
      warnings.push('Option keys can no longer be added to this Expressway (Cisco: "After Smart Licensing is enabled, you cannot use option keys on the Expressway").')
      if (keys.length > 0) warnings.push(`The ${keys.length} option key(s) installed stay on the unit; the upgrade to X14.2 keeps only Microsoft Interoperability (C00).`)
    }
    const expires = evaluationExpiresAt(state)
    return {
      unit: unitArg,
      changed: next !== null,
      licensing: {mode: 'smart', evaluation: {startedAt: state.evaluation.startedAt, expiresAt: expires ? expires.toISOString() : null}},
      optionKeys: keys,
      warnings,
    }
  })
}
