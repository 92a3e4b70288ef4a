import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {reservationRequest} from '../../../src/agent/reservation.js'
import type {ReservationRequestResult} from '../../../src/licensing/reservation.js'

export default class ReservationRequest extends XwayCommand<ReservationRequestResult> {
  static override description = 'Print the reservation request code CB-Z<PID>:<serial>-<nonce>-<check> to paste into the license server (xcommand License Smart Reservation Request); asked again while pending, prints the same code'
  static override examples = [
    '<%= config.bin %> licensing reservation request ./units/exp-c1',
    'CODE=$(<%= config.bin %> licensing reservation request ./units/exp-c1 --json | jq -r .requestCode)',
  ]
  static override args = {unit: unitArg()}

  async run(): Promise<ReservationRequestResult> {
    const {args} = await this.parse(ReservationRequest)
    const result = await reservationRequest(args.unit)
    this.say(`Reservation request code: ${result.requestCode}`)
    this.say('Paste it into the license server: xway license-server reservation authorize DIR --virtual-account VA --request-code CODE (--plr | --license TYPE=N…)')
    return result
  }
}
