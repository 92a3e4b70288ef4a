import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {pool} from '../../src/server/admin.js'
import type {PoolView} from '../../src/server/store.js'
import {LICENSE_TYPE_NAMES} from '../../src/licensing/license-types.js'

export default class LicenseServerPool extends XwayCommand<PoolView> {
  static override description = 'Licenses of a virtual account: owned, in use, reserved, in transit, available, shortage'
  static override examples = ['<%= config.bin %> license-server pool ./lab/server --virtual-account lab --json']
  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {'virtual-account': Flags.string({required: true, description: 'virtual account'})}

  async run(): Promise<PoolView> {
    const {args, flags} = await this.parse(LicenseServerPool)
    const result = await pool(args.dir, {virtualAccount: flags['virtual-account']})
    this.say(`Virtual account ${result.virtualAccount}`)
    this.say(`${'License'.padEnd(24)}${'Owned'.padStart(8)}${'In use'.padStart(8)}${'Reserved'.padStart(10)}${'Transit'.padStart(9)}${'Avail.'.padStart(8)}${'Short'.padStart(8)}`)
    for (const l of result.licenses) {
      this.say(`${LICENSE_TYPE_NAMES[l.type].padEnd(24)}${String(l.owned).padStart(8)}${String(l.inUse).padStart(8)}${String(l.reserved).padStart(10)}${String(l.inTransit).padStart(9)}${String(l.available).padStart(8)}${String(l.shortage).padStart(8)}`)
    }
    return result
  }
}
