import * as Args from '@oclif/core/args'
import {XwayCommand} from '../../../src/cli/base.js'
import {unitArg} from '../../../src/cli/flags.js'
import {codeArgument} from '../../../src/cli/stdin.js'
import {reservationInstall} from '../../../src/agent/reservation.js'
import type {ReservationInstallResult} from '../../../src/licensing/reservation.js'

export default class ReservationInstall extends XwayCommand<ReservationInstallResult> {
  static override description = 'Install a reservation authorization code (xcommand License Smart Reservation Install "<code>"): its signature is verified against the unit\'s trust anchors, its UDI against the unit, and a request must be pending (or a newer code updates the installed reservation); SLR prints a confirmation code, PLR none'
  static override examples = [
    '<%= config.bin %> licensing reservation install ./units/exp-c1 "<specificPLR>…</specificPLR>"',
    'xway license-server reservation authorize lab/server --virtual-account VA --request-code "$CODE" --license rms=10 --json | jq -r .authorizationCode | <%= config.bin %> licensing reservation install ./units/exp-c1 --json',
  ]
  static override args = {
    unit: unitArg(),
    code: Args.string({required: false, ignoreStdin: true, description: 'the authorization code (XML, in double quotes); "-" or absent: read from stdin'}),
  }

  async run(): Promise<ReservationInstallResult> {
    const {args} = await this.parse(ReservationInstall)
    const result = await reservationInstall(args.unit, await codeArgument(args.code))
    this.say(`The ${result.kind} authorization code was installed successfully.`)
    if (result.confirmationCode) {
      this.say(`Confirmation code: ${result.confirmationCode}`)
      this.say('Enter it on the license server: xway license-server reservation confirm DIR --code CODE')
    }
    return result
  }
}
