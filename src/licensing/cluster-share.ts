import {resolve} from 'node:path'
import {readCluster, readUsage} from '../areas/state.js'
import {DirectoryReader} from '../unit/directory-store.js'
import type {UnitReader} from '../unit/store.js'
import {shareClusterReservations, type ClusterNodeReservation} from './reservation.js'
import {readLicensing, type LicenseType} from './state.js'

export type ClusterShare = Partial<Record<LicenseType, 'Authorized' | 'Out of compliance'>>

/**
 * SPEC 4 (cluster): peers share reserved licenses. For a unit in a cluster with a reservation
 * installed, the per-license status its peers' spare reserved licenses give it; undefined
 * otherwise. Peers that cannot be read lend nothing.
 */
export function clusterShareOf(unit: {path: string; files: UnitReader}): ClusterShare | undefined {
  const cluster = readCluster(unit.files).cluster
  if (!cluster) return undefined
  if (readLicensing(unit.files).reservation.state !== 'installed') return undefined
  const self = unit.path
  const members = [...new Set([cluster.primary, ...cluster.peers].map((p) => resolve(self, p)))]
  if (!members.includes(self)) members.push(self)
  const nodes: ClusterNodeReservation[] = []
  for (const path of members) {
    try {
      // peers are the units this one was clustered with; read through the same link-refusing reader
      const files = path === self ? unit.files : new DirectoryReader(path)
      const state = readLicensing(files)
      const usage = readUsage(files)
      nodes.push({
        name: path,
        entitlements: state.reservation.state === 'installed' ? state.reservation.entitlements : [],
        inUse: {rms: usage.calls, room: usage.room, desktop: usage.desktop},
      })
    } catch {
      // an unreadable peer lends nothing
    }
  }
  const mine = shareClusterReservations(nodes).find((n) => n.name === self)
  if (!mine) return undefined
  return Object.fromEntries(mine.licenses.map((l) => [l.type, l.status])) as ClusterShare
}
