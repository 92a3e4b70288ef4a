import * as Args from '@oclif/core/args'
import {XwayCommand} from '../src/cli/base.js'
import {unitArg} from '../src/cli/flags.js'
import {now} from '../src/clock.js'
import {errorFor, UsageError} from '../src/errors.js'
import {runXapi, splitXapiInput, type XapiResult} from '../src/agent/xapi.js'

const MAX_INPUT = 4 * 1024 * 1024

export default class Xapi extends XwayCommand<XapiResult> {
  static override description = `The appliance's own commands for license reservation, one LINE or lines read from stdin; replies in the appliance's *r … OK style, and the exit code of the first error (as the matching xway command); with --json a failed session prints that error with every reply as data ({replies})

  xconfiguration License Smart ReservationEnable: On|Off
  xcommand License Smart Reservation Request|Install "<code>"|Return|ReturnAuthorization "<code>"|Cancel
  xstatus License Smart`
  static override examples = [
    '<%= config.bin %> xapi ./units/exp-c1 "xconfiguration License Smart ReservationEnable: On"',
    '<%= config.bin %> xapi ./units/exp-c1 "xcommand License Smart Reservation Request"',
    'printf \'%s\\n\' "xstatus License Smart" "xcommand License Smart Reservation Cancel" | <%= config.bin %> xapi ./units/exp-c1 --json',
  ]
  static override args = {
    unit: unitArg(),
    line: Args.string({required: false, ignoreStdin: true, description: 'one command line; absent: read lines from stdin'}),
  }

  async run(): Promise<XapiResult> {
    const {args} = await this.parse(Xapi)
    let lines: string[]
    if (args.line !== undefined) {
      lines = [args.line]
    } else {
      let text = ''
      for await (const chunk of process.stdin) {
        text += chunk
        if (text.length > MAX_INPUT) throw new UsageError('More than 4 MiB of commands on stdin.')
      }
      lines = splitXapiInput(text)
    }
    const result = await runXapi(args.unit, lines, now())
    if (!this.jsonEnabled()) for (const reply of result.replies) process.stdout.write(reply.lines.join('\n') + '\n')
    // a session goes on after an error; it fails as its first error does, every reply in data
    const first = result.replies.find((r) => r.error !== null)?.error
    if (first) throw errorFor(first.code, first.message, {actions: first.actions, data: result})
    return result
  }
}
