import {Args, Flags} from '@oclif/core'
import {UsageError} from '../../../src/errors.js'
import {XwayCommand} from '../../../src/cli/base.js'
import {secretFile} from '../../../src/cli/flags.js'
import {userAdd} from '../../../src/server/admin.js'

export default class LicenseServerUserAdd extends XwayCommand<{name: string}> {
  static override description = 'Add a user of the portal (https://HOST:PORT/portal/); the password is kept as a scrypt hash. There is no default user.'
  static override examples = [
    '<%= config.bin %> license-server user add ./lab/server --name admin          # asks for the password twice',
    '<%= config.bin %> license-server user add ./lab/server --name admin --password-file ./admin.pw --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    name: Flags.string({required: true, description: 'user name (letters, digits, . _ @ -)'}),
    'password-file': secretFile({description: 'file whose first line is the password (else a hidden prompt, twice, on a terminal)'}),
  }

  async run(): Promise<{name: string}> {
    const {args, flags} = await this.parse(LicenseServerUserAdd)
    let password = flags['password-file']?.reveal()
    if (password === undefined) {
      const first = await this.prompts.secret('Password: ')
      if (first === undefined) throw new UsageError('No password: give --password-file, or run on a terminal to be asked.')
      const again = await this.prompts.secret('Password again: ')
      if (again !== first) throw new UsageError('The two passwords differ; nothing was added.')
      password = first
    }
    const result = await userAdd(args.dir, {name: flags.name, password})
    this.say(`Portal user ${result.name} added.`)
    return result
  }
}
