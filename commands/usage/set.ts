import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {count, unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {setUsage, type UsageSetResult} from '../../src/lifecycle/usage.js'

export default class UsageSet extends XwayCommand<UsageSetResult> {
  static override description = `Set the current calls, registrations and WebRTC (a lab's stand-in for live traffic)

Never refuses: records the counts given (the others unchanged) and moves the export-control state with its hysteresis (limit 2500 calls + registrations, 2244 with WebRTC, none on Select; approaching from 90 %, reached at 100 %, and reached holds until the total is below the limit − 1 %, 2475), raising or clearing the export-control alarms.`
  static override examples = [
    '<%= config.bin %> usage set ./units/exp-c1 --calls 2000 --desktop 300 --room 200',
    '<%= config.bin %> usage set ./units/exp-c1 --webrtc on --json',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    calls: count({description: 'calls in progress (Rich Media Sessions)', min: 0}),
    desktop: count({description: 'desktop registrations', min: 0}),
    room: count({description: 'room registrations', min: 0}),
    webrtc: Flags.string({description: 'WebRTC on or off (on lowers the export-control limit to 2244)', options: ['on', 'off']}),
  }

  async run(): Promise<UsageSetResult> {
    const {args, flags} = await this.parse(UsageSet)
    const webrtc = flags.webrtc === undefined ? undefined : flags.webrtc === 'on'
    const result = await setUsage(args.unit, {calls: flags.calls, desktop: flags.desktop, room: flags.room, webrtc}, now())
    const u = result.usage
    this.say(`calls ${u.calls}, desktop ${u.desktop}, room ${u.room}, WebRTC ${u.webrtc ? 'on' : 'off'}; export control: ${u.exportControl.state} (limit ${u.exportControl.limit ?? 'none'})`)
    return result
  }
}
