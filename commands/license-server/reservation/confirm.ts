import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {reservationConfirm, type ReservationConfirmResult} from '../../../src/server/admin.js'

export default class LicenseServerReservationConfirm extends XwayCommand<ReservationConfirmResult> {
  static override description = 'Enter the confirmation code a unit printed after installing an SLR authorization code: its licenses move from in transit to reserved'
  static override examples = ['<%= config.bin %> license-server reservation confirm ./lab/server --code CF-…']
  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {code: Flags.string({required: true, description: 'confirmation code from the unit'})}

  async run(): Promise<ReservationConfirmResult> {
    const {args, flags} = await this.parse(LicenseServerReservationConfirm)
    const result = await reservationConfirm(args.dir, {code: flags.code})
    this.say(`Reservation of ${result.udi} confirmed${result.alreadyConfirmed ? ' (already)' : ''}`)
    return result
  }
}
