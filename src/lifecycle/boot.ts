import {CERTS, generateServerCertificate} from '../areas/certs.js'
import {generateSshHostKeys, sshKeyPath} from '../areas/ssh-keys.js'
import {ALARMS, type AlarmsFile, clearAlarm, raiseAlarm, readAlarms} from '../areas/alarms.js'
import {readFips} from '../areas/fips.js'
import {readIp} from '../areas/ip.js'
import {readUsage} from '../areas/usage.js'
import {policyFor} from '../crypto/policy.js'
import {changeUnit} from '../areas/open.js'
import {bootLicensing} from '../agent/boot.js'

export interface BootResult {
  unit: string
  regenerated: string[]
  alarms: Array<{key: string; id: number | null}>
  licensing: string[]
}

/** Export-control alarms follow the stored export-control state. */
export function exportControlAlarms(alarms: AlarmsFile, state: string, at: Date): AlarmsFile {
  let next = clearAlarm(clearAlarm(alarms, 'export-control-approaching'), 'export-control-reached')
  if (state === 'approaching') next = raiseAlarm(next, 'export-control-approaching', at)
  if (state === 'reached') next = raiseAlarm(next, 'export-control-reached', at)
  // keep the original raise time of alarms that stay
  return {alarms: next.alarms.map((a) => alarms.alarms.find((o) => o.key === a.key) ?? a)}
}

/**
 * `boot`: what a restart does: first-boot work (missing ssh host keys and server certificate
 * regenerated), licensing checks that run at start, alarms re-evaluated.
 */
export async function bootUnit(unitArg: string, at: Date): Promise<BootResult> {
  return changeUnit(unitArg, 'boot', (tx, unit) => {
    const u = unit.files
    const policy = policyFor(readFips(u).enabled)
    const regenerated: string[] = []
    const ip = readIp(u)
    const missingSsh = policy.sshHostKeys.filter((k) => u.stat(sshKeyPath(k.type)) === null || u.stat(`${sshKeyPath(k.type)}.pub`) === null)
    if (missingSsh.length > 0) {
      const policyMissing = {...policy, sshHostKeys: missingSsh}
      for (const f of generateSshHostKeys(policyMissing, () => undefined, `root@${ip.hostname || 'expressway'}`)) {
        tx.write(f.rel, f.data, f.mode)
        regenerated.push(f.rel)
      }
    }
    if (u.stat(CERTS.serverCert) === null || u.stat(CERTS.serverKey) === null) {
      const fqdn = [ip.hostname || 'expressway', ip.domain].filter(Boolean).join('.')
      for (const f of generateServerCertificate(policy, undefined, fqdn, at)) {
        tx.write(f.rel, f.data, f.mode)
        regenerated.push(f.rel)
      }
    }
    const before = readAlarms(u)
    let alarms = exportControlAlarms(before, readUsage(u).exportControl.state, at)
    const lic = bootLicensing(u, alarms, at)
    alarms = lic.alarms
    for (const f of lic.writes) tx.write(f.rel, f.data, f.mode)
    if (JSON.stringify(alarms) !== JSON.stringify(before)) tx.writeJson(ALARMS.file, alarms)
    if (!tx.empty) tx.audit({regenerated: regenerated.length, licensing: lic.notes})
    return {unit: unitArg, regenerated, alarms: alarms.alarms.map((a) => ({key: a.key, id: a.id})), licensing: lic.notes}
  })
}
