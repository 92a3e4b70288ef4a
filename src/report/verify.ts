import {createPrivateKey} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {areaFiles, areaOf, structuralFolders} from '../areas/registry.js'
import type {FipsConfig, UsersFile} from '../areas/state.js'
import {policyFor} from '../crypto/policy.js'
import {isPasswordHash} from '../crypto/password.js'
import {parseOpenSshPublicKey, sshKeyPairMatches} from '../crypto/ssh.js'
import {certificateInfo, certificateMatchesKey} from '../crypto/x509.js'
import {XwayError} from '../errors.js'
import {loadPayload} from '../lifecycle/payload.js'
import {QUOVADIS_FILE, QUOVADIS_ROOT_CA_2_FINGERPRINT, readTrustStore} from '../licensing/trust-store.js'
import {openStore} from '../unit/open-store.js'
import {P, SSH_KEY_TYPES, sshKeyPath} from '../unit/paths.js'
import {resolveLinkChain, UnsafePathError} from '../unit/safe-path.js'
import type {UnitReader} from '../unit/store.js'
import {isTransient, TOOL} from '../unit/tool-paths.js'
import {parseProductInfo, type ProductInfo} from '../unit/unit.js'

export interface VerifyProblem {
  path: string
  area: string | null
  problem: string
}

export interface VerifyResult {
  unit: string
  ok: boolean
  problems: VerifyProblem[]
  warnings: VerifyProblem[]
}

const JSON_FILES = [P.config, P.ip, P.mgmt, P.users, P.fips, P.licensing, P.optionKeys, P.cluster, P.alarms, P.usage]
const SECRET_FILES = [P.systemKey, P.users, P.serverKey, P.agentKey, P.pendingToken, P.proxyPassword]

/**
 * Checks structure, formats, permissions, key/certificate pairs, links, the factory payload, and
 * that no operation is half done. Reports problems instead of refusing: a unit whose folders are
 * links is exactly what verify is for.
 */
export async function verifyUnit(unitArg: string): Promise<VerifyResult> {
  const problems: VerifyProblem[] = []
  const warnings: VerifyProblem[] = []
  const problem = (path: string, text: string) => problems.push({path, area: areaOf(path), problem: text})
  let store
  try {
    store = await openStore(unitArg)
  } catch (error) {
    return {unit: unitArg, ok: false, problems: [{path: '.', area: null, problem: (error as Error).message}], warnings}
  }
  try {
    const u = store.reader()
    if (store.hasPendingJournal()) problem(TOOL.journal, 'an operation was interrupted and is not finished: run xway image recover')
    checkEntries(u, problem)
    // reads below go through the same link-refusing reader: a refusal is a problem, not a crash
    const safely = <T>(rel: string, fn: () => T): T | undefined => {
      try {
        return fn()
      } catch (error) {
        if (error instanceof UnsafePathError) return undefined // reported by checkEntries
        problem(rel, (error as Error).message)
        return undefined
      }
    }
    const stat = (rel: string) => safely(rel, () => u.stat(rel)) ?? null
    const text = (rel: string): string | null => safely(rel, () => u.read(rel)?.toString('utf8') ?? null) ?? null
    const infoXml = text(P.productInfo)
    if (infoXml === null) {
      if (!problems.some((p) => p.path === P.productInfo)) problem(P.productInfo, 'missing: this is not a unit')
      return {unit: unitArg, ok: false, problems, warnings}
    }
    const info = safely(P.productInfo, () => parseProductInfo(infoXml))
    const json = new Map<string, unknown>()
    for (const rel of JSON_FILES) {
      const data = text(rel)
      if (data === null) {
        if (stat(rel) === null) problem(rel, 'missing')
        continue
      }
      try {
        json.set(rel, JSON.parse(data))
      } catch {
        problem(rel, 'not valid JSON')
      }
    }
    const systemKey = text(P.systemKey)
    if (systemKey === null) {
      if (stat(P.systemKey) === null) problem(P.systemKey, 'missing')
    } else if (!/^[0-9a-f]{64}\n?$/.test(systemKey)) problem(P.systemKey, 'not a 32-byte hex key')
    const rk = text(P.releaseKey)
    if (rk !== null && !/^\d{16}\n?$/.test(rk)) problem(P.releaseKey, 'not a 16-digit release key')
    for (const rel of SECRET_FILES) {
      const st = stat(rel)
      if (st?.kind === 'file' && (st.mode & 0o077) !== 0) problem(rel, 'holds a secret but is readable by group or others (must be 0600)')
    }
    const fips = (json.get(P.fips) as FipsConfig | undefined)?.enabled === true
    const users = json.get(P.users) as UsersFile | undefined
    if (users) {
      for (const who of ['root', 'admin'] as const) {
        if (!users[who] || !isPasswordHash(users[who].hash)) problem(P.users, `${who}: not a SHA-512 crypt hash`)
      }
    }
    const policy = policyFor(fips)
    for (const type of SSH_KEY_TYPES) {
      const rel = sshKeyPath(type)
      const priv = text(rel)
      const pub = text(`${rel}.pub`)
      if (priv === null && pub === null) continue
      if ((priv === null) !== (pub === null)) {
        problem(rel, 'private and public halves are not both present')
        continue
      }
      if (((stat(rel)?.mode ?? 0) & 0o077) !== 0) problem(rel, 'private key must be 0600')
      try {
        if (!sshKeyPairMatches(priv!, pub!)) problem(rel, 'private key does not match its .pub')
        const k = parseOpenSshPublicKey(pub!)
        if (!policy.allowsSshKey({type: k.type, bits: k.bits})) problem(rel, `${k.type}-${k.bits} is not allowed by the ${policy.name} crypto policy`)
      } catch (error) {
        problem(rel, (error as Error).message)
      }
    }
    const cert = text(P.serverCert)
    const key = safely(P.serverKey, () => u.read(P.serverKey)) ?? null
    if ((cert === null) !== (key === null)) problem(P.serverCert, 'server certificate and key are not both present')
    if (cert !== null && key !== null) {
      try {
        if (!certificateMatchesKey(cert, createPrivateKey(key))) problem(P.serverCert, 'does not match server.key')
        const ci = certificateInfo(cert)
        if (!policy.allowsServerKey({bits: ci.keyBits, signatureHash: ci.signatureHash})) problem(P.serverCert, `RSA-${ci.keyBits}/${ci.signatureHash} is not allowed by the ${policy.name} crypto policy`)
      } catch (error) {
        problem(P.serverCert, (error as Error).message)
      }
    }
    safely(P.licensingTrustDir, () => {
      const qv = readTrustStore(u).find((a) => !a.lab)
      if (!qv) problem(`${P.licensingTrustDir}/${QUOVADIS_FILE}`, 'QuoVadis Root CA 2 is missing from the agent trust store')
      else if (qv.fingerprint !== QUOVADIS_ROOT_CA_2_FINGERPRINT) problem(`${P.licensingTrustDir}/${QUOVADIS_FILE}`, 'is not QuoVadis Root CA 2 (fingerprint differs from the pinned one)')
    })
    if (info) await checkPayload(u, info, problem, warnings)
    return {unit: unitArg, ok: problems.length === 0, problems, warnings}
  } finally {
    store.close()
  }
}

