import {type AreaModule, file, folder} from './area.js'

/** The rest of the system configuration (the xConfiguration tree). */
export const CONFIG = {dir: 'tandberg/persistent/config', file: 'tandberg/persistent/config/xconfiguration.json'} as const

export interface XConfiguration {
  Administration?: {InstallWizard?: string}
  [key: string]: unknown
}

export const configArea: AreaModule = {
  name: 'config',
  title: 'system configuration',
  files: [folder(CONFIG.dir), file(CONFIG.file, 'json', {required: true})],
  question: null,
  resetSource: 'payload',
  backup: true,
  restore: 'replace',
  resetDetail: () => 'factory defaults; Install Wizard pending',
}
