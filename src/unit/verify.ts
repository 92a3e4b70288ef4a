import {createPrivateKey} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {readFips, readUsers} from '../areas/state.js'
import {policyFor} from '../crypto/policy.js'
import {isPasswordHash} from '../crypto/password.js'
import {parseOpenSshPublicKey, sshKeyPairMatches} from '../crypto/ssh.js'
import {certificateInfo, certificateMatchesKey} from '../crypto/x509.js'
import {QUOVADIS_FILE, QUOVADIS_ROOT_CA_2_FINGERPRINT, readTrustStore} from '../licensing/trust-store.js'
import {areaOf} from '../areas/registry.js'
import {walk} from './fsutil.js'
import {P, SSH_KEY_TYPES, sshKeyPath, unitPath} from './paths.js'
import {hasJournal} from './transaction.js'
import {parseProductInfo} from './unit.js'

export interface VerifyProblem {
  area: string | null
  path: string
  message: string
}

export interface VerifyResult {
  unit: string
  ok: boolean
  problems: VerifyProblem[]
  warnings: VerifyProblem[]
}

const JSON_FILES = [P.config, P.ip, P.mgmt, P.users, P.fips, P.licensing, P.optionKeys, P.cluster, P.alarms, P.usage]
const SECRET_FILES = [P.systemKey, P.users, P.serverKey, P.agentKey, P.pendingToken, P.proxyPassword]

/** Checks structure, formats, permissions, key/certificate pairs, and that no operation is half done. */
export function verifyUnit(unitArg: string): VerifyResult {
  const u = unitArg
  const problems: VerifyProblem[] = []
  const warnings: VerifyProblem[] = []
  const problem = (path: string, message: string) => problems.push({area: areaOf(path), path, message})
  const at = (rel: string) => unitPath(u, rel)

  if (!existsSync(u) || !statSync(u).isDirectory()) {
    return {unit: unitArg, ok: false, problems: [{area: null, path: '.', message: 'not a directory'}], warnings}
  }
  if (hasJournal(u)) problem(P.journal, 'an operation was interrupted and is not finished: run xway image recover')
  if (!existsSync(at(P.productInfo))) {
    problem(P.productInfo, 'missing: this is not a unit')
    return {unit: unitArg, ok: false, problems, warnings}
  }
  try {
    parseProductInfo(readFileSync(at(P.productInfo), 'utf8'))
  } catch (error) {
    problem(P.productInfo, (error as Error).message)
  }
  for (const rel of JSON_FILES) {
    if (!existsSync(at(rel))) problem(rel, 'missing')
    else {
      try {
        JSON.parse(readFileSync(at(rel), 'utf8'))
      } catch {
        problem(rel, 'not valid JSON')
      }
    }
  }
  if (!existsSync(at(P.systemKey))) problem(P.systemKey, 'missing')
  else if (!/^[0-9a-f]{64}\n?$/.test(readFileSync(at(P.systemKey), 'utf8'))) problem(P.systemKey, 'not a 32-byte hex key')
  if (existsSync(at(P.releaseKey)) && !/^\d{16}\n?$/.test(readFileSync(at(P.releaseKey), 'utf8'))) problem(P.releaseKey, 'not a 16-digit release key')
  for (const rel of SECRET_FILES) {
    if (existsSync(at(rel)) && (statSync(at(rel)).mode & 0o077) !== 0) problem(rel, 'holds a secret but is readable by group or others (must be 0600)')
  }
  let fips = false
  try {
    fips = readFips(u).enabled
    const users = readUsers(u)
    for (const who of ['root', 'admin'] as const) {
      if (!users[who] || !isPasswordHash(users[who].hash)) problem(P.users, `${who}: not a SHA-512 crypt hash`)
    }
  } catch {}
  const policy = policyFor(fips)
  for (const type of SSH_KEY_TYPES) {
    const rel = sshKeyPath(type)
    const hasPriv = existsSync(at(rel))
    const hasPub = existsSync(at(`${rel}.pub`))
    if (!hasPriv && !hasPub) continue
    if (hasPriv !== hasPub) {
      problem(rel, 'private and public halves are not both present')
      continue
    }
    if ((statSync(at(rel)).mode & 0o077) !== 0) problem(rel, 'private key must be 0600')
    try {
      const pub = readFileSync(at(`${rel}.pub`), 'utf8')
      if (!sshKeyPairMatches(readFileSync(at(rel), 'utf8'), pub)) problem(rel, 'private key does not match its .pub')
      const k = parseOpenSshPublicKey(pub)
      if (!policy.allowsSshKey({type: k.type, bits: k.bits})) problem(rel, `${k.type}-${k.bits} is not allowed by the ${policy.name} crypto policy`)
    } catch (error) {
      problem(rel, (error as Error).message)
    }
  }
  const hasCert = existsSync(at(P.serverCert))
  const hasKey = existsSync(at(P.serverKey))
  if (hasCert !== hasKey) problem(P.serverCert, 'server certificate and key are not both present')
  if (hasCert && hasKey) {
    try {
      const pem = readFileSync(at(P.serverCert), 'utf8')
      if (!certificateMatchesKey(pem, createPrivateKey(readFileSync(at(P.serverKey))))) problem(P.serverCert, 'does not match server.key')
      const info = certificateInfo(pem)
      if (!policy.allowsServerKey({bits: info.keyBits, signatureHash: info.signatureHash})) problem(P.serverCert, `RSA-${info.keyBits}/${info.signatureHash} is not allowed by the ${policy.name} crypto policy`)
    } catch (error) {
      problem(P.serverCert, (error as Error).message)
    }
  }
  try {
    const store = readTrustStore(u)
    const qv = store.find((a) => !a.lab)
    if (!qv) problem(`${P.licensingTrustDir}/${QUOVADIS_FILE}`, 'QuoVadis Root CA 2 is missing from the agent trust store')
    else if (qv.fingerprint !== QUOVADIS_ROOT_CA_2_FINGERPRINT) problem(`${P.licensingTrustDir}/${QUOVADIS_FILE}`, 'is not QuoVadis Root CA 2 (fingerprint differs from the pinned one)')
  } catch (error) {
    problem(P.licensingTrustDir, (error as Error).message)
  }
  for (const rel of [P.payloadRk, P.payloadImage]) {
    if (!existsSync(at(rel))) warnings.push({area: null, path: rel, message: 'missing: factory reset will need it copied in'})
  }
  for (const e of walk(u)) {
    if (e.stat.isBlockDevice() || e.stat.isCharacterDevice() || e.stat.isFIFO() || e.stat.isSocket()) problem(e.rel, 'device, FIFO or socket inside a unit')
  }
  return {unit: unitArg, ok: problems.length === 0, problems, warnings}
}
