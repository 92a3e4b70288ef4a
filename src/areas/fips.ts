import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file, folder} from './area.js'

/** FIPS 140 configuration. */
export const FIPS = {dir: 'tandberg/persistent/fips', file: 'tandberg/persistent/fips/fips.json'} as const

export interface FipsConfig {
  enabled: boolean
  enabledAt?: string | null
}

export const readFips = (files: UnitReader) => readJson<FipsConfig>(files, FIPS.file, {enabled: false})

export const fipsArea: AreaModule = {
  name: 'fips',
  title: 'FIPS 140 configuration',
  files: [folder(FIPS.dir), file(FIPS.file, 'json', {required: true})],
  question: {flag: 'f', long: 'keep-fips', prompt: 'Keep FIPS 140 configuration [YES/NO]?', order: 3, legacyPrompt: 'Keep FIPS140 configuration [YES/NO]?', legacyOrder: 2},
  resetSource: 'payload',
  backup: false,
  restore: 'none',
  resetDetail: ({action, fipsEnabled}) => (action === 'kept' ? `kept (${fipsEnabled ? 'on' : 'off'})` : 'factory default (off)'),
  inspect: ({files}) => ({fips: {enabled: readFips(files).enabled}}),
}
