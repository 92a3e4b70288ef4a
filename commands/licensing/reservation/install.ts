import {Args} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {UsageError} from '../../../src/errors.js'
import {reservationInstall, type ReservationInstallResult} from '../../../src/licensing/reservation.js'

/** The code from the argument, or from stdin when it is "-" or absent and stdin is piped. */
async function codeArg(code: string | undefined): Promise<string> {
  if (code !== undefined && code !== '-') return code
  if (process.stdin.isTTY) throw new UsageError('Give the authorization code as an argument (in double quotes), or pipe it on stdin.')
  let text = ''
  for await (const chunk of process.stdin) {
    text += chunk
    if (text.length > 1024 * 1024) throw new UsageError('The authorization code on stdin is larger than 1 MiB.')
  }
  if (text.trim() === '') throw new UsageError('No authorization code: give it as an argument (in double quotes), or pipe it on stdin.')
  return text
}

export default class ReservationInstall extends XwayCommand<ReservationInstallResult> {
  static override description = 'Install a reservation authorization code (xcommand License Smart Reservation Install "<code>"): its signature is verified against the unit\'s trust anchors, its UDI against the unit, and a request must be pending (or a newer code updates the installed reservation); SLR prints a confirmation code, PLR none'
  static override examples = [
    '<%= config.bin %> licensing reservation install ./units/exp-c1 "<specificPLR>…</specificPLR>"',
    'xway license-server reservation authorize lab/server --virtual-account VA --request-code "$CODE" --license rms=10 --json | jq -r .authorizationCode | <%= config.bin %> licensing reservation install ./units/exp-c1 --json',
  ]
  static override args = {
    unit: Args.string({required: true, description: 'path of the unit'}),
    code: Args.string({required: false, ignoreStdin: true, description: 'the authorization code (XML, in double quotes); "-" or absent: read from stdin'}),
  }

  async run(): Promise<ReservationInstallResult> {
    const {args} = await this.parse(ReservationInstall)
    const result = await reservationInstall(args.unit, await codeArg(args.code))
    this.say(`The ${result.kind} authorization code was installed successfully.`)
    if (result.confirmationCode) {
      this.say(`Confirmation code: ${result.confirmationCode}`)
      this.say('Enter it on the license server: xway license-server reservation confirm DIR --code CODE')
    }
    return result
  }
}
