import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {paks} from '../../../src/server/admin.js'
import type {PakView} from '../../../src/server/store.js'

export interface PakListResult {paks: PakView[]}

export default class LicenseServerPakList extends XwayCommand<PakListResult> {
  static override description = 'List the PAKs recorded on the license server: count, converted, forfeited, available'
  static override examples = ['<%= config.bin %> license-server pak list ./lab/server --virtual-account lab --json']
  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    'virtual-account': Flags.string({description: 'only this virtual account'}),
  }

  async run(): Promise<PakListResult> {
    const {args, flags} = await this.parse(LicenseServerPakList)
    const result = await paks(args.dir, {virtualAccount: flags['virtual-account']})
    for (const p of result.paks) this.say(`${p.pak}  ${p.virtualAccount}  ${p.type}  count ${p.count}  converted ${p.converted}  forfeited ${p.forfeited}  available ${p.available}`)
    if (result.paks.length === 0) this.say('No PAK recorded')
    return result
  }
}
