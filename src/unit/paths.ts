import {join, resolve} from 'node:path'

/** Paths inside a unit, following the real appliance where they are known (SPEC 2). */
export const P = {
  productInfo: 'info/product_info.xml',
  releaseKey: 'tandberg/etc/rk',
  systemKey: 'tandberg/persistent/systemkey',
  configDir: 'tandberg/persistent/config',
  config: 'tandberg/persistent/config/xconfiguration.json',
  ip: 'tandberg/persistent/network/ip.json',
  mgmt: 'tandberg/persistent/network/mgmt.json',
  usersDir: 'tandberg/persistent/users',
  users: 'tandberg/persistent/users/passwd.json',
  authorizedKeys: 'tandberg/.ssh/authorized_keys',
  fipsDir: 'tandberg/persistent/fips',
  fips: 'tandberg/persistent/fips/fips.json',
  licensingDir: 'tandberg/persistent/licensing',
  licensing: 'tandberg/persistent/licensing/licensing.json',
  agentKey: 'tandberg/persistent/licensing/agent.key',
  agentCert: 'tandberg/persistent/licensing/agent.pem',
  pendingToken: 'tandberg/persistent/licensing/token',
  proxyPassword: 'tandberg/persistent/licensing/proxy-password.enc',
  optionKeysDir: 'tandberg/persistent/optionkeys',
  optionKeys: 'tandberg/persistent/optionkeys/optionkeys.json',
  certsDir: 'tandberg/persistent/certs',
  serverCert: 'tandberg/persistent/certs/server.pem',
  serverKey: 'tandberg/persistent/certs/server.key',
  caTrustStore: 'tandberg/persistent/certs/ca.pem',
  sniDir: 'tandberg/persistent/certs/sni',
  clusterDir: 'tandberg/persistent/clusterdb',
  cluster: 'tandberg/persistent/clusterdb/cluster.json',
  alarms: 'tandberg/persistent/alarms.json',
  usage: 'tandberg/persistent/usage.json',
  licensingTrustDir: 'tandberg/etc/licensing-trust',
  sshDir: 'etc/ssh',
  logDir: 'mnt/harddisk/log',
  payloadDir: 'mnt/harddisk/factory-reset',
  payloadRk: 'mnt/harddisk/factory-reset/rk',
  payloadImage: 'mnt/harddisk/factory-reset/tandberg-image.tar.gz',
  toolDir: 'var/lib/xway',
  lock: 'var/lib/xway/lock',
  journal: 'var/lib/xway/journal',
  txnDir: 'var/lib/xway/txn',
  /** what committed deletes left behind, being removed in the background (transient) */
  trashDir: 'var/lib/xway/trash',
  audit: 'var/lib/xway/audit.jsonl',
} as const

/** What `image pack` and tree hashes leave out: the tool's transient state, never part of a unit's identity. */
export const TRANSIENT = new Set<string>([P.lock, P.journal, P.txnDir, `${P.lock}.takeover`])

export function isTransient(rel: string): boolean {
  if (TRANSIENT.has(rel)) return true
  return rel.startsWith(`${P.txnDir}/`) || rel === P.trashDir || rel.startsWith(`${P.trashDir}/`) || rel.startsWith(`${P.journal}.`) || rel.startsWith(`${P.lock}.`)
}

export function unitPath(unit: string, rel: string): string {
  return join(resolve(unit), rel)
}

export const SSH_KEY_TYPES = ['rsa', 'ecdsa', 'ed25519'] as const
export function sshKeyPath(type: string): string {
  return `${P.sshDir}/ssh_host_${type}_key`
}
