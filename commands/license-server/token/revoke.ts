import {Args} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {tokenRevoke} from '../../../src/server/admin.js'
import type {TokenView} from '../../../src/server/store.js'

export default class LicenseServerTokenRevoke extends XwayCommand<TokenView> {
  static override description = 'Revoke a registration token: it registers no more product instances (those it registered stay)'
  static override examples = [
    '<%= config.bin %> license-server token revoke ./lab/server 3f9a0c1b2d4e',
  ]

  static override args = {
    dir: Args.string({required: true, description: 'license server folder'}),
    id: Args.string({required: true, description: 'token id, as `token list` shows it'}),
  }

  async run(): Promise<TokenView> {
    const {args} = await this.parse(LicenseServerTokenRevoke)
    const result = await tokenRevoke(args.dir, {id: args.id})
    this.say(`Token ${result.id} revoked at ${result.revokedAt}.`)
    return result
  }
}
