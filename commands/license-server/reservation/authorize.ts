import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {reservationAuthorize, type ReservationAuthorizeResult} from '../../../src/server/admin.js'

export default class LicenseServerReservationAuthorize extends XwayCommand<ReservationAuthorizeResult> {
  static override description = 'Generate a reservation authorization code (SLR with --license, PLR with --plr) for a unit\'s request code; ' +
    'run again with the same request code to update the reservation (new counts stay in transit until confirmed)'

  static override examples = [
    '<%= config.bin %> license-server reservation authorize ./lab/server --virtual-account lab --request-code CB-ZEXPWY-VE-M-K9:0A1B2C3D-A6rZG7jGd-1F2E --license rms=10 --license room=5',
    '<%= config.bin %> license-server reservation authorize ./lab/server --virtual-account lab --request-code CB-Z… --license desktop=20 --until 2027-06-30',
    '<%= config.bin %> license-server reservation authorize ./lab/server --virtual-account lab --request-code CB-Z… --plr --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    'virtual-account': Flags.string({required: true, description: 'virtual account the licenses come from'}),
    'request-code': Flags.string({required: true, description: 'reservation request code printed by the unit'}),
    plr: Flags.boolean({description: 'Permanent License Reservation (every feature)', exclusive: ['license', 'until']}),
    license: Flags.string({multiple: true, description: 'Specific License Reservation: TYPE=N (rms, room, desktop); repeatable'}),
    until: Flags.string({description: 'end of an SLR term (YYYY-MM-DD or ISO 8601); default perpetual'}),
    'advanced-account-security': Flags.boolean({description: 'SLR: include the Advanced Account Security entitlement (linked with export control; refused for an account not permitted)', exclusive: ['plr']}),
  }

  async run(): Promise<ReservationAuthorizeResult> {
    const {args, flags} = await this.parse(LicenseServerReservationAuthorize)
    const result = await reservationAuthorize(args.dir, {
      virtualAccount: flags['virtual-account'], requestCode: flags['request-code'], plr: flags.plr, licenses: flags.license, until: flags.until,
      advancedAccountSecurity: flags['advanced-account-security'],
    })
    this.say(`${result.kind} authorization code for ${result.udi} (${result.state}):`)
    this.say(result.authorizationCode)
    return result
  }
}
