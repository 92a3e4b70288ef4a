import {Command, Help} from '@oclif/core'
import {EXIT_CODES} from '../errors.js'

/** Every command's --help ends with the exit-code table of SPEC 6. */
export default class XwayHelp extends Help {
  protected override formatCommand(command: Command.Loadable): string {
    const rows = EXIT_CODES.map((e) => `  ${e.code}  ${e.meaning}`).join('\n')
    return `${super.formatCommand(command)}\n\n${this.section('EXIT CODES', rows)}`
  }
}
