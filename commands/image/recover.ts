import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {P, unitPath} from '../../src/unit/paths.js'
import {openUnit} from '../../src/unit/unit.js'
import {recoverUnit, type RecoverResult} from '../../src/unit/transaction.js'

export default class ImageRecover extends XwayCommand<RecoverResult & {unit: string}> {
  static override description = 'Finish (journal committed) or roll back (not committed) an interrupted operation'
  static override examples = ['<%= config.bin %> image recover ./units/exp-c1']
  static override args = {unit: unitArg()}

  async run(): Promise<RecoverResult & {unit: string}> {
    const {args} = await this.parse(ImageRecover)
    // an interrupted operation may have moved product_info.xml aside: a journal is enough to recover
    const path = resolve(args.unit)
    if (!existsSync(unitPath(path, P.journal)) && !existsSync(unitPath(path, P.txnDir))) openUnit(path)
    const result = recoverUnit(path)
    if (result.action === 'none') this.say(`${args.unit}: nothing to recover`)
    else if (result.action === 'rolled-forward') this.say(`${args.unit}: finished the interrupted ${result.command}`)
    else this.say(`${args.unit}: rolled back an operation interrupted before it committed; the unit is as it was`)
    return {unit: args.unit, ...result}
  }
}
