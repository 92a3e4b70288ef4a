import {Args} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {now} from '../../src/clock.js'
import {type EnableResult, enableSmartLicensing} from '../../src/agent/enable.js'

export default class LicensingEnable extends XwayCommand<EnableResult> {
  static override description = `Enable smart licensing on an Expressway before X14.2 (X14.0.2), as Cisco recommends before upgrading to X14.2: the 90-day evaluation starts, and option keys can no longer be added.
Refused (exit 3) on Cisco VCS, which has no smart licensing, and on X14.2, where it is already the only mode. On a unit where it is already enabled nothing changes (exit 0, "changed": false).`
  static override examples = [
    '<%= config.bin %> licensing enable ./units/exp-c1',
    '<%= config.bin %> licensing enable ./units/exp-c1 --json && <%= config.bin %> upgrade ./units/exp-c1 --to X14.2.0',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}

  async run(): Promise<EnableResult> {
    const {args} = await this.parse(LicensingEnable)
    const result = await enableSmartLicensing(args.unit, now())
    const ev = result.licensing.evaluation
    this.say(result.changed ? `Smart licensing enabled; evaluation period ${ev.startedAt} to ${ev.expiresAt}` : `Smart licensing was already enabled (evaluation ${ev.startedAt} to ${ev.expiresAt}); nothing changed`)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
