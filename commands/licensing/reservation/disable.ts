import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {reservationEnable} from '../../../src/agent/reservation.js'
import type {ReservationEnableResult} from '../../../src/licensing/reservation.js'

export default class ReservationDisable extends XwayCommand<ReservationEnableResult> {
  static override description = 'Disable license reservation, as xconfiguration License Smart ReservationEnable: Off; refused while a request is pending or a reservation is installed'
  static override examples = ['<%= config.bin %> licensing reservation disable ./units/exp-c1']
  static override args = {unit: unitArg()}

  async run(): Promise<ReservationEnableResult> {
    const {args} = await this.parse(ReservationDisable)
    const result = await reservationEnable(args.unit, false)
    this.say(result.changed ? 'License reservation disabled' : 'License reservation was already disabled')
    return result
  }
}
