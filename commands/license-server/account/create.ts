import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {accountCreate} from '../../../src/server/admin.js'

export interface AccountCreateResult {smartAccount: string; virtualAccount: string}

export default class LicenseServerAccountCreate extends XwayCommand<AccountCreateResult> {
  static override description = 'Create a virtual account (and its smart account, if new) on the license server'
  static override examples = [
    '<%= config.bin %> license-server account create ./lab/server --name "Example Corp" --virtual-account lab',
    '<%= config.bin %> license-server account create ./lab/server --name "Restricted Corp" --virtual-account lab2 --no-export-control',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    name: Flags.string({required: true, description: 'smart account name'}),
    'virtual-account': Flags.string({required: true, description: 'virtual account name (unique on the server)'}),
    'export-control': Flags.boolean({default: true, allowNo: true, description: 'the smart account is permitted export-controlled functionality (--no-export-control: its tokens are always "Not Allowed")'}),
  }

  async run(): Promise<AccountCreateResult> {
    const {args, flags} = await this.parse(LicenseServerAccountCreate)
    const result = await accountCreate(args.dir, {name: flags.name, virtualAccount: flags['virtual-account'], exportControl: flags['export-control']})
    this.say(`Virtual account ${result.virtualAccount} created in smart account ${result.smartAccount}` +
      (flags['export-control'] ? '' : ' (not permitted export-controlled functionality: its tokens are "Not Allowed")'))
    return result
  }
}
