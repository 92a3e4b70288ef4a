import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {pakConvert, type PakConvertResult} from '../../../src/server/admin.js'

export default class LicenseServerPakConvert extends XwayCommand<PakConvertResult> {
  static override description = 'Convert a PAK\'s classic licenses into smart licenses of its virtual account\'s pool.\n' +
    'Converting fewer than are left is refused: Cisco\'s known issue forfeits the rest. --forfeit-remaining says so, and removes them.'

  static override examples = [
    '<%= config.bin %> license-server pak convert ./lab/server --pak 3AB9-77CD',
    '<%= config.bin %> license-server pak convert ./lab/server --pak 3AB9-77CD --quantity 5 --forfeit-remaining --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {
    pak: Flags.string({required: true, description: 'the Product Authorization Key'}),
    quantity: Flags.integer({min: 1, description: 'how many to convert (default: all that are left)'}),
    'forfeit-remaining': Flags.boolean({description: 'convert fewer than are left and remove the rest'}),
  }

  async run(): Promise<PakConvertResult> {
    const {args, flags} = await this.parse(LicenseServerPakConvert)
    const result = await pakConvert(args.dir, {pak: flags.pak, quantity: flags.quantity, forfeitRemaining: flags['forfeit-remaining']})
    this.say(`PAK ${result.pak.pak}: ${result.converted} ${result.pak.type} license(s) converted to smart licenses of ${result.virtualAccount} (owned now ${result.line.owned})`)
    if (result.forfeited > 0) this.say(`${result.forfeited} license(s) forfeited (removed), as the event log records`)
    return result
  }
}
