import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../src/cli/base.js'
import {instances} from '../../src/server/admin.js'
import type {InstanceView} from '../../src/server/store.js'

export default class LicenseServerInstances extends XwayCommand<{instances: InstanceView[]}> {
  static override description = 'List product instances: registered units and units holding a reservation'
  static override examples = [
    '<%= config.bin %> license-server instances ./lab/server',
    '<%= config.bin %> license-server instances ./lab/server --virtual-account lab --json',
  ]

  static override args = {dir: Args.string({required: true, description: 'license server folder'})}
  static override flags = {'virtual-account': Flags.string({description: 'only this virtual account'})}

  async run(): Promise<{instances: InstanceView[]}> {
    const {args, flags} = await this.parse(LicenseServerInstances)
    const result = await instances(args.dir, {virtualAccount: flags['virtual-account']})
    if (result.instances.length === 0) this.say('No product instances.')
    for (const i of result.instances) {
      const held = Object.entries(i.licenses).filter(([, n]) => n > 0).map(([t, n]) => `${t}=${n}`).join(' ') || '-'
      this.say(`${i.udi}  ${i.virtualAccount}  ${i.hostname ?? '(hidden)'}  ${i.status}${i.reservation ? ` (${i.reservation.kind} ${i.reservation.state})` : ''}  ${held}  since ${i.registeredAt}`)
    }
    return result
  }
}
