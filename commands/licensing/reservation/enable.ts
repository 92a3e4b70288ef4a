import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {reservationEnable} from '../../../src/agent/reservation.js'
import type {ReservationEnableResult} from '../../../src/licensing/reservation.js'

export default class ReservationEnable extends XwayCommand<ReservationEnableResult> {
  static override description = 'Enable license reservation (PLR and SLR), as xconfiguration License Smart ReservationEnable: On; only while the unit is unregistered'
  static override examples = [
    '<%= config.bin %> licensing reservation enable ./units/exp-c1',
    '<%= config.bin %> licensing reservation enable ./units/exp-c1 --json',
  ]
  static override args = {unit: unitArg()}

  async run(): Promise<ReservationEnableResult> {
    const {args} = await this.parse(ReservationEnable)
    const result = await reservationEnable(args.unit, true)
    this.say(result.changed ? 'License reservation enabled. Next: xway licensing reservation request UNIT' : 'License reservation was already enabled')
    return result
  }
}
