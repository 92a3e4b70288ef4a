import * as Args from '@oclif/core/args'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {unpackUnit, type UnpackResult} from '../../src/lifecycle/archive.js'

export default class ImageUnpack extends XwayCommand<UnpackResult> {
  static override description = 'Unpack an archive into a new unit (refuses absolute paths, "..", links leaving the unit, devices)'
  static override examples = ['<%= config.bin %> image unpack exp-c1.tar.gz ./units/exp-c1-copy']
  static override args = {
    file: Args.string({required: true, description: 'archive (.tar.gz)'}),
    unit: unitArg('path of the new unit'),
  }

  async run(): Promise<UnpackResult> {
    const {args} = await this.parse(ImageUnpack)
    const result = await this.progress.step(`Unpacking ${args.file}`, () => unpackUnit(args.file, args.unit))
    this.say(`Unpacked ${result.files} files (${result.bytes} bytes) into ${result.unit}`)
    return result
  }
}
