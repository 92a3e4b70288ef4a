import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {init, type InitResult} from '../../src/server/admin.js'

export default class LicenseServerInit extends XwayCommand<InitResult> {
  static override description = 'Create a lab license server in DIR: lab CA, TLS certificate and reservation signing key, and its database ' +
    '(SQLite in DIR, or PostgreSQL with --database); prints the path of DIR/ca.pem for profiles\' trustAnchors.\n' +
    'The PostgreSQL password is never given on the command line nor kept in DIR: set PGPASSWORD or a PGPASSFILE.'

  static override examples = [
    '<%= config.bin %> license-server init ./lab/server',
    '<%= config.bin %> license-server init ./lab/server --hostname licensing.lab.example --json',
    'PGPASSWORD=… <%= config.bin %> license-server init ./lab/server --database postgres://xway@db.lab.example:5432/licensing',
    '<%= config.bin %> license-server init ./lab/onprem --on-prem --cssm https://cssm.lab.example:8443/ --cssm-ca ./lab/server/ca.pem --sync-interval 7d',
    '<%= config.bin %> license-server init ./lab/onprem --on-prem    # disconnected: synchronizes by files',
  ]

  static override args = {dir: Args.string({required: true, description: 'folder of the license server (created if missing)'})}
  static override flags = {
    hostname: Flags.string({description: 'name (or IP) agents use to reach the server; added to the TLS certificate next to localhost and 127.0.0.1'}),
    database: Flags.string({description: 'keep the state in this (empty) PostgreSQL database: postgres://USER@HOST:PORT/DB, without password'}),
    'on-prem': Flags.boolean({description: 'make an SSM On-Prem of a CSSM (its licenses are what the CSSM allocates at each synchronization)'}),
    cssm: Flags.string({dependsOn: ['on-prem', 'cssm-ca'], description: 'connected On-Prem: the CSSM\'s https URL'}),
    'cssm-ca': Flags.string({dependsOn: ['on-prem', 'cssm'], description: 'connected On-Prem: the CSSM\'s lab CA (its DIR/ca.pem)'}),
    'sync-interval': Flags.string({dependsOn: ['on-prem'], options: ['30d', '7d'], description: 'how often the On-Prem synchronizes (default 30d)'}),
  }

  async run(): Promise<InitResult> {
    const {args, flags} = await this.parse(LicenseServerInit)
    const onPrem = flags['on-prem'] ? {cssm: flags.cssm, cssmCa: flags['cssm-ca'], syncInterval: flags['sync-interval']} : undefined
    const result = await init(args.dir, {hostname: flags.hostname, database: flags.database, onPrem})
    this.say(`License server created in ${result.dir}`)
    this.say(`Lab CA (trust anchor for profiles): ${result.caPath}`)
    this.say(`Portal users: none yet; add one with \`xway license-server user add ${args.dir} --name NAME\`, then open https://HOST:PORT/portal/ once started.`)
    return result
  }
}
