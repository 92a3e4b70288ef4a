import {exportControlLimit, type ExportControlState, type SessionCounts} from '../licensing/export-control.js'
import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file} from './area.js'

/** Current calls, registrations, WebRTC, and the export-control state. */
export const USAGE = {file: 'tandberg/persistent/usage.json'} as const

export interface UsageFile extends SessionCounts {
  webrtc: boolean
  exportControl: {state: ExportControlState}
}

export const readUsage = (files: UnitReader) =>
  readJson<UsageFile>(files, USAGE.file, {calls: 0, desktop: 0, room: 0, webrtc: false, exportControl: {state: 'ok'}})

export const usageArea: AreaModule = {
  name: 'usage',
  title: 'usage and export-control state',
  files: [file(USAGE.file, 'json', {required: true})],
  question: null,
  resetSource: 'payload',
  backup: false,
  restore: 'none',
  resetDetail: ({action}) => (action === 'kept' ? 'kept' : 'factory defaults'),
  inspect({files, info}) {
    const usage = readUsage(files)
    return {
      usage: {
        calls: usage.calls, desktop: usage.desktop, room: usage.room, webrtc: usage.webrtc,
        exportControl: {limit: exportControlLimit(info, usage.webrtc), state: usage.exportControl.state},
      },
    }
  },
}
