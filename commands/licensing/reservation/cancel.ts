import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {reservationCancel} from '../../../src/agent/reservation.js'
import type {ReservationCancelResult} from '../../../src/licensing/reservation.js'

export default class ReservationCancel extends XwayCommand<ReservationCancelResult> {
  static override description = 'Cancel a reservation request in progress, before its authorization code is installed (xcommand License Smart Reservation Cancel)'
  static override examples = ['<%= config.bin %> licensing reservation cancel ./units/exp-c1']
  static override args = {unit: unitArg()}

  async run(): Promise<ReservationCancelResult> {
    const {args} = await this.parse(ReservationCancel)
    const result = await reservationCancel(args.unit)
    this.say('Reservation request cancelled. If an authorization code was generated for it, give it back: xway licensing reservation return-authorization UNIT "<authorization code>"')
    return result
  }
}
