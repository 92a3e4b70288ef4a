import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {errorFor} from '../../src/errors.js'
import {type ConnectionTestResult, testUnitConnection} from '../../src/agent/queries.js'

export default class LicensingTestConnection extends XwayCommand<ConnectionTestResult> {
  static override description = `Connect over the configured transport (through the proxy with HTTP CONNECT), validate the chain against the agent trust store only, and report the chain presented.
Exit 6 when the connection fails or TLS is rejected (an intercepting proxy: "Unknown CA"): the verdict and its reason on stdout beside FAILED, with the chain presented; with --json the error carries the report (transport, target, via, ok, chain) as data.`
  static override examples = ['<%= config.bin %> licensing test-connection ./units/exp-c1', '<%= config.bin %> licensing test-connection ./units/exp-c1 --json | jq .chain']
  static override args = {unit: unitArg()}

  async run(): Promise<ConnectionTestResult> {
    const {args} = await this.parse(LicensingTestConnection)
    const result = await testUnitConnection(args.unit, now())
    this.say(`${result.ok ? 'OK' : 'FAILED'}: ${result.target}${result.via ? ` via proxy ${result.via}` : ''}${result.error ? ` — ${result.error.message}` : ''}`)
    for (const c of result.chain) this.say(`  presented: ${c.subject} (issued by ${c.issuer})\n             SHA-256 ${c.fingerprint}`)
    if (result.error) throw errorFor(result.error.code, result.error.message, {actions: result.error.actions, data: result})
    return result
  }
}
