import {XwayCommand} from '../src/cli/base.js'
import {unitArg} from '../src/cli/flags.js'
import {now} from '../src/clock.js'
import {bootUnit, type BootResult} from '../src/lifecycle/boot.js'

export default class Boot extends XwayCommand<BootResult> {
  static override description = 'Simulate a restart: regenerate missing ssh host keys and server certificate, run the licensing start checks, re-evaluate alarms'
  static override examples = ['<%= config.bin %> boot ./units/exp-c1', 'XWAY_NOW=2027-06-01T00:00:00Z <%= config.bin %> boot ./units/exp-c1 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<BootResult> {
    const {args} = await this.parse(Boot)
    const result = await bootUnit(args.unit, now())
    for (const r of result.regenerated) this.say(`regenerated ${r}`)
    for (const n of result.licensing) this.say(`licensing: ${n}`)
    this.say(`Booted ${args.unit}; ${result.alarms.length} alarm(s) active`)
    return result
  }
}
