import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file} from './area.js'

/** The dedicated management interface. */
export const MGMT = {file: 'tandberg/persistent/network/mgmt.json'} as const

export interface MgmtConfig {
  enabled: boolean
  address: string | null
}

export const readMgmt = (files: UnitReader) => readJson<MgmtConfig>(files, MGMT.file)

export const mgmtArea: AreaModule = {
  name: 'mgmt',
  title: 'dedicated management interface configuration',
  files: [file(MGMT.file, 'json', {required: true})],
  question: {flag: 'm', long: 'keep-mgmt', prompt: 'Keep dedicated management interface configuration [YES/NO]?', order: 5, legacyPrompt: null, legacyOrder: null},
  resetSource: 'payload',
  backup: true,
  restore: 'replace',
  resetDetail: ({action}) => (action === 'kept' ? 'kept' : 'factory defaults'),
  inspect: ({files}) => ({mgmt: readMgmt(files)}),
}
