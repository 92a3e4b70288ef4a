import {Args} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {serverStatus, syncWarning, type ServerStatus} from '../../src/server/admin.js'

export default class LicenseServerStatus extends XwayCommand<ServerStatus> {
  static override description = 'What the license server is (CSSM or On-Prem) and, for an On-Prem, its synchronization: mode, last and next, overdue after 30 days'
  static override examples = ['<%= config.bin %> license-server status ./lab/onprem --json']
  static override args = {dir: Args.string({required: true, description: 'license server folder'})}

  async run(): Promise<ServerStatus> {
    const {args} = await this.parse(LicenseServerStatus)
    const result = await serverStatus(args.dir)
    this.say(`Role: ${result.role === 'cssm' ? 'CSSM' : 'SSM On-Prem'}`)
    if (result.sync) {
      this.say(`Synchronization: ${result.sync.mode}; last ${result.sync.lastSyncAt ?? 'never'}; next ${result.sync.nextSyncAt}`)
      const warning = syncWarning(result)
      if (warning) this.warnLine(warning)
    }
    return result
  }
}
