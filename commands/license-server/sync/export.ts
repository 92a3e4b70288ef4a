import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {syncExport, type SyncExportResult} from '../../../src/server/onprem.js'

export default class LicenseServerSyncExport extends XwayCommand<SyncExportResult> {
  static override description = 'At a disconnected On-Prem: write its signed synchronization request (usage, instances, the licenses it asks) for its CSSM'
  static override examples = [
    '<%= config.bin %> license-server sync export ./lab/onprem -o request.json',
    '<%= config.bin %> license-server sync export ./lab/onprem -o request.json --license rms=10 --license room=5',
  ]

  static override args = {dir: Args.string({required: true, description: 'On-Prem folder'})}
  static override flags = {
    output: Flags.string({char: 'o', required: true, description: 'the request file to write'}),
    license: Flags.string({multiple: true, description: 'TYPE=N (rms, room, desktop): licenses to ask the CSSM for; default what its units use and lack, and what it has'}),
  }

  async run(): Promise<SyncExportResult> {
    const {args, flags} = await this.parse(LicenseServerSyncExport)
    const result = await syncExport(args.dir, {output: flags.output, licenses: flags.license})
    this.say(`Request ${result.sequence} for virtual account ${result.virtualAccount} written to ${result.path}; answer it at the CSSM with \`xway license-server sync answer CSSM_DIR ${result.path} -o RESPONSE\`.`)
    return result
  }
}
