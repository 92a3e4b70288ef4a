import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {listOptionKeys, type OptionKeysListResult} from '../../src/lifecycle/option-keys.js'

export default class OptionKeysList extends XwayCommand<OptionKeysListResult> {
  static override description = 'List the option keys of a unit, with their feature and name'
  static override examples = ['<%= config.bin %> option-keys list ./units/vcs-c1', '<%= config.bin %> option-keys list ./units/vcs-c1 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<OptionKeysListResult> {
    const {args} = await this.parse(OptionKeysList)
    const result = await listOptionKeys(args.unit)
    if (result.optionKeys.length === 0) this.say('No option keys')
    for (const k of result.optionKeys) this.say(`${k.key}  ${k.feature}  ${k.name}`)
    return result
  }
}
