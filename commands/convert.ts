import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../src/cli/base.js'
import {unitArg} from '../src/cli/flags.js'
import {now} from '../src/clock.js'
import {convertUnit, type ConvertResult} from '../src/lifecycle/convert.js'

export default class Convert extends XwayCommand<ConvertResult> {
  static override description = `Service Select: convert a VCS to the Expressway Series (--type), change the type of an Expressway (C ↔ E), or go back to VCS (--to vcs)

On X14.2 a VCS converted to Expressway turns smart licensing on (Direct transport, the 90-day evaluation starts now), and its option keys are removed except Microsoft Interoperability (C00), which is kept (Expressway Select keeps its keys). Going back to VCS is refused once smart licensing is on: that takes a factory reset without -v.`
  static override examples = [
    '<%= config.bin %> convert ./units/vcs-c1 --type expressway-c',
    '<%= config.bin %> convert ./units/exp-c1 --type expressway-e --json',
    '<%= config.bin %> convert ./units/exp-legacy1 --to vcs',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    type: Flags.string({description: 'type to convert to (on a VCS: the Expressway type it becomes)', options: ['expressway-c', 'expressway-e']}),
    to: Flags.string({description: 'series to convert to (default with --type: expressway)', options: ['expressway', 'vcs']}),
  }

  async run(): Promise<ConvertResult> {
    const {args, flags} = await this.parse(Convert)
    const type = flags.type === 'expressway-e' ? 'Expressway-E' : flags.type === 'expressway-c' ? 'Expressway-C' : undefined
    const result = await convertUnit(args.unit, {to: flags.to as 'expressway' | 'vcs' | undefined, type}, now())
    for (const w of result.warnings) this.warnLine(w)
    if (!result.changed) this.say(`${args.unit} already is ${result.to.brand} ${result.to.type}: nothing to do`)
    else {
      this.say(`Converted ${args.unit}: ${result.from.brand} ${result.from.type} → ${result.to.brand} ${result.to.type}`)
      if (result.licensing.turnedOn) this.say(`Smart licensing is on (Direct); the 90-day evaluation started ${result.licensing.evaluationStartedAt}`)
    }
    return result
  }
}
