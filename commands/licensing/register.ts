import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {licensingLines} from '../../src/cli/licensing-render.js'
import {now} from '../../src/clock.js'
import {type AgentResult, registerUnit} from '../../src/agent/agent.js'

export default class LicensingRegister extends XwayCommand<AgentResult> {
  static override description = `Register the unit with the license server (CSSM or On-Prem) using a Product Instance Registration Token, then authorize its current usage.
Exit 4 when the server refuses the token (invalid, expired, used up: "Unregistered: Registration Failed"); exit 6 when the server cannot be reached ("Unregistered: Registration Pending", retried every 15 minutes by xway licensing sync); exit 3 when already registered without --force.`
  static override examples = [
    '<%= config.bin %> licensing register ./units/exp-c1 --token "$TOKEN"',
    '<%= config.bin %> licensing register ./units/exp-c1 --token "$TOKEN" --force --json',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}
  static override flags = {
    token: Flags.string({required: true, description: 'Product Instance Registration Token (xway license-server token create)'}),
    force: Flags.boolean({description: 'Reregister this product instance if it is already registered (may move it to another virtual account)'}),
  }

  async run(): Promise<AgentResult> {
    const {args, flags} = await this.parse(LicensingRegister)
    const result = await registerUnit(args.unit, {token: flags.token, force: flags.force}, now())
    for (const line of licensingLines(result.licensing)) this.say(line)
    for (const n of result.notes) this.say(n)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
