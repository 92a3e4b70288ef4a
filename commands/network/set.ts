import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {type NetworkResult, setNetwork} from '../../src/lifecycle/network.js'

export default class NetworkSet extends XwayCommand<NetworkResult> {
  static override description = 'Change the IP configuration: hostname, domain, DNS servers, LAN1 address and gateway (a changed hostname reaches the licensing server at the next registration renewal)'
  static override examples = [
    '<%= config.bin %> network set ./units/exp-c1 --hostname exp-c1 --domain lab.example',
    '<%= config.bin %> network set ./units/exp-c1 --dns 192.0.2.53 --dns 192.0.2.54',
    '<%= config.bin %> network set ./units/exp-c1 --lan1 192.0.2.10/24 --gateway 192.0.2.1',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the unit'})}
  static override flags = {
    hostname: Flags.string({description: 'host name'}),
    domain: Flags.string({description: 'domain name'}),
    dns: Flags.string({description: 'DNS server (repeat for several)', multiple: true}),
    lan1: Flags.string({description: 'LAN1 address with prefix length (CIDR)'}),
    gateway: Flags.string({description: 'LAN1 default gateway'}),
  }

  async run(): Promise<NetworkResult> {
    const {args, flags} = await this.parse(NetworkSet)
    const result = await setNetwork(args.unit, {hostname: flags.hostname, domain: flags.domain, dns: flags.dns, lan1: flags.lan1, gateway: flags.gateway})
    this.say(result.changed.length > 0 ? `Changed: ${result.changed.join(', ')}` : 'Nothing changed')
    return result
  }
}
