import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {enterFips, type FipsChangeResult} from '../../src/lifecycle/fips.js'

export default class FipsEnter extends XwayCommand<FipsChangeResult> {
  static override description = `Enter FIPS 140 mode

Refused on an export-restricted Expressway X14.2 ("FIPS140-2 cryptographic mode is not available under export control"); VCS, Expressway Select and Expressway before X14.2 need the Advanced Account Security key (116341J00-…). Re-keys what FIPS does not approve: ssh host keys (RSA ≥ 3072 and ECDSA P-256/P-384 kept, ed25519 and DSA removed, missing ones generated) and the server key (RSA ≥ 2048 with SHA-256, re-issued if not). From then on every key, hash and cipher of the unit and its backups follows the FIPS policy.`
  static override examples = ['<%= config.bin %> fips enter ./units/vcs-c1', '<%= config.bin %> fips enter ./units/vcs-c1 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<FipsChangeResult> {
    const {args} = await this.parse(FipsEnter)
    const result = await enterFips(args.unit, now())
    if (!result.changed) this.say(`${args.unit}: FIPS 140 mode is already on: nothing to do`)
    else {
      for (const t of result.rekeyed.sshKeysRemoved) this.say(`removed ssh host key ${t}`)
      for (const t of result.rekeyed.sshKeysGenerated) this.say(`generated ssh host key ${t}`)
      if (result.rekeyed.serverCertificateReissued) this.say('re-issued the server certificate (RSA, SHA-256)')
      this.say(`${args.unit}: FIPS 140 mode is on`)
    }
    return result
  }
}
