import {openUnit} from '../areas/open.js'
import {AREAS} from '../areas/registry.js'
import type {LicensingView} from '../licensing/status.js'

/** SPEC 5: the contract scripts rely on. Never holds a secret. */
export interface InspectResult {
  unit: string
  formatVersion: 1
  brand: string
  type: string
  edition: string
  softwareVersion: string
  hardware: {pid: string; serial: string; udi: string}
  fips: {enabled: boolean}
  network: {hostname: string; domain: string; dns: string[]; lan1: {address: string; gateway: string | null}}
  mgmt: {enabled: boolean; address: string | null}
  ssh: {hostKeys: Array<{type: string; bits: number; fingerprint: string}>}
  certificates: {server: {subject: string; fingerprint: string} | null; trustStore: Array<{subject: string; fingerprint: string}>; sni: Array<{subject: string; fingerprint: string}>}
  users: {root: {default: boolean}; admin: {default: boolean}}
  optionKeys: Array<{key: string; feature: string; name: string}>
  licensing: LicensingView
  usage: {calls: number; desktop: number; room: number; webrtc: boolean; exportControl: {limit: number | null; state: string}}
  logs: {files: number; bytes: number}
  alarms: Array<{id: number | null; key: string; title: string}>
  cluster: {name: string; primary: string; peers: string[]} | null
}

/** SPEC 5's order of the fields; each area module gives its own (AreaModule.inspect). */
const FIELD_ORDER = ['unit', 'formatVersion', 'brand', 'type', 'edition', 'softwareVersion', 'hardware', 'fips', 'network', 'mgmt', 'ssh',
  'certificates', 'users', 'optionKeys', 'licensing', 'usage', 'logs', 'alarms', 'cluster']

/** `image inspect`: every area's view of the unit, in SPEC 5's order. */
export async function inspectUnit(unitArg: string, at: Date): Promise<InspectResult> {
  const unit = await openUnit(unitArg)
  try {
    const fields: Record<string, unknown> = {unit: unitArg, formatVersion: 1}
    for (const a of AREAS) Object.assign(fields, a.inspect?.({files: unit.files, info: unit.info, path: unit.path, at}))
    const rank = (k: string) => (FIELD_ORDER.includes(k) ? FIELD_ORDER.indexOf(k) : FIELD_ORDER.length)
    return Object.fromEntries(Object.entries(fields).sort(([x], [y]) => rank(x) - rank(y))) as unknown as InspectResult
  } finally {
    unit.store.close()
  }
}
