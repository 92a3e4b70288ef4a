import * as Args from '@oclif/core/args'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {removeOptionKey, type OptionKeyChangeResult} from '../../src/lifecycle/option-keys.js'

export default class OptionKeysRemove extends XwayCommand<OptionKeyChangeResult> {
  static override description = `Remove an option key

A key that is not installed is bad input (exit 4). The Advanced Account Security key (J00) cannot be removed while FIPS 140 mode is on (exit 3). Microsoft Interoperability (C00) removed from an Expressway X14.2 cannot be added again.`
  static override examples = [
    '<%= config.bin %> option-keys remove ./units/vcs-c1 116341C00-1-0A1B2C3D',
    '<%= config.bin %> option-keys remove ./units/vcs-c1 116341C00-1-0A1B2C3D --json',
  ]
  static override args = {
    unit: unitArg(),
    key: Args.string({required: true, description: 'the option key'}),
  }

  async run(): Promise<OptionKeyChangeResult> {
    const {args} = await this.parse(OptionKeysRemove)
    const result = await removeOptionKey(args.unit, args.key)
    for (const w of result.warnings) this.warnLine(w)
    this.say(`Removed ${result.key}`)
    return result
  }
}
