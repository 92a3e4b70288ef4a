import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {duration} from '../../../src/cli/flags.js'
import {tokenCreate, type TokenCreateResult} from '../../../src/server/admin.js'

export default class LicenseServerTokenCreate extends XwayCommand<TokenCreateResult> {
  static override description = 'Create a product instance registration token for a virtual account (shown once; the server keeps only its hash)'
  static override examples = [
    '<%= config.bin %> license-server token create ./lab/server --virtual-account lab',
    '<%= config.bin %> license-server token create ./lab/server --virtual-account lab --expires-in 12h --uses 4 --json',
    '<%= config.bin %> license-server token create ./lab/server --virtual-account lab --no-export-controlled',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    'virtual-account': Flags.string({required: true, description: 'virtual account the registered units join'}),
    'expires-in': duration({default: '30d', min: '1s', max: '365d', description: 'lifetime: 30d, 12h, 90m, 2w (at most 365d)'}),
    uses: Flags.integer({min: 1, description: 'how many registrations it allows (default: unlimited)'}),
    description: Flags.string({description: 'what the token is for (shown in the portal and by `token list`)'}),
    'export-controlled': Flags.boolean({default: true, allowNo: true, description: 'allow export-controlled functionality on the products registered with this token'}),
  }

  async run(): Promise<TokenCreateResult> {
    const {args, flags} = await this.parse(LicenseServerTokenCreate)
    const result = await tokenCreate(args.dir, {
      virtualAccount: flags['virtual-account'], expiresIn: flags['expires-in'], uses: flags.uses, exportControlled: flags['export-controlled'], description: flags.description,
    })
    this.say(result.token)
    this.say(`expires ${result.expiresAt}; uses: ${result.uses ?? 'unlimited'}; export-controlled functionality: ${result.exportControlled ? 'Allowed' : 'Not Allowed'}`)
    return result
  }
}
