import {createPrivateKey} from 'node:crypto'
import {CERTS, generateServerCertificate} from '../areas/certs.js'
import {generateSshHostKeys, sshKeyPath} from '../areas/ssh-keys.js'
import {AAS_FEATURE, hasFeature, readOptionKeys} from '../areas/option-keys.js'
import {FIPS, type FipsConfig, readFips} from '../areas/fips.js'
import {readIp} from '../areas/ip.js'
import {FIPS_POLICY, policyFor, type SshKeyType} from '../crypto/policy.js'
import {parseOpenSshPublicKey} from '../crypto/ssh.js'
import {certificateInfo} from '../crypto/x509.js'
import {RefusedError} from '../errors.js'
import type {UnitReader} from '../unit/store.js'
import {changeUnit, openUnit} from '../areas/open.js'
import {isX142Expressway, type ProductInfo} from '../product.js'
import {FIPS_EXPORT_CONTROL_MESSAGE} from './create.js'

export interface FipsStatusResult {
  unit: string
  fips: {enabled: boolean; enabledAt: string | null}
  policy: 'default' | 'fips'
  /** whether FIPS 140 mode can be entered on this unit (true while it is on) */
  available: boolean
  /** why not, when not available; null otherwise */
  reason: string | null
}

export interface FipsChangeResult extends FipsStatusResult {
  /** false when the unit already was in the asked mode */
  changed: boolean
  rekeyed: {sshKeysRemoved: string[]; sshKeysGenerated: string[]; serverCertificateReissued: boolean}
  notes: string[]
}

/** Every ssh host key type a unit may hold, DSA included (only ever to remove it). */
const ALL_SSH_TYPES: SshKeyType[] = ['rsa', 'ecdsa', 'ed25519', 'dsa']

/**
 * Where FIPS 140 mode is available (facts, "FIPS 140-2"): not on the export-restricted Expressway
 * Series from X14.2; elsewhere (VCS, Select, Expressway before X14.2) with the Advanced Account
 * Security option key (J00).
 */
export function fipsAvailability(info: ProductInfo, keys: string[]): {available: boolean; reason: string | null; actions: string[]} {
  if (isX142Expressway(info) && info.edition === 'standard') {
    return {
      available: false,
      reason: `${FIPS_EXPORT_CONTROL_MESSAGE}: FIPS 140 is not available on the export-restricted Expressway Series from X14.2.`,
      actions: ['Use a VCS or Expressway Select unit with the Advanced Account Security key (116341J00-…) for FIPS 140 mode.'],
    }
  }
  if (!hasFeature(keys, AAS_FEATURE)) {
    return {
      available: false,
      reason: 'FIPS 140 mode needs the Advanced Account Security option key (116341J00-…), and this unit does not have it.',
      actions: ['Add the key first: xway option-keys add UNIT 116341J00-<m>-<8 characters>'],
    }
  }
  return {available: true, reason: null, actions: []}
}

function statusOf(unitArg: string, info: ProductInfo, fips: FipsConfig, keys: string[]): FipsStatusResult {
  const a = fips.enabled ? {available: true, reason: null} : fipsAvailability(info, keys)
  return {
    unit: unitArg,
    fips: {enabled: fips.enabled, enabledAt: fips.enabled ? fips.enabledAt ?? null : null},
    policy: policyFor(fips.enabled).name,
    available: a.available,
    reason: a.reason,
  }
}

export async function fipsStatus(unitArg: string): Promise<FipsStatusResult> {
  const unit = await openUnit(unitArg)
  return statusOf(unitArg, unit.info, readFips(unit.files), readOptionKeys(unit.files).keys)
}

/**
 * `fips enter`: re-keys what FIPS 140 does not approve, then records the mode. SSH host keys:
 * RSA ≥ 3072 and ECDSA P-256/P-384 are kept, ed25519 and DSA (and weaker keys) removed, and what
 * FIPS_POLICY lists and is missing is generated. The server key is kept when it is RSA ≥ 2048
 * with a SHA-256 (or stronger) signature, else re-issued (self-signed, like a first boot).
 * Password hashes are SHA-512 crypt already. From then on policyFor(true) applies to the unit.
 */
