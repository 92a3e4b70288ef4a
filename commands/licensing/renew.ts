import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {licensingLines} from '../../src/cli/licensing-render.js'
import {now} from '../../src/clock.js'
import {UsageError} from '../../src/errors.js'
import {type AgentResult, renewUnit} from '../../src/agent/agent.js'

export default class LicensingRenew extends XwayCommand<AgentResult> {
  static override description = 'Renew now: the license authorization (which carries the usage too and starts a new 30/90 days), or the registration (a changed hostname reaches the server this way, unless the identity is hidden). Exit 6 when the server cannot be reached (recorded; alarms 30042/30044).'
  static override examples = [
    '<%= config.bin %> licensing renew ./units/exp-c1 --authorization',
    '<%= config.bin %> licensing renew ./units/exp-c1 --registration',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    authorization: Flags.boolean({description: 'Renew authorization now', exclusive: ['registration']}),
    registration: Flags.boolean({description: 'Renew registration now', exclusive: ['authorization']}),
  }

  async run(): Promise<AgentResult> {
    const {args, flags} = await this.parse(LicensingRenew)
    if (!flags.authorization && !flags.registration) throw new UsageError('Say what to renew: --authorization or --registration.')
    const result = await renewUnit(args.unit, flags.authorization ? 'authorization' : 'registration', now())
    for (const line of licensingLines(result.licensing)) this.say(line)
    for (const n of result.notes) this.say(n)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
