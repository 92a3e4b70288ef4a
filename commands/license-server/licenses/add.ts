import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {licensesAdd, type LicensesAddResult} from '../../../src/server/admin.js'
import {LICENSE_TYPES, LICENSE_TYPE_NAMES} from '../../../src/licensing/license-types.js'

export default class LicenseServerLicensesAdd extends XwayCommand<LicensesAddResult> {
  static override description = 'Add licenses a virtual account owns: rms (Rich Media Session), room or desktop (registrations)'
  static override examples = [
    '<%= config.bin %> license-server licenses add ./lab/server --virtual-account lab --type rms --count 100',
    '<%= config.bin %> license-server licenses add ./lab/server --virtual-account lab --type desktop --count 50 --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    'virtual-account': Flags.string({required: true, description: 'virtual account'}),
    type: Flags.string({required: true, options: [...LICENSE_TYPES], description: 'license type'}),
    count: Flags.integer({required: true, min: 1, description: 'how many to add'}),
  }

  async run(): Promise<LicensesAddResult> {
    const {args, flags} = await this.parse(LicenseServerLicensesAdd)
    const result = await licensesAdd(args.dir, {virtualAccount: flags['virtual-account'], type: flags.type, count: flags.count})
    this.say(`${result.virtualAccount}: ${LICENSE_TYPE_NAMES[result.type]} owned ${result.owned}, available ${result.available}`)
    return result
  }
}
