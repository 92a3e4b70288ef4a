import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {reservationReturn} from '../../../src/agent/reservation.js'
import type {ReservationReturnResult} from '../../../src/licensing/reservation.js'

export default class ReservationReturn extends XwayCommand<ReservationReturnResult> {
  static override description = 'Remove the installed reservation and print its return code, to enter on the license server (xcommand License Smart Reservation Return)'
  static override examples = ['<%= config.bin %> licensing reservation return ./units/exp-c1']
  static override args = {unit: unitArg()}

  async run(): Promise<ReservationReturnResult> {
    const {args} = await this.parse(ReservationReturn)
    const result = await reservationReturn(args.unit)
    this.say(`Reservation return code: ${result.returnCode}`)
    this.say('Enter it on the license server to release the licenses: xway license-server instances remove DIR UDI --return-code CODE')
    return result
  }
}
