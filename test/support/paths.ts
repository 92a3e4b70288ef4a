// Every path of a unit by name, for tests (the code itself reaches them through the area modules).
import {ALARMS} from '../../src/areas/alarms.js'
import {BOOTSTRAP_KEY} from '../../src/areas/bootstrap-key.js'
import {BRAND} from '../../src/areas/brand.js'
import {CERTS} from '../../src/areas/certs.js'
import {CLUSTER} from '../../src/areas/cluster.js'
import {CONFIG} from '../../src/areas/config.js'
import {FIPS} from '../../src/areas/fips.js'
import {IP} from '../../src/areas/ip.js'
import {LICENSING} from '../../src/areas/licensing.js'
import {LOGS} from '../../src/areas/logs.js'
import {MGMT} from '../../src/areas/mgmt.js'
import {OPTION_KEYS} from '../../src/areas/option-keys.js'
import {PASSWORDS} from '../../src/areas/passwords.js'
import {PRODUCT} from '../../src/areas/product.js'
import {SSH_KEYS} from '../../src/areas/ssh-keys.js'
import {USAGE} from '../../src/areas/usage.js'
import {TOOL} from '../../src/unit/tool-paths.js'

export {isTransient} from '../../src/unit/tool-paths.js'
export {sshKeyPath} from '../../src/areas/ssh-keys.js'

export const P = {
  productInfo: BRAND.productInfo,
  releaseKey: BRAND.releaseKey,
  systemKey: BOOTSTRAP_KEY.file,
  configDir: CONFIG.dir,
  config: CONFIG.file,
  ip: IP.file,
  mgmt: MGMT.file,
  usersDir: PASSWORDS.dir,
  users: PASSWORDS.users,
  authorizedKeys: PASSWORDS.authorizedKeys,
  fipsDir: FIPS.dir,
  fips: FIPS.file,
  licensingDir: LICENSING.dir,
  licensing: LICENSING.state,
  agentKey: LICENSING.agentKey,
  agentCert: LICENSING.agentCert,
  pendingToken: LICENSING.pendingToken,
  proxyPassword: LICENSING.proxyPassword,
  optionKeysDir: OPTION_KEYS.dir,
  optionKeys: OPTION_KEYS.file,
  certsDir: CERTS.dir,
  serverCert: CERTS.serverCert,
  serverKey: CERTS.serverKey,
  caTrustStore: CERTS.caTrustStore,
  sniDir: CERTS.sniDir,
  clusterDir: CLUSTER.dir,
  cluster: CLUSTER.file,
  alarms: ALARMS.file,
  usage: USAGE.file,
  licensingTrustDir: PRODUCT.licensingTrustDir,
  sshDir: SSH_KEYS.dir,
  logDir: LOGS.dir,
  payloadDir: PRODUCT.payloadDir,
  payloadRk: PRODUCT.payloadRk,
  payloadImage: PRODUCT.payloadImage,
  toolDir: TOOL.dir,
  lock: TOOL.lock,
  journal: TOOL.journal,
  txnDir: TOOL.txnDir,
  trashDir: TOOL.trashDir,
  audit: TOOL.audit,
} as const
