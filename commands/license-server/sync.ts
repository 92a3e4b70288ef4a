import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {loadServerFiles, serverStatus, syncWarning, type ServerStatus} from '../../src/server/admin.js'
import {syncNow} from '../../src/server/onprem-client.js'
import type {SyncImportResult} from '../../src/server/onprem.js'

export default class LicenseServerSync extends XwayCommand<SyncImportResult & {status: ServerStatus}> {
  static override description = 'At a connected On-Prem: synchronize with its CSSM now (request, answer and import over HTTPS in one step)'
  static override examples = [
    '<%= config.bin %> license-server sync ./lab/onprem --json',
    '<%= config.bin %> license-server sync ./lab/onprem --license rms=20',
  ]
  static override args = {dir: Args.string({required: true, description: 'On-Prem folder (made with --cssm)'})}
  static override flags = {
    license: Flags.string({multiple: true, description: 'TYPE=N (rms, room, desktop): licenses to ask the CSSM for; default what its units use and lack, and what it has'}),
  }

  async run(): Promise<SyncImportResult & {status: ServerStatus}> {
    const {args, flags} = await this.parse(LicenseServerSync)
    const result = await syncNow(args.dir, loadServerFiles(args.dir), {licenses: flags.license})
    const status = await serverStatus(args.dir)
    this.say(`Synchronized (request ${result.sequence}, ${result.lastSyncAt}): virtual account ${result.virtualAccount} holds rms ${result.licenses.rms}, room ${result.licenses.room}, desktop ${result.licenses.desktop}; next ${status.sync?.nextSyncAt}.`)
    const warning = syncWarning(status)
    if (warning) this.warnLine(warning)
    return {...result, status}
  }
}
