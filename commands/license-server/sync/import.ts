import {Args} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {syncImport, type SyncImportResult} from '../../../src/server/onprem.js'

export default class LicenseServerSyncImport extends XwayCommand<SyncImportResult> {
  static override description = 'At a disconnected On-Prem: import the CSSM\'s signed response to its latest request; its pool becomes what the CSSM allocated'
  static override examples = ['<%= config.bin %> license-server sync import ./lab/onprem response.json']
  static override args = {
    dir: Args.string({required: true, description: 'On-Prem folder'}),
    response: Args.string({required: true, description: 'the CSSM\'s response file'}),
  }

  async run(): Promise<SyncImportResult> {
    const {args} = await this.parse(LicenseServerSyncImport)
    const result = await syncImport(args.dir, args.response)
    this.say(`Synchronized (request ${result.sequence}, ${result.lastSyncAt}): virtual account ${result.virtualAccount} holds rms ${result.licenses.rms}, room ${result.licenses.room}, desktop ${result.licenses.desktop}.`)
    return result
  }
}
