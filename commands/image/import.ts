import {Args} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import type {ImportResult} from '../../src/disk/import.js'
import {importImageUnit} from '../../src/lifecycle/disk-image.js'

export default class ImageImport extends XwayCommand<ImportResult> {
  static override description = 'Import a disk image (raw, qcow2, vmdk or ova, recognised by content) into a new unit folder; hostile images are refused before anything is written'
  static override examples = [
    '<%= config.bin %> image import exp-c1.ova ./units/exp-c1-copy',
    '<%= config.bin %> image import disk.qcow2 ./units/exp-c1 --json',
  ]
  static override args = {
    file: Args.string({required: true, description: 'disk image file'}),
    unit: Args.string({required: true, description: 'path of the new unit (must not exist, or be empty)'}),
  }

  async run(): Promise<ImportResult> {
    const {args} = await this.parse(ImageImport)
    const result = await this.progress.step(`Importing ${args.file}`, () => importImageUnit(args.file, args.unit))
    this.say(`Imported ${result.files} files (${result.bytes} bytes) from ${result.file} (${result.format}) into ${result.unit}`)
    return result
  }
}
