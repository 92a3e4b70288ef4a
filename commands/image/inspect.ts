import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {inspectUnit, type InspectResult} from '../../src/report/inspect.js'

export default class ImageInspect extends XwayCommand<InspectResult> {
  static override description = 'Show everything about a unit: identity, network, keys, certificates, users, option keys, licensing, usage, logs, alarms'
  static override examples = ['<%= config.bin %> image inspect ./units/exp-c1', '<%= config.bin %> image inspect ./units/exp-c1 --json | jq .licensing.registration.status']
  static override args = {unit: unitArg()}

  async run(): Promise<InspectResult> {
    const {args} = await this.parse(ImageInspect)
    const r = await inspectUnit(args.unit, now())
    if (!this.jsonEnabled()) {
      this.say(`${r.unit}: ${r.brand} ${r.type} ${r.softwareVersion} (${r.edition})  ${r.hardware.udi}`)
      this.say(`  network   ${r.network.hostname || '(no hostname)'}${r.network.domain ? '.' + r.network.domain : ''}  ${r.network.lan1.address}  dns ${r.network.dns.join(', ') || 'none'}`)
      this.say(`  mgmt      ${r.mgmt.enabled ? r.mgmt.address : 'off'}`)
      this.say(`  fips      ${r.fips.enabled ? 'on' : 'off'}`)
      this.say(`  ssh       ${r.ssh.hostKeys.map((k) => `${k.type}-${k.bits}`).join(', ') || 'none (regenerated at boot)'}`)
      this.say(`  users     root ${r.users.root.default ? 'default' : 'set'}, admin ${r.users.admin.default ? 'default' : 'set'}`)
      this.say(`  options   ${r.optionKeys.map((k) => `${k.feature} ${k.name}`).join(', ') || 'none'}`)
      if (r.licensing.mode === 'smart') {
        const l = r.licensing
        this.say(`  licensing ${l.registration.status} / ${l.authorization.status}  (${l.transport.mode}; evaluation until ${l.evaluation.expiresAt})`)
        for (const lic of l.licenses) this.say(`            ${lic.type}: ${lic.inUse} in use, ${lic.status}`)
      } else this.say('  licensing legacy (option keys)')
      this.say(`  usage     ${r.usage.calls} calls, ${r.usage.desktop} desktop, ${r.usage.room} room; export control ${r.usage.exportControl.state}${r.usage.exportControl.limit === null ? ' (no limit)' : ` (limit ${r.usage.exportControl.limit})`}`)
      this.say(`  logs      ${r.logs.files} files, ${r.logs.bytes} bytes`)
      for (const a of r.alarms) this.say(`  alarm     ${a.id ?? '-'} ${a.key}: ${a.title}`)
    }
    return r
  }
}
