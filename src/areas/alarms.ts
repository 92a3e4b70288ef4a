import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file} from './area.js'

/** Active alarms. */
export const ALARMS = {file: 'tandberg/persistent/alarms.json'} as const

export interface Alarm {
  id: number | null
  key: string
  title: string
  raisedAt: string
}

export interface AlarmsFile {
  alarms: Alarm[]
}

export const readAlarms = (files: UnitReader) => readJson<AlarmsFile>(files, ALARMS.file, {alarms: []})

/** Alarms of the appliance that xway raises; titles follow the appliance's wording. */
export const ALARM_DEFS = {
  'smart-licensing-registration': {id: 30042, title: 'Smart licensing registration is not working: the unit cannot reach the licensing server'},
  'smart-licensing-authorization': {id: 30044, title: 'Smart licensing authorization is not working: the unit cannot reach the licensing server'},
  'export-control-approaching': {id: null, title: 'Export control: calls and registrations have reached 90% of the limit'},
  'export-control-reached': {id: null, title: 'Export control: calls and registrations have reached the limit; new sessions are refused'},
  'smart-licensing-reservation-expired': {id: null, title: 'Smart licensing reservation has expired: the licensed feature has stopped'},
  'evaluation-expired': {id: null, title: 'Smart licensing evaluation period has expired: the unit is unauthorized'},
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
  inspect: ({files}) => ({alarms: readAlarms(files).alarms.map(({id, key, title}) => ({id, key, title}))}),
}
