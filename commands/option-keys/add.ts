import * as Args from '@oclif/core/args'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {addOptionKey, type OptionKeyChangeResult} from '../../src/lifecycle/option-keys.js'

export default class OptionKeysAdd extends XwayCommand<OptionKeyChangeResult> {
  static override description = `Add an option key (116341<feature>-<m>-<8 characters>)

VCS, Expressway Select and Expressway before X14.2 accept keys. On an Expressway X14.2 (standard edition) adding any key is refused, and Microsoft Interoperability (C00) cannot be added from X14.2. A key already installed changes nothing (exit 0).`
  static override examples = [
    '<%= config.bin %> option-keys add ./units/vcs-c1 116341J00-1-4E5F6A7B',
    '<%= config.bin %> option-keys add ./units/exp-legacy1 116341C00-1-0A1B2C3D --json',
  ]
  static override args = {
    unit: unitArg(),
    key: Args.string({required: true, description: 'the option key'}),
  }

  async run(): Promise<OptionKeyChangeResult> {
    const {args} = await this.parse(OptionKeysAdd)
    const result = await addOptionKey(args.unit, args.key)
    for (const w of result.warnings) this.warnLine(w)
    this.say(result.changed ? `Added ${result.key}` : `${result.key} is already installed: nothing to do`)
    return result
  }
}
