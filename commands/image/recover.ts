import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {recoverUnit} from '../../src/areas/open.js'
import type {RecoverResult} from '../../src/unit/store.js'

export default class ImageRecover extends XwayCommand<RecoverResult & {unit: string}> {
  static override description = 'Finish (journal committed) or roll back (not committed) an interrupted operation'
  static override examples = ['<%= config.bin %> image recover ./units/exp-c1']
  static override args = {unit: unitArg()}

  async run(): Promise<RecoverResult & {unit: string}> {
    const {args} = await this.parse(ImageRecover)
    const result = await recoverUnit(args.unit)
    if (result.action === 'none') this.say(`${args.unit}: nothing to recover`)
    else if (result.action === 'rolled-forward') this.say(`${args.unit}: finished the interrupted ${result.command}`)
    else this.say(`${args.unit}: rolled back an operation interrupted before it committed; the unit is as it was`)
    return {unit: args.unit, ...result}
  }
}
