import * as Args from '@oclif/core/args'
import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {codeArgument} from '../../../src/cli/stdin.js'
import {reservationReturnAuthorization} from '../../../src/agent/reservation.js'
import type {ReservationReturnResult} from '../../../src/licensing/reservation.js'

export default class ReservationReturnAuthorization extends XwayCommand<ReservationReturnResult> {
  static override description = 'Print a return code for an authorization code that was never installed (xcommand License Smart Reservation ReturnAuthorization "<code>"); the code can no longer be installed and a pending request is closed'
  static override examples = ['<%= config.bin %> licensing reservation return-authorization ./units/exp-c1 "<specificPLR>…</specificPLR>"']
  static override args = {
    unit: unitArg(),
    code: Args.string({required: false, ignoreStdin: true, description: 'the authorization code (XML, in double quotes); "-" or absent: read from stdin'}),
  }

  async run(): Promise<ReservationReturnResult> {
    const {args} = await this.parse(ReservationReturnAuthorization)
    const result = await reservationReturnAuthorization(args.unit, await codeArgument(args.code))
    this.say(`Reservation return code: ${result.returnCode}`)
    this.say('Enter it on the license server to release the licenses: xway license-server instances remove DIR UDI --return-code CODE')
    return result
  }
}
