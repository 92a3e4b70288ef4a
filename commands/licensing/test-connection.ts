import {Args} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {now} from '../../src/clock.js'
import {exitCodeFor} from '../../src/errors.js'
import {type ConnectionTestResult, testUnitConnection} from '../../src/agent/queries.js'

export default class LicensingTestConnection extends XwayCommand<ConnectionTestResult> {
  static override description = `Connect over the configured transport (through the proxy with HTTP CONNECT), validate the chain against the agent trust store only, and report the chain presented.
Exit 6 when the connection fails or TLS is rejected (an intercepting proxy: "Unknown CA"); the report is printed either way (the reason on stdout beside FAILED), with "error" set.`
  static override examples = ['<%= config.bin %> licensing test-connection ./units/exp-c1', '<%= config.bin %> licensing test-connection ./units/exp-c1 --json | jq .chain']
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}

  async run(): Promise<ConnectionTestResult> {
    const {args} = await this.parse(LicensingTestConnection)
    const result = await testUnitConnection(args.unit, now())
    this.say(`${result.ok ? 'OK' : 'FAILED'}: ${result.target}${result.via ? ` via proxy ${result.via}` : ''}${result.error ? ` — ${result.error.message}` : ''}`)
    for (const c of result.chain) this.say(`  presented: ${c.subject} (issued by ${c.issuer})\n             SHA-256 ${c.fingerprint}`)
    if (result.error) {
      for (const a of result.error.actions) this.say(`  → ${a}`)
      process.exitCode = exitCodeFor(result.error.code)
    }
    return result
  }
}
