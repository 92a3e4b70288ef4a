import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {now} from '../../src/clock.js'
import {createUnit, type CreateResult} from '../../src/lifecycle/create.js'
import {availableVersions} from '../../src/lifecycle/software.js'
import {loadProfile} from '../../src/profile/load.js'

export default class ImageCreate extends XwayCommand<CreateResult> {
  static override description = 'Build a unit from a profile (refuses an existing, non-empty UNIT)'
  static override examples = [
    '<%= config.bin %> image create ./units/exp-c1 --profile profiles/expressway-c.yaml',
    'XWAY_ROOT_PASSWORD=… <%= config.bin %> image create ./units/exp-c1 --profile profiles/expressway-c.yaml --seed lab1 --json',
  ]
  static override args = {unit: Args.string({required: true, description: 'path of the new unit'})}
  static override flags = {
    profile: Flags.string({required: true, description: 'profile (YAML, see profiles/schema.json)'}),
    seed: Flags.string({description: 'derive serial and keys from this seed: same profile + seed + XWAY_NOW give an identical unit'}),
  }

  async run(): Promise<CreateResult> {
    const {args, flags} = await this.parse(ImageCreate)
    const profile = loadProfile(flags.profile, {versions: availableVersions()})
    const result = await this.progress.step(`Building ${args.unit}`, () => createUnit(args.unit, profile, {seed: flags.seed, now: now()}))
    this.say(`Built ${result.unit}: ${result.brand} ${result.type} ${result.softwareVersion} (${result.edition}), serial ${result.serial}`)
    return result
  }
}
