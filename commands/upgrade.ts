import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../src/cli/base.js'
import {unitArg} from '../src/cli/flags.js'
import {now} from '../src/clock.js'
import {upgradeUnit, type UpgradeResult} from '../src/lifecycle/upgrade.js'

export default class Upgrade extends XwayCommand<UpgradeResult> {
  static override description = `Upgrade a unit to a newer software version (X14.0.2 → X14.2.0)

On an Expressway, X14.2 makes smart licensing the only mode: it is turned on (the evaluation starts unless the unit is registered; a registration is kept) and option keys (PAK) are removed except Microsoft Interoperability (C00). VCS keeps its option keys. The unit's factory payload (software image and release key) becomes the new version's. A FIPS unit gets SIP Advanced SipTlsDhKeySize "2048". The same version is nothing to do; downgrades are refused.`
  static override examples = [
    '<%= config.bin %> upgrade ./units/exp-legacy1 --to X14.2.0',
    'XWAY_NOW=2026-03-01T00:00:00Z <%= config.bin %> upgrade ./units/vcs-c1 --to X14.2.0 --json',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    to: Flags.string({description: 'software version to upgrade to (one of images/)', required: true}),
  }

  async run(): Promise<UpgradeResult> {
    const {args, flags} = await this.parse(Upgrade)
    const result = await upgradeUnit(args.unit, flags.to, now())
    for (const w of result.warnings) this.warnLine(w)
    if (!result.changed) this.say(`${args.unit} already runs ${result.to}: nothing to do`)
    else {
      this.say(`Upgraded ${args.unit}: ${result.from} → ${result.to}`)
      if (result.licensing.turnedOn) this.say(`Smart licensing is on; the 90-day evaluation started ${result.licensing.evaluationStartedAt}`)
      if (result.optionKeys.dropped.length > 0) this.say(`Option keys removed: ${result.optionKeys.dropped.join(', ')}`)
    }
    return result
  }
}
