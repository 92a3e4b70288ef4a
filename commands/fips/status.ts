import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {fipsStatus, type FipsStatusResult} from '../../src/lifecycle/fips.js'

export default class FipsStatus extends XwayCommand<FipsStatusResult> {
  static override description = 'Show whether FIPS 140 mode is on, the crypto policy in force, and whether FIPS 140 mode is available on the unit (and why not)'
  static override examples = ['<%= config.bin %> fips status ./units/vcs-c1', '<%= config.bin %> fips status ./units/vcs-c1 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<FipsStatusResult> {
    const {args} = await this.parse(FipsStatus)
    const result = await fipsStatus(args.unit)
    this.say(`FIPS 140 mode: ${result.fips.enabled ? `on (since ${result.fips.enabledAt})` : 'off'}; crypto policy: ${result.policy}`)
    if (!result.available) this.say(`Not available: ${result.reason}`)
    return result
  }
}
