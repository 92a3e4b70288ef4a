import {LICENSE_TYPES, type LicenseType, type LicensingState} from './state.js'

// Peers of a cluster share their installed licenses (SPEC 4, cluster; SPEC 11). Cisco: "A
// cluster license is shared among all the nodes. For example, Node 1 has 10 licenses, if 11th
// endpoint tries to register then the Node automatically borrows 1 license from other nodes",
// and "Within a cluster if 1 node consumes more than the installed licenses then only the number
// of installed licenses will be reported" (a 2-node cluster with 10 each: one node can consume
// 20, and it reports 10). Pure: the nodes and their numbers in, the shares out.

export type LicenseCountMap = Partial<Record<LicenseType, number>>

export interface ClusterNode {
  name: string
  /** installed licenses per type: reserved (SLR/PLR, not stopped), or authorized (granted by the server) */
  installed: LicenseCountMap
  inUse: LicenseCountMap
  /**
   * true for a node registered with a license server: what no peer can lend it, it asks the
   * server for (it reports it); a node under a reservation has no server to ask, and that part
   * is out of compliance
   */
  asksServer: boolean
}

export interface ClusterShareLine {
  type: LicenseType
  installed: number
  inUse: number
  /**
   * what the node reports for the type: its own licenses in use plus those its peers use
   * (lent), never more than it has installed; a node registered with a server adds what no
   * peer could lend it (its request for more)
   */
  reported: number
  /** licenses of peers this node uses because its own are used up */
  borrowed: number
  /** licenses of this node that peers use */
  lent: number
  status: 'Authorized' | 'Out of compliance'
}

export type ClusterShare = Partial<Record<LicenseType, ClusterShareLine>>

/**
 * Nodes are served in the order given (the primary first), lenders in the same order, so the
 * answer is the same on every node. A line is given for every type a node has installed,
 * uses or lends.
 */
export function shareClusterLicenses(nodes: ClusterNode[]): Array<{name: string; licenses: ClusterShareLine[]}> {
  const out = nodes.map((n) => ({name: n.name, licenses: [] as ClusterShareLine[]}))
  for (const type of LICENSE_TYPES) {
    const installed = nodes.map((n) => Math.max(0, n.installed[type] ?? 0))
    const inUse = nodes.map((n) => Math.max(0, n.inUse[type] ?? 0))
    const own = nodes.map((_, i) => Math.min(inUse[i]!, installed[i]!))
    const spare = nodes.map((_, i) => installed[i]! - own[i]!)
    const borrowed = nodes.map(() => 0)
    const lent = nodes.map(() => 0)
    // the seed: "The license is borrowed only if there are no available … licenses in Node 1"
    nodes.forEach((_, i) => {
      let need = inUse[i]! - own[i]!
      for (let j = 0; j < nodes.length && need > 0; j++) {
        if (j === i || spare[j]! === 0) continue
        const take = Math.min(need, spare[j]!)
        spare[j]! -= take
        lent[j]! += take
        borrowed[i]! += take
        need -= take
      }
    })
    nodes.forEach((node, i) => {
      if (installed[i] === 0 && inUse[i] === 0 && lent[i] === 0) return
      const uncovered = inUse[i]! - own[i]! - borrowed[i]!
      out[i]!.licenses.push({
        type, installed: installed[i]!, inUse: inUse[i]!,
        reported: own[i]! + lent[i]! + (node.asksServer ? uncovered : 0),
        borrowed: borrowed[i]!, lent: lent[i]!,
        status: uncovered === 0 ? 'Authorized' : 'Out of compliance',
      })
    })
  }
  return out
}

/** What a node has installed per type at `at`: its reservation (entitlements not stopped), or what the server granted while the authorization holds. */
export function installedLicenses(state: LicensingState, authorizationValid: boolean): {installed: LicenseCountMap; asksServer: boolean} {
  const installed: LicenseCountMap = {}
  if (state.reservation.state === 'installed') {
    const all = state.reservation.entitlements as unknown as Array<{type: string; count: number; expired?: boolean}>
    for (const e of all) {
      if (e.expired || !(LICENSE_TYPES as readonly string[]).includes(e.type)) continue
      installed[e.type as LicenseType] = (installed[e.type as LicenseType] ?? 0) + e.count
    }
    return {installed, asksServer: false}
  }
  if (authorizationValid) {
    for (const l of state.authorization.licenses) if (Number.isSafeInteger(l.granted) && l.granted > 0) installed[l.type] = l.granted
  }
  return {installed, asksServer: state.registration.state === 'registered'}
}
