import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {tokenList} from '../../../src/server/admin.js'
import type {TokenView} from '../../../src/server/store.js'

export default class LicenseServerTokenList extends XwayCommand<{virtualAccount: string; tokens: TokenView[]}> {
  static override description = 'List the registration tokens of a virtual account, newest first (ids, never the tokens themselves)'
  static override examples = [
    '<%= config.bin %> license-server token list ./lab/server --virtual-account lab',
    '<%= config.bin %> license-server token list ./lab/server --virtual-account lab --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    'virtual-account': Flags.string({required: true, description: 'virtual account'}),
  }

  async run(): Promise<{virtualAccount: string; tokens: TokenView[]}> {
    const {args, flags} = await this.parse(LicenseServerTokenList)
    const result = await tokenList(args.dir, {virtualAccount: flags['virtual-account']})
    for (const t of result.tokens) {
      const state = t.revokedAt !== null ? `revoked ${t.revokedAt}` : `expires ${t.expiresAt}`
      this.say(`${t.id}  ${state}  uses: ${t.uses}${t.usesLeft === null ? '' : ` (${t.usesLeft} left)`}  export-controlled: ${t.exportControlled ? 'Allowed' : 'Not Allowed'}${t.description ? `  ${t.description}` : ''}`)
    }
    if (result.tokens.length === 0) this.say('No tokens.')
    return result
  }
}
