import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {leaveFips, type FipsChangeResult} from '../../src/lifecycle/fips.js'

export default class FipsLeave extends XwayCommand<FipsChangeResult> {
  static override description = `Leave FIPS 140 mode: reset the FIPS 140 configuration, keeping every key

On the appliance FIPS 140 mode ends only with a factory reset that does not keep the FIPS 140 configuration; this command resets that configuration alone. Keys made under the FIPS policy stay (the default policy accepts them); the next boot adds the host keys the default policy has and FIPS does not (ed25519).`
  static override examples = ['<%= config.bin %> fips leave ./units/vcs-c1', '<%= config.bin %> fips leave ./units/vcs-c1 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<FipsChangeResult> {
    const {args} = await this.parse(FipsLeave)
    const result = await leaveFips(args.unit)
    this.say(result.changed ? `${args.unit}: FIPS 140 mode is off; crypto policy: default` : `${args.unit}: FIPS 140 mode is not on: nothing to do`)
    for (const n of result.changed ? result.notes : []) this.say(n)
    return result
  }
}
