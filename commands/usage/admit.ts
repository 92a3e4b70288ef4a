import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {withResult} from '../../src/cli/failure.js'
import {unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {admitSession, type UsageAdmitResult} from '../../src/lifecycle/usage.js'

export default class UsageAdmit extends XwayCommand<UsageAdmitResult> {
  static override description = `Try to start one call or registration: exit 0 and count it when admitted, exit 3 and change nothing when refused (with --json the error carries {unit, usage, admitted: false, kind} as data)

Refused once export control is reached, until the total drops below the limit − 1 % (2475; 2221 with WebRTC; no limit on Select); and, on a smart-licensing unit whose evaluation expired while unregistered (Unauthorized), new desktop and room registrations are refused.`
  static override examples = [
    '<%= config.bin %> usage admit ./units/exp-c1 --call',
    '<%= config.bin %> usage admit ./units/exp-c1 --desktop --json',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    call: Flags.boolean({description: 'a new call (Rich Media Session)', exactlyOne: ['call', 'desktop', 'room']}),
    desktop: Flags.boolean({description: 'a new desktop registration', exactlyOne: ['call', 'desktop', 'room']}),
    room: Flags.boolean({description: 'a new room registration', exactlyOne: ['call', 'desktop', 'room']}),
  }

  async run(): Promise<UsageAdmitResult> {
    const {args, flags} = await this.parse(UsageAdmit)
    const kind = flags.call ? 'call' : flags.desktop ? 'desktop' : 'room'
    const at = now()
    const result = await admitSession(args.unit, kind, at).catch(async (error: unknown) => {
      throw await withResult(error, async () => {
        const {inspectUnit} = await import('../../src/report/inspect.js')
        return {unit: args.unit, usage: (await inspectUnit(args.unit, at)).usage, admitted: false, kind}
      })
    })
    const u = result.usage
    this.say(`Admitted a ${kind === 'call' ? 'call' : `${kind} registration`}: calls ${u.calls}, desktop ${u.desktop}, room ${u.room}; export control: ${u.exportControl.state}`)
    return result
  }
}
