import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {pakAdd} from '../../../src/server/admin.js'
import type {PakView} from '../../../src/server/store.js'

export default class LicenseServerPakAdd extends XwayCommand<PakView> {
  static override description = 'Record classic (PAK) licenses of a virtual account, to be converted into smart licenses with `pak convert`'
  static override examples = ['<%= config.bin %> license-server pak add ./lab/server --virtual-account lab --pak 3AB9-77CD --type rms --count 20']
  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    'virtual-account': Flags.string({required: true, description: 'virtual account the PAK belongs to'}),
    pak: Flags.string({required: true, description: 'the Product Authorization Key'}),
    type: Flags.string({required: true, options: ['rms', 'room', 'desktop'], description: 'license type'}),
    count: Flags.integer({required: true, min: 1, description: 'how many licenses the PAK holds'}),
  }

  async run(): Promise<PakView> {
    const {args, flags} = await this.parse(LicenseServerPakAdd)
    const result = await pakAdd(args.dir, {virtualAccount: flags['virtual-account'], pak: flags.pak, type: flags.type, count: flags.count})
    this.say(`PAK ${result.pak}: ${result.count} ${result.type} license(s) in virtual account ${result.virtualAccount}, not yet converted`)
    return result
  }
}
