import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {withResult} from '../../src/cli/failure.js'
import {secretFile, unitArg} from '../../src/cli/flags.js'
import {licensingLines} from '../../src/cli/licensing-render.js'
import {now} from '../../src/clock.js'
import {type AgentResult, registerUnit} from '../../src/agent/agent.js'
import {unitLicensingStatus} from '../../src/agent/queries.js'

export default class LicensingRegister extends XwayCommand<AgentResult> {
  static override description = `Register the unit with the license server (CSSM or On-Prem) using a Product Instance Registration Token, then authorize its current usage.
Exit 4 when the server refuses the token (invalid, expired, used up: "Unregistered: Registration Failed"); exit 6 when the server cannot be reached ("Unregistered: Registration Pending", retried every 15 minutes by xway licensing sync); exit 3 when already registered without --force. With --json a failure prints the error with the unit's licensing status after it as data ({unit, licensing}).`
  static override examples = [
    '<%= config.bin %> licensing register ./units/exp-c1 --token-file ./token.txt',
    '<%= config.bin %> licensing register ./units/exp-c1 --token "$TOKEN"',
    '<%= config.bin %> licensing register ./units/exp-c1 --token "$TOKEN" --force --json',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    token: Flags.string({helpValue: 'TOKEN', description: 'Product Instance Registration Token (xway license-server token create); --token-file keeps it out of the process list', exactlyOne: ['token', 'token-file']}),
    'token-file': secretFile({description: 'file whose first line is the registration token', exactlyOne: ['token', 'token-file']}),
    force: Flags.boolean({description: 'Reregister this product instance if it is already registered (may move it to another virtual account)'}),
  }

  async run(): Promise<AgentResult> {
    const {args, flags} = await this.parse(LicensingRegister)
    const at = now()
    const result = await registerUnit(args.unit, {token: flags.token ?? flags['token-file']!.reveal(), force: flags.force}, at)
      .catch(async (error: unknown) => {
        throw await withResult(error, async () => ({unit: args.unit, licensing: await unitLicensingStatus(args.unit, at)}))
      })
    for (const line of licensingLines(result.licensing)) this.say(line)
    for (const n of result.notes) this.say(n)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
