import {licensingStatus, type LicensingView} from '../licensing/status.js'
import {readLicensing} from '../licensing/state.js'
import {readTrustStore} from '../licensing/trust-store.js'
import {clusterShareOf} from '../licensing/cluster-share.js'
import {exportControlLimit} from '../licensing/export-control.js'
import {parseOptionKey} from '../areas/option-keys.js'
import {readAlarms, readCluster, readFips, readIp, readMgmt, readOptionKeys, readUsage, readUsers} from '../areas/state.js'
import {certificateInfo, splitPemBundle} from '../crypto/x509.js'
import {parseOpenSshPublicKey} from '../crypto/ssh.js'
import {openUnit} from '../areas/open.js'
import {P, SSH_KEY_TYPES, sshKeyPath} from '../unit/paths.js'
import {udiOf} from '../unit/unit.js'

/** SPEC 5: the contract scripts rely on. Never holds a secret. */
export interface InspectResult {
  unit: string
  formatVersion: 1
  brand: string
  type: string
  edition: string
  softwareVersion: string
  hardware: {pid: string; serial: string; udi: string}
  fips: {enabled: boolean}
  network: {hostname: string; domain: string; dns: string[]; lan1: {address: string; gateway: string | null}}
  mgmt: {enabled: boolean; address: string | null}
  ssh: {hostKeys: Array<{type: string; bits: number; fingerprint: string}>}
  certificates: {server: {subject: string; fingerprint: string} | null; trustStore: Array<{subject: string; fingerprint: string}>; sni: Array<{subject: string; fingerprint: string}>}
  users: {root: {default: boolean}; admin: {default: boolean}}
  optionKeys: Array<{key: string; feature: string; name: string}>
  licensing: LicensingView
  usage: {calls: number; desktop: number; room: number; webrtc: boolean; exportControl: {limit: number | null; state: string}}
  logs: {files: number; bytes: number}
  alarms: Array<{id: number | null; key: string; title: string}>
  cluster: {name: string; primary: string; peers: string[]} | null
}

function certSummary(pem: string): {subject: string; fingerprint: string} {
  const i = certificateInfo(pem)
  return {subject: i.subject, fingerprint: i.fingerprint}
}

export async function inspectUnit(unitArg: string, at: Date): Promise<InspectResult> {
  const unit = await openUnit(unitArg)
  const u = unit.files
  const info = unit.info
  const text = (rel: string) => u.read(rel)?.toString('utf8') ?? null
  const hostKeys: InspectResult['ssh']['hostKeys'] = []
  for (const type of SSH_KEY_TYPES) {
    const pub = text(`${sshKeyPath(type)}.pub`)
    if (pub === null) continue
    const k = parseOpenSshPublicKey(pub)
    hostKeys.push({type: k.type, bits: k.bits, fingerprint: k.fingerprint})
  }
  const serverPem = text(P.serverCert)
  const caPem = text(P.caTrustStore)
  const sni = u.walk(P.sniDir).filter((e) => e.stat.kind === 'file' && e.rel.endsWith('.pem'))
  const usage = readUsage(u)
  const users = readUsers(u)
  const logs = u.walk(P.logDir).filter((e) => e.stat.kind === 'file')
  return {
    unit: unitArg,
    formatVersion: 1,
    brand: info.brand,
    type: info.type,
    edition: info.edition,
    softwareVersion: info.softwareVersion,
    hardware: {pid: info.pid, serial: info.serial, udi: udiOf(info)},
    fips: {enabled: readFips(u).enabled},
    network: readIp(u),
    mgmt: readMgmt(u),
    ssh: {hostKeys},
    certificates: {
      server: serverPem === null ? null : certSummary(serverPem),
      trustStore: caPem === null ? [] : splitPemBundle(caPem).map(certSummary),
      sni: sni.flatMap((e) => splitPemBundle(text(e.rel)!).map(certSummary)),
    },
    users: {root: {default: users.root.default}, admin: {default: users.admin.default}},
    optionKeys: readOptionKeys(u).keys.map((k) => parseOptionKey(k)),
    licensing: licensingStatus(readLicensing(u), usage, at, readTrustStore(u).map(({subject, fingerprint, lab}) => ({subject, fingerprint, lab})), clusterShareOf(unit)),
    usage: {
      calls: usage.calls, desktop: usage.desktop, room: usage.room, webrtc: usage.webrtc,
      exportControl: {limit: exportControlLimit(info, usage.webrtc), state: usage.exportControl.state},
    },
    logs: {files: logs.length, bytes: logs.reduce((n, e) => n + e.stat.size, 0)},
    alarms: readAlarms(u).alarms.map(({id, key, title}) => ({id, key, title})),
    cluster: readCluster(u).cluster,
  }
}
