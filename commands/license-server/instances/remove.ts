import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {instancesRemove, type InstanceRemoveResult} from '../../../src/server/admin.js'

export default class LicenseServerInstancesRemove extends XwayCommand<InstanceRemoveResult> {
  static override description = 'Remove a product instance and release its licenses; an instance holding a reservation needs the return code the unit printed'
  static override examples = [
    '<%= config.bin %> license-server instances remove ./lab/server "PID:EXPWY-VE-M-K9,SN:0A1B2C3D"',
    '<%= config.bin %> license-server instances remove ./lab/server "PID:EXPWY-VE-M-K9,SN:0A1B2C3D" --return-code RT-…',
  ]

  static override args = {
    dir: Args.string({required: true, description: 'license server folder'}),
    udi: Args.string({required: true, description: 'UDI of the product instance (PID:<pid>,SN:<serial>)'}),
  }

  static override flags = {'return-code': Flags.string({description: 'reservation return code from the unit'})}

  async run(): Promise<InstanceRemoveResult> {
    const {args, flags} = await this.parse(LicenseServerInstancesRemove)
    const result = await instancesRemove(args.dir, args.udi, flags['return-code'])
    const released = Object.entries(result.released).filter(([, n]) => n > 0).map(([t, n]) => `${t}=${n}`).join(' ') || 'nothing'
    this.say(`Removed ${result.udi}; released ${released}${result.reservationReturned ? ' (reservation returned)' : ''}`)
    return result
  }
}
