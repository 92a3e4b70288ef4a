import {P} from '../unit/paths.js'
import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'

/** File formats of the areas (documented in docs/unit-format.md). */
export interface IpConfig {
  hostname: string
  domain: string
  dns: string[]
  lan1: {address: string; gateway: string | null}
}

export interface MgmtConfig {
  enabled: boolean
  address: string | null
}

export interface UserEntry {
  /** SHA-512 crypt hash, never the password */
  hash: string
  /** true while the factory default password is set */
  default: boolean
  /** the password must be changed at first login */
  mustChange: boolean
}

export interface UsersFile {
  root: UserEntry
  admin: UserEntry
}

export interface FipsConfig {
  enabled: boolean
  enabledAt?: string | null
}

export interface OptionKeysFile {
  keys: string[]
}

export interface ClusterFile {
  cluster: {name: string; primary: string; peers: string[]} | null
}

export interface Alarm {
  id: number | null
  key: string
  title: string
  raisedAt: string
}

export interface AlarmsFile {
  alarms: Alarm[]
}

export type ExportControlState = 'ok' | 'approaching' | 'reached'

export interface UsageFile {
  calls: number
  desktop: number
  room: number
  webrtc: boolean
  exportControl: {state: ExportControlState}
}

export const readIp = (files: UnitReader) => readJson<IpConfig>(files, P.ip)
export const readMgmt = (files: UnitReader) => readJson<MgmtConfig>(files, P.mgmt)
export const readUsers = (files: UnitReader) => readJson<UsersFile>(files, P.users)
export const readFips = (files: UnitReader) => readJson<FipsConfig>(files, P.fips, {enabled: false})
export const readOptionKeys = (files: UnitReader) => readJson<OptionKeysFile>(files, P.optionKeys, {keys: []})
export const readCluster = (files: UnitReader) => readJson<ClusterFile>(files, P.cluster, {cluster: null})
export const readAlarms = (files: UnitReader) => readJson<AlarmsFile>(files, P.alarms, {alarms: []})
export const readUsage = (files: UnitReader) =>
  readJson<UsageFile>(files, P.usage, {calls: 0, desktop: 0, room: 0, webrtc: false, exportControl: {state: 'ok'}})

/** Alarms of the appliance that xway raises; titles follow the appliance's wording. */
export const ALARMS = {
  'smart-licensing-registration': {id: 30042, title: 'Smart licensing registration is not working: the unit cannot reach the licensing server'},
  'smart-licensing-authorization': {id: 30044, title: 'Smart licensing authorization is not working: the unit cannot reach the licensing server'},
  'export-control-approaching': {id: null, title: 'Export control: calls and registrations have reached 90% of the limit'},
  'export-control-reached': {id: null, title: 'Export control: calls and registrations have reached the limit; new sessions are refused'},
  'smart-licensing-reservation-expired': {id: null, title: 'Smart licensing reservation has expired: the licensed feature has stopped'},
  'evaluation-expired': {id: null, title: 'Smart licensing evaluation period has expired: the unit is unauthorized'},
} as const

export type AlarmKey = keyof typeof ALARMS

export function raiseAlarm(file: AlarmsFile, key: AlarmKey, at: Date): AlarmsFile {
  if (file.alarms.some((a) => a.key === key)) return file
  const def = ALARMS[key]
  return {alarms: [...file.alarms, {id: def.id, key, title: def.title, raisedAt: at.toISOString()}]}
}

export function clearAlarm(file: AlarmsFile, key: AlarmKey): AlarmsFile {
  return {alarms: file.alarms.filter((a) => a.key !== key)}
}
