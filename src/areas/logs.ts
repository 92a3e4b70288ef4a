import {type AreaModule, folder} from './area.js'

/** Log files. */
export const LOGS = {dir: 'mnt/harddisk/log'} as const

export const logsArea: AreaModule = {
  name: 'logs',
  title: 'log files',
  files: [folder(LOGS.dir)],
  question: {flag: 'l', long: 'save-logs', prompt: 'Save log files [YES/NO]?', order: 9, legacyPrompt: 'Save log files [YES/NO]?', legacyOrder: 7},
  resetSource: 'delete',
  backup: false,
  restore: 'none',
  resetDetail: ({action}) => (action === 'kept' ? 'saved' : 'deleted; log folder left empty'),
  applyReset(ctx) {
    if (ctx.action !== 'kept') ctx.mkdir(LOGS.dir)
  },
  inspect({files}) {
    // stats only: logs are never read
    const logs = files.walk(LOGS.dir).filter((e) => e.stat.kind === 'file')
    return {logs: {files: logs.length, bytes: logs.reduce((n, e) => n + e.stat.size, 0)}}
  },
}
