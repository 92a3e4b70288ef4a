import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {init, type InitResult} from '../../src/server/admin.js'

export default class LicenseServerInit extends XwayCommand<InitResult> {
  static override description = 'Create a lab license server in DIR: SQLite database, lab CA, TLS certificate and reservation signing key; prints the path of DIR/ca.pem for profiles\' trustAnchors'
  static override examples = [
    '<%= config.bin %> license-server init ./lab/server',
    '<%= config.bin %> license-server init ./lab/server --hostname licensing.lab.example --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'folder of the license server (created if missing)'})}
  static override flags = {
    hostname: Flags.string({description: 'name (or IP) agents use to reach the server; added to the TLS certificate next to localhost and 127.0.0.1'}),
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(LicenseServerInit)
    const result = init(args.dir, {hostname: flags.hostname})
    this.say(`License server created in ${result.dir}`)
    this.say(`Lab CA (trust anchor for profiles): ${result.caPath}`)
    return result
  }
}
