import {XwayCommand} from '../../src/cli/base.js'
import {unitArg} from '../../src/cli/flags.js'
import {type ClusterLeaveResult, leaveCluster} from '../../src/lifecycle/cluster.js'

export default class ClusterLeave extends XwayCommand<ClusterLeaveResult> {
  static override description = 'Take a unit out of its cluster (clears its cluster configuration; the other peers keep theirs)'
  static override examples = ['<%= config.bin %> cluster leave ./units/exp-c2', '<%= config.bin %> cluster leave ./units/exp-c2 --json']
  static override args = {unit: unitArg()}

  async run(): Promise<ClusterLeaveResult> {
    const {args} = await this.parse(ClusterLeave)
    const result = await leaveCluster(args.unit)
    this.say(result.left ? `${args.unit} left the cluster ${result.left}` : `${args.unit} is in no cluster; nothing changed`)
    return result
  }
}
