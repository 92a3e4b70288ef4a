import {Args, Flags} from '@oclif/core'
import {XwayCommand} from '../../../src/cli/base.js'
import {syncAnswer, type SyncAnswerResult} from '../../../src/server/onprem.js'

export default class LicenseServerSyncAnswer extends XwayCommand<SyncAnswerResult> {
  static override description = 'At the CSSM: verify an On-Prem\'s request, record its usage, allocate licenses to it from its virtual account (pool: onPrem) and write the signed response'
  static override examples = ['<%= config.bin %> license-server sync answer ./lab/server request.json -o response.json']
  static override args = {
    dir: Args.string({required: true, description: 'CSSM folder'}),
    request: Args.string({required: true, description: 'the On-Prem\'s request file'}),
  }

  static override flags = {output: Flags.string({char: 'o', required: true, description: 'the response file to write'})}

  async run(): Promise<SyncAnswerResult> {
    const {args, flags} = await this.parse(LicenseServerSyncAnswer)
    const result = await syncAnswer(args.dir, args.request, {output: flags.output})
    this.say(`${result.linked ? 'Linked the On-Prem and answered' : 'Answered'} its request ${result.sequence} (virtual account ${result.virtualAccount}): ` +
      `rms ${result.licenses.rms}, room ${result.licenses.room}, desktop ${result.licenses.desktop}; response written to ${result.path}.`)
    return result
  }
}
