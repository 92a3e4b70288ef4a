import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {FailedError} from '../../src/errors.js'
import {type VerifyResult, verifyUnit} from '../../src/report/verify.js'

/** One problem of an unsound unit, as `--json` prints it in `error.data`. */
export interface VerifyProblemJson {
  path: string
  area: string | null
  problem: string
}

/** Whatever shape verifyUnit gives a problem (`problem` or the older `message`), as printed. */
function problemOf(p: {path: string; area?: string | null; problem?: string; message?: string}): VerifyProblemJson {
  return {path: p.path, area: p.area ?? null, problem: p.problem ?? p.message ?? ''}
}

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
    for (const w of result.warnings as Parameters<typeof problemOf>[0][]) this.warnLine(`${w.path}: ${problemOf(w).problem}`)
    if (!result.ok) {
      const problems = (result.problems as Parameters<typeof problemOf>[0][]).map(problemOf)
      throw new FailedError(`${args.unit} is not sound: ${problems.length} problem(s).`, {
        actions: problems.map((p) => `${p.path}${p.area ? ` [${p.area}]` : ''}: ${p.problem}`),
        data: problems,
      })
    }
    this.say(`${args.unit}: sound`)
    return result
  }
}
