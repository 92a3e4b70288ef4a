import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {onpremLink, type OnPremLinkResult} from '../../../src/server/onprem.js'
import {checkTokenAtCssm} from '../../../src/server/onprem-client.js'

export default class LicenseServerOnpremLink extends XwayCommand<OnPremLinkResult> {
  static override description = 'At an On-Prem: the CSSM virtual account it serves and a token of it (made at the CSSM); connected, the CSSM checks the token now, ' +
    'disconnected, the token goes with the first synchronization request'

  static override examples = [
    '<%= config.bin %> license-server onprem link ./lab/onprem --virtual-account lab --token NjA4…',
    '<%= config.bin %> license-server onprem link ./lab/onprem --virtual-account lab --token NjA4… --cssm-ca ./cssm-ca.pem    # disconnected: pin the CSSM',
  ]

  static override args = {dir: Args.string({required: true, description: 'On-Prem folder'})}
  static override flags = {
    'virtual-account': Flags.string({required: true, description: 'the CSSM virtual account this On-Prem serves'}),
    token: Flags.string({required: true, description: 'a registration token of that virtual account, made at the CSSM'}),
    'cssm-ca': Flags.string({description: 'disconnected: the CSSM\'s lab CA (its DIR/ca.pem), so that only its responses are imported; default: the CA of the first response'}),
  }

  async run(): Promise<OnPremLinkResult> {
    const {args, flags} = await this.parse(LicenseServerOnpremLink)
    const result = await onpremLink(args.dir, {virtualAccount: flags['virtual-account'], token: flags.token, cssmCa: flags['cssm-ca']}, checkTokenAtCssm)
    this.say(`On-Prem ${result.onPremId.slice(0, 16)}… serves the CSSM virtual account ${result.virtualAccount} (${result.mode}${result.checked ? ', token checked by the CSSM' : ', token sent with the first request'}).`)
    return result
  }
}
