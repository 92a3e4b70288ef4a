import {XwayCommand} from '../../src/cli/base.js'
import {withResult} from '../../src/cli/failure.js'
import {unitArg} from '../../src/cli/flags.js'
import {licensingLines} from '../../src/cli/licensing-render.js'
import {now} from '../../src/clock.js'
import {type AgentResult, syncUnit} from '../../src/agent/agent.js'
import {unitLicensingStatus} from '../../src/agent/queries.js'

export default class LicensingSync extends XwayCommand<AgentResult> {
  static override description = `Do what the agent's timers would have done by now (XWAY_NOW): retry a pending registration (every 15 minutes), renew the registration (6 months) and the authorization (30 days), report usage (6 hours; a usage report never moves the authorization's expiry).
Once the registration has expired nothing can be renewed: the output says so (notes), and register is the way back.
Failures are recorded (last error, alarms 30042/30044, retry in 15 minutes) and the command exits 6; a successful exchange clears both alarms.`
  static override examples = [
    '<%= config.bin %> licensing sync ./units/exp-c1',
    'XWAY_NOW=2026-02-01T00:00:00Z <%= config.bin %> licensing sync ./units/exp-c1 --json',
  ]
  static override args = {unit: unitArg()}

  async run(): Promise<AgentResult> {
    const {args} = await this.parse(LicensingSync)
    const at = now()
    const result = await syncUnit(args.unit, at).catch(async (error: unknown) => {
      throw await withResult(error, async () => ({unit: args.unit, licensing: await unitLicensingStatus(args.unit, at)}))
    })
    for (const n of result.notes) this.say(n)
    if (result.exchanges.length === 0 && result.notes.length === 0) this.say('Nothing was due.')
    for (const e of result.exchanges) this.say(`${e.report === 'usage' ? 'usage report' : e.report === 'authorization' ? 'authorization renewal' : e.method}: ${e.ok ? 'ok' : `failed (${e.error})`}`)
    for (const line of licensingLines(result.licensing)) this.say(line)
    for (const w of result.warnings) this.warnLine(w)
    return result
  }
}
