import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {inspectLines} from '../../src/cli/unit-render.js'
import {now} from '../../src/clock.js'
import {inspectUnit, type InspectResult} from '../../src/report/inspect.js'

export default class ImageInspect extends XwayCommand<InspectResult> {
  static override description = 'Show everything about a unit: identity, network, keys, certificates, users, option keys, licensing, usage, logs, alarms'
  static override examples = ['<%= config.bin %> image inspect ./units/exp-c1', '<%= config.bin %> image inspect ./units/exp-c1 --json | jq .licensing.registration.status']
  static override args = {unit: unitArg()}

  async run(): Promise<InspectResult> {
    const {args} = await this.parse(ImageInspect)
    const r = await inspectUnit(args.unit, now())
    if (!this.jsonEnabled()) for (const line of inspectLines(r)) this.say(line)
    return r
  }
}
