import {TRUST_STORE_DIR} from '../licensing/trust-store.js'

// Files of the product that are no area: a reset reinstalls from the factory payload and keeps
// the agent trust store; neither is in backups.

export const PRODUCT = {
  /** the agent's trust store: QuoVadis Root CA 2 and lab anchors baked at build */
  licensingTrustDir: TRUST_STORE_DIR,
  /** what a factory reset reinstalls */
  payloadDir: 'mnt/harddisk/factory-reset',
  payloadRk: 'mnt/harddisk/factory-reset/rk',
  payloadImage: 'mnt/harddisk/factory-reset/tandberg-image.tar.gz',
} as const
