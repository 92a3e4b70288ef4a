import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {now} from '../../src/clock.js'
import {unitUsage, type UsageResult} from '../../src/agent/agent.js'

export default class LicensingUsage extends XwayCommand<UsageResult> {
  static override description = `License usage, as reported to CSSM or Smart Software Manager On-Prem every 6 hours: per license type the current usage and status (on a cluster peer also what it reports and what it borrows from peers), the last report and the next.
--refresh is "Update usage details": one usage report now (it never moves the authorization's expiry). Exit 3 with --refresh on a unit that is not registered or holds a reservation; exit 6 when the server cannot be reached (recorded, retried in 15 minutes).`
  static override examples = [
    '<%= config.bin %> licensing usage ./units/exp-c1',
    '<%= config.bin %> licensing usage ./units/exp-c1 --refresh',
    'XWAY_NOW=2026-01-02T06:00:00Z <%= config.bin %> licensing usage ./units/exp-c1 --json | jq .licenses',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}
  static override flags = {
    refresh: Flags.boolean({description: 'Update usage details: report the usage to the license server now'}),
  }

  async run(): Promise<UsageResult> {
    const {args, flags} = await this.parse(LicensingUsage)
    const result = await unitUsage(args.unit, {refresh: flags.refresh}, now())
    if (result.refreshed) this.say('Usage reported.')
    if (result.licenses.length === 0) this.say('No license type is in use.')
    for (const l of result.licenses) {
      const cluster = l.reported === undefined ? '' : ` (reports ${l.reported}, borrows ${l.borrowed} from peers)`
      this.say(`${l.type}: ${l.inUse} in use, ${l.status}${cluster}`)
    }
    this.say(`Last reported: ${result.lastReportedAt ?? 'never'}; next report: ${result.nextReportAt ?? 'none (the unit reports usage only while registered)'}`)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
