import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {type DiffResult, diffUnits} from '../../src/report/diff.js'

export default class ImageDiff extends XwayCommand<DiffResult> {
  static override description = 'List the areas and files that differ between two units'
  static override examples = ['<%= config.bin %> image diff ./units/a ./units/b', '<%= config.bin %> image diff ./units/a ./units/b --json | jq .areas']
  static override args = {
    a: unitArg('first unit'),
    b: unitArg('second unit'),
  }

  async run(): Promise<DiffResult> {
    const {args} = await this.parse(ImageDiff)
    const result = await diffUnits(args.a, args.b)
    if (result.identical) this.say('identical')
    else {
      this.say(`areas: ${result.areas.join(', ') || '(files outside areas only)'}`)
      for (const f of result.files) this.say(`  ${f.change.padEnd(8)} ${f.path}${f.area ? `  [${f.area}]` : ''}`)
    }
    return result
  }
}
