import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {licensingLines} from '../../src/cli/licensing-render.js'
import {now} from '../../src/clock.js'
import {unitLicensingStatus} from '../../src/agent/queries.js'
import {type LicensingView, registrationNotes} from '../../src/licensing/status.js'

export default class LicensingStatus extends XwayCommand<LicensingView> {
  static override description = 'Smart licensing status of a unit: transport, registration, authorization, evaluation, licenses in use (the licensing object of image inspect), computed from its stored state and now (XWAY_NOW)'
  static override examples = [
    '<%= config.bin %> licensing status ./units/exp-c1',
    'XWAY_NOW=2026-06-01T00:00:00Z <%= config.bin %> licensing status ./units/exp-c1 --json | jq .authorization.status',
  ]
  static override args = {unit: unitArg()}

  async run(): Promise<LicensingView> {
    const {args} = await this.parse(LicensingStatus)
    const view = await unitLicensingStatus(args.unit, now())
    for (const line of licensingLines(view)) this.say(line)
    for (const note of registrationNotes(view)) this.say(note)
    return view
  }
}
