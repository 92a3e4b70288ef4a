import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {problemLine, unsoundError} from '../../src/cli/unit-render.js'
import {type VerifyResult, verifyUnit} from '../../src/report/verify.js'

export default class ImageVerify extends XwayCommand<VerifyResult> {
  static override description = `Check a unit: structure, formats, permissions, key/certificate pairs, no half-done operation (exit 0 only when sound)
An unsound unit exits 1; with --json the error carries the problems as data: [{path, area, problem}].`
  static override examples = [
    '<%= config.bin %> image verify ./units/exp-c1',
    '<%= config.bin %> image verify ./units/exp-c1 --json',
    '<%= config.bin %> image verify ./units/exp-c1 --json | jq -r \'.error.data[]?.path\'',
  ]
  static override args = {unit: unitArg()}

  async run(): Promise<VerifyResult> {
    const {args} = await this.parse(ImageVerify)
    const result = await verifyUnit(args.unit)
    for (const w of result.warnings) this.warnLine(problemLine(w))
    if (!result.ok) throw unsoundError(args.unit, result)
    this.say(`${args.unit}: sound`)
    return result
  }
}
