import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {onPremUrl, proxyAddress, secretFile, unitArg} from '../../src/cli/flags.js'
import {setTransport, type TransportResult} from '../../src/agent/transport.js'

export default class LicensingTransport extends XwayCommand<TransportResult> {
  static override description = 'Choose how the smart licensing agent reaches the license server: Direct (needs DNS), Smart Software Manager On-Prem (https://…/SmartTransport), or an HTTP proxy that tunnels (CONNECT) to the Direct endpoint. Switching between Direct and On-Prem while registered is refused: deregister first.'
  static override examples = [
    '<%= config.bin %> licensing transport ./units/exp-c1 --on-prem https://ssm.lab.example/SmartTransport',
    '<%= config.bin %> licensing transport ./units/exp-c1 --proxy 192.0.2.80:3128 --proxy-user lic --proxy-password-file ./proxy.pw',
    '<%= config.bin %> licensing transport ./units/exp-c1 --direct --hide-identity',
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    direct: Flags.boolean({description: 'Direct: straight to Cisco (the lab profile\'s directUrl); the unit needs DNS servers', exclusive: ['on-prem', 'proxy']}),
    'on-prem': onPremUrl({description: 'Smart Software Manager On-Prem: its exact Smart Transport URL, https://<host>/SmartTransport', exclusive: ['direct', 'proxy']}),
    proxy: proxyAddress({description: 'HTTP proxy HOST:PORT, tunnelling (CONNECT) to the Direct endpoint', exclusive: ['direct', 'on-prem']}),
    'proxy-user': Flags.string({description: 'user name for the proxy (Basic authentication)'}),
    'proxy-password-file': secretFile({description: 'file holding the proxy password on its first line (stored encrypted under the unit\'s bootstrap key, never shown)'}),
    'hide-identity': Flags.boolean({description: '"Do not share my hostname or IP address with Cisco"', exclusive: ['share-identity']}),
    'share-identity': Flags.boolean({description: 'send the hostname and IP address again', exclusive: ['hide-identity']}),
  }

  async run(): Promise<TransportResult> {
    const {args, flags} = await this.parse(LicensingTransport)
    const result = await setTransport(args.unit, {
      mode: flags.direct ? 'direct' : flags['on-prem'] !== undefined ? 'on-prem' : flags.proxy !== undefined ? 'proxy' : undefined,
      url: flags['on-prem'],
      proxy: flags.proxy,
      proxyUser: flags['proxy-user'],
      proxyPasswordFile: flags['proxy-password-file']?.path,
      hideIdentity: flags['hide-identity'] ? true : flags['share-identity'] ? false : undefined,
    })
    const t = result.transport
    this.say(`${result.changed.length > 0 ? 'Transport set' : 'Transport unchanged'}: ${t.mode} ${t.url ?? ''}${t.proxy ? ` via proxy ${t.proxy.host}:${t.proxy.port}` : ''}${result.hideIdentity ? ' (hostname and IP address not shared)' : ''}`)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
