import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {cidr, unitArg} from '../../src/cli/flags.js'
import {type MgmtResult, setMgmt} from '../../src/lifecycle/network.js'

export default class NetworkMgmt extends XwayCommand<MgmtResult> {
  static override description = 'Turn the dedicated management interface on (with an address) or off'
  static override examples = ['<%= config.bin %> network mgmt ./units/exp-c1 --address 198.51.100.10/24', '<%= config.bin %> network mgmt ./units/exp-c1 --off']
  static override args = {unit: unitArg()}
  static override flags = {
    address: cidr({description: 'management address with prefix length (CIDR)', exclusive: ['off']}),
    off: Flags.boolean({description: 'turn the dedicated management interface off', exclusive: ['address']}),
  }

  async run(): Promise<MgmtResult> {
    const {args, flags} = await this.parse(NetworkMgmt)
    const result = await setMgmt(args.unit, {address: flags.address, off: flags.off})
    this.say(result.mgmt.enabled ? `Management interface on: ${result.mgmt.address}` : 'Management interface off')
    return result
  }
}
