// `xway cluster create|leave`: the cluster configuration of units (tandberg/persistent/clusterdb/
// cluster.json). Deliberately small: what restore ("not while in a cluster") and license
// sharing between peers need.
import {basename, dirname, posix, relative, resolve, sep} from 'node:path'
import {CLUSTER, type ClusterFile, readCluster} from '../areas/cluster.js'
import {readIp} from '../areas/ip.js'
import {readUsage} from '../areas/usage.js'
import {BadInputError, RefusedError, UsageError} from '../errors.js'
import {readLicensing} from '../areas/licensing.js'
import {licensingStatus} from '../licensing/status.js'
import {changeUnit, openUnit, type Unit} from '../areas/open.js'

/** An Expressway cluster has at most 6 peers. */
export const MAX_CLUSTER_PEERS = 6

export type ClusterConfig = NonNullable<ClusterFile['cluster']>

export interface ClusterCreateResult {
  cluster: ClusterConfig
  /** the units, as given, primary first */
  units: string[]
}

export interface ClusterLeaveResult {
  unit: string
  /** the cluster the unit left, or null when it was in none (nothing changed) */
  left: string | null
}

/**
 * How a unit names a peer: the peer's directory relative to the unit's own directory, written
 * `../<name>` for siblings (the unit itself included), so that cluster.json is the same file on
 * every member of a lab folder and survives moving the folder as a whole. resolve(unit, peer)
 * finds the peer.
 */
export function peerReference(fromUnit: string, peerUnit: string): string {
  return posix.join('..', relative(dirname(fromUnit), peerUnit).split(sep).join('/'))
}

function refuseMix(what: string, a: Unit, b: Unit, aArg: string, bArg: string, rule: string): RefusedError {
  return new RefusedError(`${bArg} is ${what} ${String(b.info[key(what)])} and the primary ${aArg} is ${String(a.info[key(what)])}: ${rule}`, {
    actions: ['Cluster units of the same brand, type, edition and software version.'],
  })
}

function key(what: string): 'brand' | 'type' | 'edition' | 'softwareVersion' {
  return what === 'brand' ? 'brand' : what === 'type' ? 'type' : what === 'edition' ? 'edition' : 'softwareVersion'
}

/**
 * Checks every unit first (none already in a cluster, same brand, type, edition and version,
 * none unauthorized), then writes the same cluster configuration on each, one transaction per
 * unit. If a later unit fails, the earlier ones are put back out of the cluster.
 */
export async function createCluster(primaryArg: string, peerArgs: string[], options: {name?: string; at: Date}): Promise<ClusterCreateResult> {
  const args = [primaryArg, ...peerArgs]
  if (peerArgs.length === 0) throw new UsageError('A cluster needs a primary and at least one peer.', {actions: ['xway cluster create PRIMARY PEER…']})
  if (args.length > MAX_CLUSTER_PEERS) {
    throw new RefusedError(`A cluster has at most ${MAX_CLUSTER_PEERS} peers (${args.length} given).`, {actions: [`Give at most ${MAX_CLUSTER_PEERS} units.`]})
  }
  const units = await Promise.all(args.map((a) => openUnit(a)))
  const paths = units.map((u) => u.path)
  const twice = args.find((_, i) => paths.indexOf(paths[i]) !== i)
  if (twice !== undefined) throw new UsageError(`${twice} is given twice.`, {actions: ['Name every unit once.']})

  const primary = units[0]
  units.forEach((u, i) => {
    const existing = readCluster(u.files).cluster
    if (existing) {
      throw new RefusedError(`${args[i]} is already in the cluster ${existing.name}: a unit is in one cluster at a time.`, {
        actions: [`Leave it first: xway cluster leave ${args[i]}`],
      })
    }
    if (i > 0) {
      if (u.info.brand !== primary.info.brand) throw refuseMix('brand', primary, u, args[0], args[i], 'a cluster does not mix brands.')
      if (u.info.type !== primary.info.type) throw refuseMix('type', primary, u, args[0], args[i], 'a cluster does not mix Expressway-C and Expressway-E.')
      if (u.info.edition !== primary.info.edition) throw refuseMix('edition', primary, u, args[0], args[i], 'a cluster cannot mix Select and standard.')
      if (u.info.softwareVersion !== primary.info.softwareVersion) throw refuseMix('software version', primary, u, args[0], args[i], 'peers of a cluster run the same software version.')
    }
    // the seed: after the evaluation period, an unregistered Expressway is Unauthorized and
    // cluster-related configuration is no longer allowed
    const view = licensingStatus(readLicensing(u.files), readUsage(u.files), options.at)
    if (view.mode === 'smart' && view.unauthorized) {
      throw new RefusedError(`${args[i]} is Unauthorized (${view.authorization.status}): cluster-related configuration is not allowed until the product is registered.`, {
        actions: [`Register it first: xway licensing register ${args[i]} --token TOKEN`],
      })
    }
  })

  const ip = readIp(primary.files)
  const name = options.name ?? `${ip.hostname || basename(primary.path)}-cluster${ip.domain ? `.${ip.domain}` : ''}`
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/.test(name)) throw new BadInputError(`--name: "${name}" is not a valid cluster name (an FQDN).`)

  const configFor = (u: Unit): ClusterConfig => ({
    name,
    primary: peerReference(u.path, primary.path),
    peers: paths.map((p) => peerReference(u.path, p)),
  })
  const done: Unit[] = []
  try {
    for (const u of units) {
      // eslint-disable-next-line no-await-in-loop
      await changeUnit(u, 'cluster create', (tx, now) => {
        if (readCluster(now.files).cluster) throw new RefusedError(`${u.path} joined another cluster meanwhile.`)
        tx.writeJson(CLUSTER.file, {cluster: configFor(u)})
        tx.audit({cluster: 'joined', peers: args.length})
      })
      done.push(u)
    }
  } catch (error) {
    for (const u of done) {
      // eslint-disable-next-line no-await-in-loop
      await changeUnit(u, 'cluster create', (tx) => {
        tx.writeJson(CLUSTER.file, {cluster: null})
        tx.audit({cluster: 'undone'})
      }).catch(() => {})
    }
    throw error
  }
  return {cluster: configFor(primary), units: args}
}

/** Takes one unit out of its cluster (the other peers keep their configuration). */
export async function leaveCluster(unitArg: string): Promise<ClusterLeaveResult> {
  return changeUnit(unitArg, 'cluster leave', (tx, unit) => {
    const existing = readCluster(unit.files).cluster
    if (!existing) return {unit: unitArg, left: null}
    tx.writeJson(CLUSTER.file, {cluster: null})
    tx.audit({cluster: 'left'})
    return {unit: unitArg, left: existing.name}
  })
}

/** The units of a unit's cluster, as paths (for tools that visit the peers). */
export function clusterPeerPaths(unit: string, config: ClusterConfig): string[] {
  return config.peers.map((p) => resolve(unit, p))
}
