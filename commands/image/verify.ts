import {Args} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {FailedError} from '../../src/errors.js'
import {verifyUnit, type VerifyResult} from '../../src/report/verify.js'

export default class ImageVerify extends XwayCommand<VerifyResult> {
  static override description = 'Check a unit: structure, formats, permissions, key/certificate pairs, no half-done operation (exit 0 only when sound)'
  static override examples = ['<%= config.bin %> image verify ./units/exp-c1', '<%= config.bin %> image verify ./units/exp-c1 --json']
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}

  async run(): Promise<VerifyResult> {
    const {args} = await this.parse(ImageVerify)
    const result = await verifyUnit(args.unit)
    for (const w of result.warnings) this.warnLine(`${w.path}: ${w.problem}`)
    if (!result.ok) {
      throw new FailedError(`${args.unit} is not sound: ${result.problems.length} problem(s).`, {
        actions: result.problems.map((p) => `${p.path}${p.area ? ` [${p.area}]` : ''}: ${p.problem}`),
      })
    }
    this.say(`${args.unit}: sound`)
    return result
  }
}
