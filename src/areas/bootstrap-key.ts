import type {RandomSource} from '../crypto/random.js'
import {type AreaModule, file} from './area.js'

/** The random bootstrap key (secrets the unit must use again are encrypted under it). */
export const BOOTSTRAP_KEY = {file: 'tandberg/persistent/systemkey'} as const

/** The bootstrap key: 32 random bytes, hex, 0600. */
export function generateSystemKey(random: RandomSource): {rel: string; data: string; mode: number} {
  return {rel: BOOTSTRAP_KEY.file, data: random.bytes(32).toString('hex') + '\n', mode: 0o600}
}

export const bootstrapKeyArea: AreaModule = {
  name: 'bootstrap-key',
  title: 'bootstrap key',
  files: [file(BOOTSTRAP_KEY.file, 'hex-32', {secret: true, required: true})],
  question: null,
  resetSource: 'regenerate',
  backup: true,
  restore: 'replace',
  resetDetail: ({action}) => (action === 'kept' ? 'kept: the kept proxy password is encrypted under it' : 'new key'),
  applyReset(ctx) {
    if (ctx.action === 'kept') return
    const g = generateSystemKey(ctx.random('systemkey'))
    ctx.put(g.rel, g.data, g.mode)
  },
}
