import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {licensingLines} from '../../src/cli/licensing-render.js'
import {now} from '../../src/clock.js'
import {type DeregisterResult, deregisterUnit} from '../../src/agent/agent.js'

export default class LicensingDeregister extends XwayCommand<DeregisterResult> {
  static override description = 'Deregister: every license entitlement goes back to the virtual account, and the unit returns to evaluation mode if its evaluation period has not expired. When the server cannot be reached the unit deregisters anyway and warns to remove the product instance on the server (exit 0, see warnings).'
  static override examples = ['<%= config.bin %> licensing deregister ./units/exp-c1']
  static override args = {unit: unitArg()}

  async run(): Promise<DeregisterResult> {
    const {args} = await this.parse(LicensingDeregister)
    const result = await deregisterUnit(args.unit, now())
    for (const line of licensingLines(result.licensing)) this.say(line)
    for (const n of result.notes) this.say(n)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