/** Links, devices, FIFOs and sockets anywhere in the unit. */
function checkEntries(u: UnitReader, problem: (path: string, text: string) => void): void {
  const structural = new Set([...structuralFolders(), TOOL.dir, 'var/lib', 'var'])
  const declaredFiles = new Set(areaFiles())
  const visit = (dir: string): void => {
    let names: string[]
    try {
      names = u.list(dir)
    } catch {
      return
    }
    for (const name of names) {
      const rel = dir === '' ? name : `${dir}/${name}`
      if (isTransient(rel)) continue
      const st = u.stat(rel)
      if (st === null) continue
      if (st.kind === 'other') problem(rel, 'a device, FIFO or socket inside a unit')
      else if (st.kind === 'symlink') {
        const target = u.readlink(rel)
        const lands = resolveLinkChain((r) => u.stat(r), (r) => u.readlink(r), rel)
        if (structural.has(rel)) problem(rel, `a symbolic link where a folder is expected (-> ${target}): xway refuses such a unit`)
        else if (lands === 'leaves') problem(rel, `a symbolic link leaving the unit (-> ${target})`)
        else if (lands === 'loop') problem(rel, `a loop of symbolic links (-> ${target})`)
        else if (declaredFiles.has(rel)) problem(rel, `a symbolic link where a file is expected (-> ${target})`)
      } else if (st.kind === 'dir') visit(rel)
      else if (structural.has(rel)) problem(rel, 'a file where a folder is expected')
    }
  }
  visit('')
}

/** The factory payload: missing is a warning (a reset will need it); present, it must be whole. */
async function checkPayload(u: UnitReader, info: ProductInfo, problem: (path: string, text: string) => void, warnings: VerifyProblem[]): Promise<void> {
  let missing: string[]
  try {
    missing = [P.payloadRk, P.payloadImage].filter((rel) => u.stat(rel) === null)
  } catch {
    return // a linked folder on the way: reported by checkEntries
  }
  for (const rel of missing) warnings.push({path: rel, area: null, problem: 'missing: factory reset will need it copied in'})
  if (missing.length > 0) return
  const scratch = mkdtempSync(join(tmpdir(), 'xway-verify-'))
  try {
    await loadPayload(u, info, scratch)
  } catch (error) {
    if (error instanceof UnsafePathError) return
    const rel = /rk\b/.test((error as Error).message) && !/tandberg-image/.test((error as Error).message) ? P.payloadRk : P.payloadImage
    problem(rel, error instanceof XwayError ? error.message.replace(/: copy .*$/, '') : String(error))
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}
