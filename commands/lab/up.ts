import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {count} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {registerUnit} from '../../src/agent/agent.js'
import {parseDiskSize} from '../../src/disk/layout.js'
import {type LabFormat, labUp, type LabUpResult} from '../../src/lifecycle/lab.js'
import {renderLabTable} from './status.js'

export default class LabUp extends XwayCommand<LabUpResult> {
  static override description = 'Build and register every unit of a lab concurrently (an embedded license server by default); returns when all are built and registered'
  static override examples = [
    '<%= config.bin %> lab up profiles/demo-lab.yaml',
    '<%= config.bin %> lab up my-lab.yaml --out labs/my-lab --concurrency 4 --json',
    '<%= config.bin %> lab up profiles/demo-lab.yaml --format ova',
  ]
  static override args = {lab: Args.string({required: true, description: 'lab file (kind: Lab)'})}
  static override flags = {
    out: Flags.string({description: 'lab folder (units, embedded license server, lab.json) [default: lab-out/<lab name>]'}),
    concurrency: count({description: 'units built at once [default: number of cores]', min: 1}),
    format: Flags.string({options: ['raw', 'qcow2', 'ova'], description: 'also write each unit as a disk image of this format, units/NAME.img|.qcow2|.ova, which lab.json then names [default: folders only]'}),
    'disk-size': Flags.string({default: '132G', description: 'virtual disk size of the images of --format (raw files are sparse)'}),
  }

  async run(): Promise<LabUpResult> {
    const {args, flags} = await this.parse(LabUp)
    const result = await labUp(args.lab, {
      out: flags.out,
      concurrency: flags.concurrency,
      format: flags.format as LabFormat | undefined,
      diskSize: parseDiskSize(flags['disk-size']),
      at: now(),
      register: async (unit, token, at) => {
        await registerUnit(unit, {token}, at)
      },
      onProgress: (line) => this.progress.start(line),
    })
    this.progress.done()
    this.say(`Lab ${result.lab} is up in ${result.out}`)
    for (const line of renderLabTable(result.units)) this.say(line)
    if (result.licenseServer.embedded) {
      this.say(`License server state kept in ${result.licenseServer.dir}; serve it again with: xway license-server start ${result.licenseServer.dir} --port ${result.licenseServer.port}`)
    }
    return result
  }
}
