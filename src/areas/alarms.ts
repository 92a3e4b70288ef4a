import {isUnauthorized} from '../licensing/status.js'
import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file} from './area.js'
import {readLicensing} from './licensing.js'
import {readUsage} from './usage.js'

/** Active alarms. */
export const ALARMS = {file: 'tandberg/persistent/alarms.json'} as const

export interface Alarm {
  /** stable: Cisco's number where Cisco has one (30042, 30044), else the project's own (9xxxx, docs/licensing-agent.md); older files may hold null */
  id: number | null
  key: string
  title: string
  raisedAt: string
}

export interface AlarmsFile {
  alarms: Alarm[]
}

export const readAlarms = (files: UnitReader) => readJson<AlarmsFile>(files, ALARMS.file, {alarms: []})

/**
 * Alarms of the appliance that xway raises; titles follow the appliance's wording. 30042 and
 * 30044 are Cisco's numbers; Cisco publishes none for the others, which carry the project's own
 * (90001…, never reused).
 */
export const ALARM_DEFS = {
  'smart-licensing-registration': {id: 30042, title: 'Smart licensing registration is not working: the unit cannot reach the licensing server'},
  'smart-licensing-authorization': {id: 30044, title: 'Smart licensing authorization is not working: the unit cannot reach the licensing server'},
  'export-control-approaching': {id: 90001, title: 'Export control: calls and registrations have reached 90% of the limit'},
  'export-control-reached': {id: 90002, title: 'Export control: calls and registrations have reached the limit; new sessions are refused'},
  'smart-licensing-reservation-expired': {id: 90003, title: 'Smart licensing reservation has expired: the licensed feature has stopped'},
  'evaluation-expired': {id: 90004, title: 'Smart licensing evaluation period has expired: the unit is unauthorized'},
} as const

export type AlarmKey = keyof typeof ALARM_DEFS

export function raiseAlarm(file: AlarmsFile, key: AlarmKey, at: Date): AlarmsFile {
  if (file.alarms.some((a) => a.key === key)) return file
  const def = ALARM_DEFS[key]
  return {alarms: [...file.alarms, {id: def.id, key, title: def.title, raisedAt: at.toISOString()}]}
}

export function clearAlarm(file: AlarmsFile, key: AlarmKey): AlarmsFile {
  return {alarms: file.alarms.filter((a) => a.key !== key)}
}

export const alarmsArea: AreaModule = {
  name: 'alarms',
  title: 'alarms',
  files: [file(ALARMS.file, 'json', {required: true})],
  question: null,
  resetSource: 'payload',
  backup: false,
  restore: 'none',
  resetDetail: ({alarms}) => (alarms.length > 0 ? 'cleared; 30042 and 30044 raised (no DNS server)' : 'cleared'),
  applyReset(ctx) {
    if (ctx.action === 'kept') return
    let file: AlarmsFile = {alarms: []}
    for (const key of ctx.alarms) file = raiseAlarm(file, key as AlarmKey, ctx.at)
    ctx.putJson(ALARMS.file, file)
  },
  inspect: ({files, at}) => ({alarms: alarmsAt(files, at).map(({id, key, title}) => ({id, key, title}))}),
}

/**
 * The alarms that hold at `at`: those stored (raised by exchanges, resets and boot), with the
 * ones that follow from stored state and the clock alone computed afresh — the evaluation's
 * Unauthorized state (90 days, not registered) and the export-control state — so that a unit
 * shows them without a boot or an exchange first. Ids come from ALARM_DEFS (older files hold null).
 */
export function alarmsAt(files: UnitReader, at: Date): Alarm[] {
  const exportControl = readUsage(files).exportControl.state
  const holds = new Map<string, boolean>([
    ['evaluation-expired', isUnauthorized(readLicensing(files), at)],
    ['export-control-approaching', exportControl === 'approaching'],
    ['export-control-reached', exportControl === 'reached'],
  ])
  let file: AlarmsFile = {alarms: readAlarms(files).alarms.filter((a) => holds.get(a.key) !== false)}
  for (const [key, on] of holds) if (on) file = raiseAlarm(file, key as AlarmKey, at)
  return file.alarms.map((a) => ({...a, id: (ALARM_DEFS as Record<string, {id: number}>)[a.key]?.id ?? a.id}))
}
