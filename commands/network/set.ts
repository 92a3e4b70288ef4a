import {XwayCommand} from '../../src/cli/base.js'
import {cidr, domainName, hostname, ipAddress, unitArg} from '../../src/cli/flags.js'
import {type NetworkResult, setNetwork} from '../../src/lifecycle/network.js'

export default class NetworkSet extends XwayCommand<NetworkResult> {
  static override description = 'Change the IP configuration: hostname, domain, DNS servers, LAN1 address and gateway (a changed hostname reaches the licensing server at the next registration renewal)'
  static override examples = [
    '<%= config.bin %> network set ./units/exp-c1 --hostname exp-c1 --domain lab.example',
    '<%= config.bin %> network set ./units/exp-c1 --dns 192.0.2.53 --dns 192.0.2.54',
    '<%= config.bin %> network set ./units/exp-c1 --lan1 192.0.2.10/24 --gateway 192.0.2.1',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    hostname: hostname({description: 'host name'}),
    domain: domainName({description: 'domain name (empty: none)'}),
    dns: ipAddress({description: 'DNS server address (repeat for several)', multiple: true}),
    lan1: cidr({description: 'LAN1 address with prefix length (CIDR)'}),
    gateway: ipAddress({description: 'LAN1 default gateway, in the subnet of LAN1'}),
  }

  async run(): Promise<NetworkResult> {
    const {args, flags} = await this.parse(NetworkSet)
    const result = await setNetwork(args.unit, {hostname: flags.hostname, domain: flags.domain, dns: flags.dns, lan1: flags.lan1, gateway: flags.gateway})
    this.say(result.changed.length > 0 ? `Changed: ${result.changed.join(', ')}` : 'Nothing changed')
    return result
  }
}
