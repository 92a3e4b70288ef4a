import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {now} from '../../src/clock.js'
import {admitSession, type UsageAdmitResult} from '../../src/lifecycle/usage.js'

export default class UsageAdmit extends XwayCommand<UsageAdmitResult> {
  static override description = `Try to start one call or registration: exit 0 and count it when admitted, exit 3 and change nothing when refused

Refused once export control is reached, until the total drops below the limit − 1 % (2475; 2221 with WebRTC; no limit on Select); and, on a smart-licensing unit whose evaluation expired while unregistered (Unauthorized), new desktop and room registrations are refused.`
  static override examples = [
    '<%= config.bin %> usage admit ./units/exp-c1 --call',
    '<%= config.bin %> usage admit ./units/exp-c1 --desktop --json',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}
  static override flags = {
    call: Flags.boolean({description: 'a new call (Rich Media Session)', exactlyOne: ['call', 'desktop', 'room']}),
    desktop: Flags.boolean({description: 'a new desktop registration', exactlyOne: ['call', 'desktop', 'room']}),
    room: Flags.boolean({description: 'a new room registration', exactlyOne: ['call', 'desktop', 'room']}),
  }

  async run(): Promise<UsageAdmitResult> {
    const {args, flags} = await this.parse(UsageAdmit)
    const kind = flags.call ? 'call' : flags.desktop ? 'desktop' : 'room'
    const result = await admitSession(args.unit, kind, now())
    const u = result.usage
    this.say(`Admitted a ${kind === 'call' ? 'call' : `${kind} registration`}: calls ${u.calls}, desktop ${u.desktop}, room ${u.room}; export control: ${u.exportControl.state}`)
    return result
  }
}