export async function enterFips(unitArg: string, at: Date): Promise<FipsChangeResult> {
  return changeUnit(unitArg, 'fips enter', (tx, unit) => {
    const u = unit.files
    const fips = readFips(u)
    const keys = readOptionKeys(u).keys
    const rekeyed = {sshKeysRemoved: [] as string[], sshKeysGenerated: [] as string[], serverCertificateReissued: false}
    if (fips.enabled) return {...statusOf(unitArg, unit.info, fips, keys), changed: false, rekeyed, notes: ['FIPS 140 mode is already on.']}
    const availability = fipsAvailability(unit.info, keys)
    if (!availability.available) throw new RefusedError(availability.reason!, {actions: availability.actions.map((a) => a.replace('UNIT', unitArg))})

    const ip = readIp(u)
    const present = new Set<SshKeyType>()
    const unapproved: string[] = []
    for (const type of ALL_SSH_TYPES) {
      const rel = sshKeyPath(type)
      const files = [rel, `${rel}.pub`].filter((f) => u.stat(f) !== null)
      if (files.length === 0) continue
      let approved = false
      if (files.length === 2) {
        try {
          const k = parseOpenSshPublicKey(u.read(`${rel}.pub`)!.toString('utf8'))
          approved = k.type === type && FIPS_POLICY.allowsSshKey({type: k.type, bits: k.bits})
        } catch {
          approved = false
        }
      }
      if (approved) present.add(type)
      else {
        unapproved.push(...files)
        rekeyed.sshKeysRemoved.push(type)
      }
    }
    const missing = FIPS_POLICY.sshHostKeys.filter((k) => !present.has(k.type))
    const generated = missing.length === 0 ? [] : generateSshHostKeys({...FIPS_POLICY, sshHostKeys: missing}, () => undefined, `root@${ip.hostname || 'expressway'}`)
    // a file replaced by a new key is overwritten (one rename), never deleted first: killed in
    // between, the unit would briefly lack that key
    for (const f of unapproved) if (!generated.some((g) => g.rel === f)) tx.delete(f)
    for (const f of generated) tx.write(f.rel, f.data, f.mode)
    rekeyed.sshKeysGenerated.push(...missing.map((k) => `${k.type}-${k.bits}`))

    if (!serverKeyApproved(u)) {
      const fqdn = [ip.hostname || 'expressway', ip.domain].filter(Boolean).join('.')
      for (const f of generateServerCertificate(FIPS_POLICY, undefined, fqdn, at)) tx.write(f.rel, f.data, f.mode)
      rekeyed.serverCertificateReissued = true
    }

    const next: FipsConfig = {enabled: true, enabledAt: at.toISOString()}
    tx.writeJson(FIPS.file, next)
    tx.audit({action: 'enter', sshKeysRemoved: rekeyed.sshKeysRemoved, sshKeysGenerated: rekeyed.sshKeysGenerated, serverCertificateReissued: rekeyed.serverCertificateReissued})
    return {...statusOf(unitArg, unit.info, next, keys), changed: true, rekeyed, notes: []}
  })
}

/** RSA ≥ 2048 signed with SHA-256 or stronger, certificate matching; false when missing or unreadable. */
function serverKeyApproved(u: UnitReader): boolean {
  const keyPem = u.read(CERTS.serverKey)
  const certPem = u.read(CERTS.serverCert)
  if (keyPem === null || certPem === null) return false
  try {
    const key = createPrivateKey(keyPem)
    if (key.asymmetricKeyType !== 'rsa') return false
    const info = certificateInfo(certPem.toString('utf8'))
    return FIPS_POLICY.allowsServerKey({bits: info.keyBits, signatureHash: info.signatureHash})
  } catch {
    return false
  }
}

/**
 * `fips leave`: on the appliance FIPS 140 mode ends only with a factory reset that does not keep
 * the FIPS 140 configuration (-f). xway's `fips leave` resets the FIPS configuration alone and
 * keeps every key: keys made under the FIPS policy are valid under the default policy too.
 */
export async function leaveFips(unitArg: string): Promise<FipsChangeResult> {
  return changeUnit(unitArg, 'fips leave', (tx, unit) => {
    const u = unit.files
    const fips = readFips(u)
    const keys = readOptionKeys(u).keys
    const rekeyed = {sshKeysRemoved: [], sshKeysGenerated: [], serverCertificateReissued: false}
    if (!fips.enabled) return {...statusOf(unitArg, unit.info, fips, keys), changed: false, rekeyed, notes: ['FIPS 140 mode is not on.']}
    const next: FipsConfig = {enabled: false, enabledAt: null}
    tx.writeJson(FIPS.file, next)
    tx.audit({action: 'leave'})
    return {
      ...statusOf(unitArg, unit.info, next, keys), changed: true, rekeyed,
      notes: ['On the appliance, FIPS 140 mode ends with a factory reset that does not keep the FIPS 140 configuration; xway resets that configuration alone and keeps the keys, which the default policy accepts.'],
    }
  })
}
