import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import type {ExportResult} from '../../src/disk/export.js'
import {exportImage} from '../../src/lifecycle/disk-image.js'
import {parseDiskSize} from '../../src/disk/layout.js'

export default class ImageExport extends XwayCommand<ExportResult> {
  static override description = 'Write a unit as a VM disk image (GPT with root, tandberg and harddisk ext4 partitions): raw, qcow2, vmdk (streamOptimized) or ova, the same bytes for the same unit'
  static override examples = [
    '<%= config.bin %> image export ./units/exp-c1 -o exp-c1.ova',
    '<%= config.bin %> image export ./units/exp-c1 -o exp-c1.qcow2 --disk-size 40G',
    '<%= config.bin %> image export ./units/exp-c1 -o disk.bin --format raw --json',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}
  static override flags = {
    output: Flags.string({char: 'o', required: true, description: 'image file to write (outside the unit)'}),
    format: Flags.string({options: ['raw', 'qcow2', 'vmdk', 'ova'], description: 'image format [default: from the extension: .img/.raw, .qcow2, .vmdk, .ova]'}),
    'disk-size': Flags.string({default: '132G', description: 'size of the virtual disk (raw files are sparse)'}),
  }

  async run(): Promise<ExportResult> {
    const {args, flags} = await this.parse(ImageExport)
    const result = await exportImage(args.unit, flags.output, {
      format: flags.format as ExportResult['format'] | undefined,
      diskSize: parseDiskSize(flags['disk-size']),
      step: (title, work) => this.progress.step(title, work),
    })
    this.say(`Exported ${args.unit} to ${result.file} (${result.format}, ${result.bytes} bytes, disk ${result.diskSize} bytes)`)
    this.say(`sha256 ${result.sha256}`)
    return result
  }
}
