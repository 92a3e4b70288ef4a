import * as Flags from '@oclif/core/flags'
import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {now} from '../../src/clock.js'
import {type ClusterCreateResult, createCluster} from '../../src/lifecycle/cluster.js'

export default class ClusterCreate extends XwayCommand<ClusterCreateResult> {
  static override description = 'Form a cluster of units (same brand, type, edition and software version; none already in a cluster): writes the cluster configuration on every unit'
  static override examples = [
    '<%= config.bin %> cluster create ./units/exp-c1 ./units/exp-c2',
    '<%= config.bin %> cluster create ./units/exp-c1 ./units/exp-c2 ./units/exp-c3 --name expc.lab.example --json',
  ]
  static override strict = false
  static override args = {
    primary: unitArg('path of the primary unit'),
    peer: unitArg('path of a peer unit (several may follow)'),
  }
  static override flags = {
    name: Flags.string({description: 'cluster name (FQDN) [default: <primary hostname>-cluster.<domain>]'}),
  }

  async run(): Promise<ClusterCreateResult> {
    const {argv, flags} = await this.parse(ClusterCreate)
    const [primary, ...peers] = argv as string[]
    const result = await createCluster(primary, peers, {name: flags.name, at: now()})
    this.say(`Cluster ${result.cluster.name}: primary ${primary}, peers ${peers.join(', ')}`)
    return result
  }
}
