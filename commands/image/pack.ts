import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {packUnit, type PackResult} from '../../src/lifecycle/archive.js'

export default class ImagePack extends XwayCommand<PackResult> {
  static override description = 'Pack a unit into a reproducible .tar.gz (fixed mtimes, owners and order; lock and journal left out)'
  static override examples = ['<%= config.bin %> image pack ./units/exp-c1 -o exp-c1.tar.gz']
  static override args = {unit: unitArg()}
  static override flags = {output: Flags.string({char: 'o', required: true, description: 'archive to write (.tar.gz)'})}

  async run(): Promise<PackResult> {
    const {args, flags} = await this.parse(ImagePack)
    const result = await this.progress.step(`Packing ${args.unit}`, () => packUnit(args.unit, flags.output))
    this.say(`Packed ${result.files} files (${result.bytes} bytes) into ${result.file}`)
    return result
  }
}
