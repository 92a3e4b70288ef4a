import {resolve} from 'node:path'
import {type ClusterNode, type ClusterShare, installedLicenses, shareClusterLicenses} from '../licensing/cluster-share.js'
import {defaultLicensingState, type LicensingState, normalizeLicensing} from '../licensing/state.js'
import {holdsAuthorization, licensingStatus} from '../licensing/status.js'
import {readTrustStore} from '../licensing/trust-store.js'
import {DirectoryReader} from '../unit/directory-store.js'
import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file, folder, type LicensingAfterReset} from './area.js'
import {readCluster} from './cluster.js'
import {readUsage} from './usage.js'

/** Smart licensing configuration, registration, authorization, reservation, agent key pair. */
export const LICENSING = {
  dir: 'tandberg/persistent/licensing',
  state: 'tandberg/persistent/licensing/licensing.json',
  agentKey: 'tandberg/persistent/licensing/agent.key',
  agentCert: 'tandberg/persistent/licensing/agent.pem',
  /** kept (0600) only while a registration is pending */
  pendingToken: 'tandberg/persistent/licensing/token',
  /** encrypted under the bootstrap key */
  proxyPassword: 'tandberg/persistent/licensing/proxy-password.enc',
} as const

export function readLicensing(files: UnitReader): LicensingState {
  return normalizeLicensing(readJson<Partial<LicensingState>>(files, LICENSING.state, {}))
}

/** The licensing state after a reset that does not keep it (the appliance's rules). */
export function licensingAfterReset(after: LicensingAfterReset, evaluationStartedAt: string | null, current: LicensingState, payload: Partial<LicensingState>): LicensingState {
  if (after === 'none') return defaultLicensingState('legacy')
  const next = normalizeLicensing(payload)
  // the lab Direct endpoint is product configuration baked at build time, like the agent trust store
  next.directUrl = current.directUrl
  if (after === 'evaluation') {
    // the seed: "-t No: the Smart Licensing is reverted to 'Direct' if the device is still an Expressway"
    next.mode = 'smart'
    next.transport = {mode: 'direct', url: null, proxy: null}
    next.evaluation = {startedAt: evaluationStartedAt}
  }
  return next
}

/**
 * Peers share their installed licenses (SPEC 4 and 11: cluster). For a unit in a cluster, its
 * share of the peers' licenses at `at` (what it borrows and reports per type); undefined
 * outside a cluster. Peers (the units this one was clustered with) are read through the same
 * link-refusing reader; a peer that cannot be read lends nothing.
 */
export function clusterShareOf(unit: {path: string; files: UnitReader}, at: Date, self?: {state: LicensingState}): ClusterShare | undefined {
  const cluster = readCluster(unit.files).cluster
  if (!cluster) return undefined
  if ((self?.state ?? readLicensing(unit.files)).mode !== 'smart') return undefined
  const me = unit.path
  const members = [...new Set([cluster.primary, ...cluster.peers].map((p) => resolve(me, p)))]
  if (!members.includes(me)) members.push(me)
  const nodes: ClusterNode[] = []
  for (const path of members) {
    try {
      const files = path === me ? unit.files : new DirectoryReader(path)
      // the unit's own state as the caller holds it (an agent run that has just exchanged), its peers' as stored
      const state = path === me && self ? self.state : readLicensing(files)
      const usage = readUsage(files)
      nodes.push({name: path, ...installedLicenses(state, holdsAuthorization(state, at)), inUse: {rms: usage.calls, room: usage.room, desktop: usage.desktop}})
    } catch {
      // an unreadable peer lends nothing
    }
  }
  const mine = shareClusterLicenses(nodes).find((n) => n.name === me)
  if (!mine) return undefined
  return Object.fromEntries(mine.licenses.map((l) => [l.type, l])) as ClusterShare
}

export const licensingArea: AreaModule = {
  name: 'licensing',
  title: 'smart licensing settings',
  files: [
    folder(LICENSING.dir), file(LICENSING.state, 'json', {required: true}), file(LICENSING.agentKey, 'opaque', {secret: true}),
    file(LICENSING.agentCert, 'opaque'), file(LICENSING.pendingToken, 'opaque', {secret: true}), file(LICENSING.proxyPassword, 'opaque', {secret: true}),
  ],
  question: {flag: 't', long: 'keep-licensing', prompt: 'Keep smart licensing settings [YES/NO]?', order: 2, legacyPrompt: null, legacyOrder: null},
  resetSource: 'payload',
  backup: true,
  restore: 'licensing',
  resetDetail: ({licensing, after, info}) => ({
    kept: 'configuration and registration kept',
    none: after.brand === info.brand ? 'factory default (no smart licensing)' : 'removed: Cisco VCS has no smart licensing',
    evaluation: 'transport Direct, registration and reservation removed, evaluation restarts',
    payload: 'factory default',
  })[licensing],
  applyReset(ctx) {
    if (ctx.action === 'kept') return
    ctx.putJson(LICENSING.state, licensingAfterReset(ctx.licensing, ctx.evaluationStartedAt, readLicensing(ctx.files), ctx.payloadJson<Partial<LicensingState>>(LICENSING.state)))
  },
  inspect(ctx) {
    const trust = readTrustStore(ctx.files).map(({subject, fingerprint, lab}) => ({subject, fingerprint, lab}))
    return {licensing: licensingStatus(readLicensing(ctx.files), readUsage(ctx.files), ctx.at, trust, clusterShareOf(ctx, ctx.at))}
  },
}
