import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {UsageError, XwayError} from '../../src/errors.js'
import {createUnit, type CreateResult} from '../../src/lifecycle/create.js'
import {availableVersions} from '../../src/lifecycle/software.js'
import {loadProfile} from '../../src/profile/load.js'

/** With licensing.register in the profile, the unit is registered right after it is built. */
export type ImageCreateResult = CreateResult & {licensing?: {registration: string; authorization: string}}

export default class ImageCreate extends XwayCommand<ImageCreateResult> {
  static override description = 'Build a unit from a profile (refuses an existing, non-empty UNIT)'
  static override examples = [
    '<%= config.bin %> image create ./units/exp-c1 --profile profiles/expressway-c.yaml',
    'XWAY_ROOT_PASSWORD=… <%= config.bin %> image create ./units/exp-c1 --profile profiles/expressway-c.yaml --seed lab1 --json',
  ]
  static override args = {unit: unitArg('path of the new unit')}
  static override flags = {
    profile: Flags.string({required: true, description: 'profile (YAML, see profiles/schema.json)'}),
    seed: Flags.string({description: 'derive serial and keys from this seed: same profile + seed + XWAY_NOW give an identical unit'}),
  }

  async run(): Promise<ImageCreateResult> {
    const {args, flags} = await this.parse(ImageCreate)
    const profile = loadProfile(flags.profile, {versions: availableVersions()})
    const tokenEnv = profile.licensing.register?.tokenFromEnv
    const token = tokenEnv === undefined ? undefined : process.env[tokenEnv]
    if (tokenEnv !== undefined && !token) {
      throw new UsageError(`licensing.register.tokenFromEnv names ${tokenEnv}, which is not set.`, {actions: [`Set ${tokenEnv} to a registration token, or remove licensing.register from the profile.`]})
    }
    const at = now()
    const result: ImageCreateResult = await this.progress.step(`Building ${args.unit}`, () => createUnit(args.unit, profile, {seed: flags.seed, now: at}))
    this.say(`Built ${result.unit}: ${result.brand} ${result.type} ${result.softwareVersion} (${result.edition}), serial ${result.serial}`)
    if (token !== undefined) {
      const {registerUnit} = await import('../../src/agent/agent.js')
      try {
        const reg = await this.progress.step(`Registering ${args.unit}`, () => registerUnit(args.unit, {token}, at))
        result.licensing = {registration: reg.licensing.registration.status, authorization: reg.licensing.authorization.status}
        this.say(`Registered: ${result.licensing.registration} / ${result.licensing.authorization}`)
        for (const w of reg.warnings) this.warnLine(w)
      } catch (error) {
        // the unit stays built; the exit code is the registration's (4 token refused, 6 unreachable: pending)
        if (error instanceof XwayError) {
          throw new XwayError(error.code, `Built ${args.unit}, but registering it failed: ${error.message}`, {actions: error.actions})
        }
        throw error
      }
    }
    return result
  }
}
