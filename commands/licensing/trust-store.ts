import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {unitTrustStore} from '../../src/agent/queries.js'

type TrustStoreResult = ReturnType<typeof unitTrustStore>

export default class LicensingTrustStore extends XwayCommand<TrustStoreResult> {
  static override description = 'List the smart licensing agent\'s trust store: QuoVadis Root CA 2 and the lab anchors baked at build time (subject, SHA-256 fingerprint). Users cannot change it: a proxy presenting any other CA is rejected with "Unknown CA".'
  static override examples = ['<%= config.bin %> licensing trust-store ./units/exp-c1 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<TrustStoreResult> {
    const {args} = await this.parse(LicensingTrustStore)
    const result = await unitTrustStore(args.unit)
    for (const t of result.trustStore) this.say(`${t.lab ? 'lab ' : 'root'}  ${t.subject}\n      SHA-256 ${t.fingerprint}`)
    return result
  }
}
