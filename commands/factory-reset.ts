import * as Flags from '@oclif/core/flags'
import {AREAS, type AreaName} from '../src/areas/registry.js'
import {XwayCommand} from '../src/cli/base.js'
import {unitArg} from '../src/cli/flags.js'
import {now} from '../src/clock.js'
import {factoryReset, type FactoryResetResult, previewFactoryReset} from '../src/lifecycle/factory-reset.js'
import {type KeepAnswers, runResetDialogue} from '../src/lifecycle/reset-dialogue.js'

// One "keep" flag per area with a reset question, in the registry's order: -v -o -t -f -i -m -s -c -p -l.
const KEEP_FLAGS = Object.fromEntries(
  AREAS.filter((a) => a.question).map((a) => [
    a.question!.long,
    Flags.boolean({
      char: a.question!.flag as 'v',
      description: `${a.name === 'logs' ? 'save' : 'keep'} ${a.title}${a.name === 'option-keys' ? ' (VCS and pre-X14.2 only)' : ''}`,
    }),
  ]),
)

export default class FactoryReset extends XwayCommand<FactoryResetResult> {
  static override description = `Reset a unit to factory defaults, keeping what the flags (or your YES answers) say

With no keep flag, asks the appliance's questions in order, from the terminal or one answer per line on stdin (YES/NO, y/n); with keep flags, only the final question (--yes answers it; --yes alone keeps nothing). What is not kept comes back from the unit's factory payload (mnt/harddisk/factory-reset/). A NO to the final question changes nothing and exits 0 ({"cancelled": true}).`
  static override examples = [
    '<%= config.bin %> factory-reset ./units/exp-c1',
    '<%= config.bin %> factory-reset ./units/exp-c1 -v -i -l --yes',
    '<%= config.bin %> factory-reset ./units/exp-c1 -v --dry-run',
    "printf 'yes\\nno\\nno\\nyes\\nyes\\nyes\\nyes\\nyes\\nyes\\nyes\\n' | <%= config.bin %> factory-reset ./units/exp-c1 --json",
  ]
  static override args = {unit: unitArg()}
  static override flags = {
    ...KEEP_FLAGS,
    yes: Flags.boolean({description: 'answer YES to "Are you sure you want to continue"'}),
    'dry-run': Flags.boolean({description: 'print the plan (per area: kept, reset, deleted; bytes), ask nothing, change nothing'}),
    seed: Flags.string({hidden: true, description: 'derive regenerated keys from this seed (tests)'}),
  }

  async run(): Promise<FactoryResetResult> {
    const {args, flags} = await this.parse(FactoryReset)
    const at = now()
    const given = flags as unknown as Record<string, boolean | undefined>
    const flagged: KeepAnswers = {}
    for (const a of AREAS) if (a.question && given[a.question.long]) flagged[a.name as AreaName] = true
    // checks the flags and the payload before any question
    const preview = await previewFactoryReset(args.unit, flagged, at)
    if (flags['dry-run']) {
      this.render(preview, 'Plan (dry run: nothing changed)')
      return strip(preview)
    }
    const out = this.jsonEnabled() ? process.stderr : process.stdout
    const {answers, confirmed} = await runResetDialogue(preview.info, flagged, {yes: flags.yes}, {
      write: (line) => out.write(line + '\n'),
      ask: (prompt) => this.prompts.yesNo(prompt, 'the factory reset question'),
    })
    if (!confirmed) {
      const cancelled = strip(await previewFactoryReset(args.unit, answers, at, {cancelled: true}))
      this.say('Factory reset cancelled; nothing changed')
      return cancelled
    }
    // "press Ctrl+C to cancel before final confirmation": after it, the reset runs to its end
    const holdOn = () => process.stderr.write('The factory reset is being applied and can no longer be cancelled.\n')
    process.on('SIGINT', holdOn)
    try {
      const result = await this.progress.step(`Resetting ${args.unit}`, () => factoryReset(args.unit, answers, {at, seed: flags.seed}))
      this.render(result, `Factory reset done: ${result.brand} ${result.type} ${result.softwareVersion}`)
      if (result.plan.areas.some((a) => a.area === 'passwords' && a.action === 'reset')) this.say('root and admin have the factory default passwords: change them at first login.')
      this.say('Complete the Install Wizard at first login.')
      return result
    } finally {
      process.off('SIGINT', holdOn)
    }
  }

  private render(result: FactoryResetResult, title: string): void {
    for (const w of result.warnings) this.warnLine(w)
    if (this.jsonEnabled()) return
    this.say(title)
    const rows = result.plan.areas.map((a) => [a.area, a.action, String(a.files), String(a.bytes), a.detail])
    const head = ['AREA', 'ACTION', 'FILES', 'BYTES', 'DETAIL']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
    for (const r of [head, ...rows]) this.say(r.map((c, i) => (i === 4 ? c : i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd())
  }
}

function strip(result: FactoryResetResult & {info?: unknown}): FactoryResetResult {
  const {info: _info, ...rest} = result
  return rest
}
