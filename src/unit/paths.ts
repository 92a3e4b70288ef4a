import {isTransient, TOOL} from './tool-paths.js'

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
  toolDir: TOOL.dir,
  lock: TOOL.lock,
  journal: TOOL.journal,
  txnDir: TOOL.txnDir,
  trashDir: TOOL.trashDir,
  audit: TOOL.audit,
} as const

export {isTransient}

export const SSH_KEY_TYPES = ['rsa', 'ecdsa', 'ed25519'] as const
export function sshKeyPath(type: string): string {
  return `${P.sshDir}/ssh_host_${type}_key`
}
