import {createHash, createPrivateKey, createPublicKey, sign, verify, X509Certificate} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {now} from '../clock.js'
import {BadInputError, RefusedError} from '../errors.js'
import {LICENSE_TYPES, zeroCounts, type LicenseCounts} from '../licensing/license-types.js'
import {canonicalPublicKey} from '../licensing/transport-security.js'
import {isUdi} from '../licensing/codes.js'
import {
  caFingerprint, LAST_SYNC_META, loadServerFiles, parseLicenseCounts, tokenHash, withStore, type ServerFiles,
} from './admin.js'
import type {OnPremInstance, PoolView} from './store.js'

// SPEC 10 "On-Prem": synchronization of an SSM On-Prem with its CSSM by signed files
// (disconnected: sync export → sync answer at the CSSM → sync import) or over HTTPS
// (connected: the same request and response, posted to the CSSM's /onprem/sync).
// Each file is {format, kind, payload, signature}: the signature is RSA-SHA256, by the
// signer's server key (DIR/server.key), over the payload's canonical JSON (sorted keys).

export const SYNC_FORMAT = 'xway-onprem-sync/1'

/** The On-Prem's meta keys: what it was linked to and the sequence numbers of its requests. */
export const ONPREM_META = {
  virtualAccount: 'onpremVirtualAccount',
  token: 'onpremToken',
  sequence: 'onpremSequence',
  imported: 'onpremImportedSequence',
  cssmCa: 'onpremCssmCaFingerprint',
} as const

/** JSON with the keys of every object sorted: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

export interface SyncRequest {
  kind: 'request'
  onPrem: {id: string; publicKey: string; hostname: string}
  /** SHA-256 fingerprint of the CSSM's lab CA the On-Prem expects (null: not known yet) */
  expectedCssmCa: string | null
  sequence: number
  virtualAccount: string
  /** until the first synchronization was imported */
  token: string | null
  usage: LicenseCounts
  instances: OnPremInstance[]
  requested: LicenseCounts
  createdAt: string
}

export interface SyncResponse {
  kind: 'response'
  cssm: {caPem: string; certPem: string}
  onPremId: string
  sequence: number
  smartAccount: string
  virtualAccount: string
  licenses: LicenseCounts
  answeredAt: string
}

interface SignedFile<T> {format: string; kind: string; payload: T; signature: string}

function signed<T extends {kind: string}>(payload: T, keyPem: string): SignedFile<T> {
  const signature = sign('sha256', Buffer.from(canonicalJson(payload)), createPrivateKey(keyPem)).toString('base64')
  return {format: SYNC_FORMAT, kind: payload.kind, payload, signature}
}

function refused(message: string, actions?: string[]): BadInputError {
  return new BadInputError(message, actions ? {actions} : undefined)
}

/** Parses a signed file's text; its signature is checked by the caller, against the key it trusts. */
export function parseSigned<T extends {kind: string}>(text: string, kind: T['kind'], what: string): SignedFile<T> {
  let file: SignedFile<T>
  try {
    file = JSON.parse(text) as SignedFile<T>
  } catch {
    throw refused(`${what} is not a synchronization file (not JSON: damaged or tampered with).`)
  }
  if (file === null || typeof file !== 'object' || file.format !== SYNC_FORMAT || typeof file.signature !== 'string' ||
    file.payload === null || typeof file.payload !== 'object' || file.payload.kind !== kind || file.kind !== kind) {
    throw refused(`${what} is not an On-Prem synchronization ${kind} (${SYNC_FORMAT}).`)
  }
  return file
}

function signatureValid(file: SignedFile<unknown>, publicKey: string): boolean {
  try {
    return verify('sha256', Buffer.from(canonicalJson(file.payload)), createPublicKey(publicKey), Buffer.from(file.signature, 'base64'))
  } catch {
    return false
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    throw new BadInputError(`Cannot read ${what} ${path}.`)
  }
}

function isCounts(value: unknown): value is LicenseCounts {
  return value !== null && typeof value === 'object' && LICENSE_TYPES.every((t) => Number.isSafeInteger((value as LicenseCounts)[t]) && (value as LicenseCounts)[t] >= 0)
}

/** More instances than one On-Prem reports is not a request of one. */
const MAX_REPORTED_INSTANCES = 100_000
const INSTANCE_STATUSES: ReadonlySet<string> = new Set(['registered', 'authorized', 'out-of-compliance', 'no-licenses-in-use', 'reserved'])

function isTime(value: unknown): value is string | null {
  return value === null || (typeof value === 'string' && value.length <= 40 && !Number.isNaN(Date.parse(value)))
}

/**
 * The product instances a request reports, checked field by field (they are listed at the
 * CSSM and shown by its portal); older requests without times or export control read as null.
 */
function reportedInstances(value: unknown[], what: string): OnPremInstance[] {
  if (value.length > MAX_REPORTED_INSTANCES) throw refused(`${what} reports more than ${MAX_REPORTED_INSTANCES} product instances.`)
  const seen = new Set<string>()
  return value.map((item, n) => {
    const i = (item ?? {}) as Record<string, unknown>
    const registeredAt = i.registeredAt ?? null
    const lastSeenAt = i.lastSeenAt ?? null
    const exportControlled = i.exportControlled ?? null
    const hostname = i.hostname ?? null
    if (typeof item !== 'object' || item === null || !isUdi(i.udi) || i.udi.length > 64 || seen.has(i.udi) ||
      !(hostname === null || (typeof hostname === 'string' && hostname.length <= 255 && !/[\0-\x1f]/.test(hostname))) ||
      typeof i.status !== 'string' || !INSTANCE_STATUSES.has(i.status) || !isCounts(i.licenses) ||
      !isTime(registeredAt) || !isTime(lastSeenAt) || !(exportControlled === null || exportControlled === 'Allowed' || exportControlled === 'Not Allowed')) {
      throw refused(`${what}: product instance ${n + 1} of its report is not a valid one.`)
    }
    seen.add(i.udi)
    const licenses = zeroCounts()
    for (const type of LICENSE_TYPES) licenses[type] = i.licenses[type]
    return {udi: i.udi, hostname, status: i.status as OnPremInstance['status'], licenses, registeredAt, lastSeenAt, exportControlled}
  })
}

/** The On-Prem's identity at its CSSM: SHA-256 (hex) of its server key's public key (DER). */
export function onPremId(publicKeyPem: string): string {
  return createHash('sha256').update(createPublicKey(publicKeyPem).export({type: 'spki', format: 'der'})).digest('hex')
}

function onPremFiles(dir: string): ServerFiles & {onPrem: NonNullable<ServerFiles['config']['onPrem']>} {
  const files = loadServerFiles(dir)
  if (!files.config.onPrem) {
    throw new RefusedError(`${dir} is a CSSM, not an On-Prem (made with \`license-server init DIR --on-prem\`).`)
  }
  return {...files, onPrem: files.config.onPrem}
}

function cssmFiles(dir: string): ServerFiles {
  const files = loadServerFiles(dir)
  if (files.config.onPrem) throw new RefusedError(`${dir} is an On-Prem: requests are answered by its CSSM.`)
  return files
}

/** The CSSM CA the On-Prem trusts: its cssm-ca.pem (connected, or given to link), else the one pinned at the first import. */
function expectedCssmCa(files: ServerFiles, pinned: string | null): string | null {
  const caFile = join(files.dir, files.config.onPrem?.cssm?.caFile ?? 'cssm-ca.pem')
  if (existsSync(caFile)) return caFingerprint(readFileSync(caFile, 'utf8'))
  return pinned
}

// ---------------------------------------------------------------- link

export interface OnPremLinkResult {virtualAccount: string; mode: 'connected' | 'disconnected'; checked: boolean; onPremId: string}

/**
 * Records the CSSM virtual account the On-Prem serves and the token (of that virtual
 * account, made at the CSSM) that links it at its first synchronization. Connected, the
 * CSSM checks the token now (`checkToken` posts it).
 */
export async function onpremLink(dir: string, input: {virtualAccount: string; token: string; cssmCa?: string},
  checkToken?: (files: ServerFiles, body: {virtualAccount: string; token: string}) => Promise<void>): Promise<OnPremLinkResult> {
  const files = onPremFiles(dir)
  const token = input.token.trim()
  if (token === '') throw new BadInputError('--token is empty.')
  if (input.cssmCa !== undefined) {
    if (files.onPrem.cssm) throw new BadInputError('--cssm-ca is for a disconnected On-Prem: a connected one has the CSSM CA it was made with.')
    let pem: string
    try {
      pem = readFileSync(input.cssmCa, 'utf8')
      new X509Certificate(pem)
    } catch {
      throw new BadInputError(`--cssm-ca ${input.cssmCa}: not a readable PEM certificate (give the CSSM's DIR/ca.pem).`)
    }
    writeFileSync(join(files.dir, 'cssm-ca.pem'), pem)
  }
  const connected = files.onPrem.cssm !== null
  if (connected && checkToken) await checkToken(files, {virtualAccount: input.virtualAccount, token})
  await withStore(dir, async (store) => {
    const linked = await store.meta(ONPREM_META.virtualAccount)
    if (linked !== null && linked !== input.virtualAccount && (await store.meta(ONPREM_META.imported)) !== null) {
      throw new RefusedError(`This On-Prem serves the virtual account ${linked} of its CSSM already.`)
    }
    await store.setMeta(ONPREM_META.virtualAccount, input.virtualAccount)
    await store.setMeta(ONPREM_META.token, token)
  })
  return {virtualAccount: input.virtualAccount, mode: connected ? 'connected' : 'disconnected', checked: connected && checkToken !== undefined, onPremId: onPremId(files.serverKeyPem)}
}

// ---------------------------------------------------------------- export (On-Prem)

export interface SyncExportResult {path: string | null; sequence: number; virtualAccount: string; requested: LicenseCounts; usage: LicenseCounts}

/** Builds, signs and records (its sequence number) the On-Prem's next request. */
export async function syncRequest(dir: string, input: {licenses?: string[]} = {}): Promise<SignedFile<SyncRequest>> {
  const files = onPremFiles(dir)
  const asked = input.licenses && input.licenses.length > 0 ? parseLicenseCounts(input.licenses) : null
  const publicKey = canonicalPublicKey(createPublicKey(files.serverKeyPem))
  const at = now()
  return withStore(dir, async (store) => {
    const va = await store.meta(ONPREM_META.virtualAccount)
    if (va === null) {
      throw new RefusedError('This On-Prem is not linked to a virtual account of its CSSM.', {
        actions: ['Link it first: `xway license-server onprem link DIR --virtual-account VA --token T` (a token of that virtual account, made at the CSSM).'],
      })
    }
    const imported = await store.meta(ONPREM_META.imported)
    const sequence = Number(await store.meta(ONPREM_META.sequence) ?? 0) + 1
    const hasAccount = (await store.accounts()).some((a) => a.virtualAccount === va)
    const usage = zeroCounts()
    const requested = zeroCounts()
    let instances: SyncRequest['instances'] = []
    if (hasAccount) {
      const pool = await store.pool(va)
      for (const l of pool.licenses) {
        usage[l.type] = l.inUse + l.reserved + l.inTransit
        // by default it asks what its units use and lack, and keeps what it has
        requested[l.type] = Math.max(l.owned, usage[l.type] + l.shortage)
      }
      instances = (await store.instances(va)).map((i) => ({
        udi: i.udi, hostname: i.hostname, status: i.status, licenses: i.licenses, registeredAt: i.registeredAt, lastSeenAt: i.lastSeenAt, exportControlled: i.exportControlled,
      }))
    }
    if (asked) for (const type of LICENSE_TYPES) requested[type] = Math.max(asked[type], usage[type])
    const payload: SyncRequest = {
      kind: 'request',
      onPrem: {id: onPremId(files.serverKeyPem), publicKey, hostname: files.config.hostname},
      expectedCssmCa: expectedCssmCa(files, await store.meta(ONPREM_META.cssmCa)),
      sequence,
      virtualAccount: va,
      token: imported === null ? await store.meta(ONPREM_META.token) : null,
      usage, instances, requested,
      createdAt: at.toISOString(),
    }
    await store.setMeta(ONPREM_META.sequence, String(sequence))
    return signed(payload, files.serverKeyPem)
  })
}

export async function syncExport(dir: string, input: {output: string; licenses?: string[]}): Promise<SyncExportResult> {
  const file = await syncRequest(dir, input)
  writeFileSync(input.output, JSON.stringify(file, null, 2) + '\n')
  const p = file.payload
  return {path: input.output, sequence: p.sequence, virtualAccount: p.virtualAccount, requested: p.requested, usage: p.usage}
}

// ---------------------------------------------------------------- answer (CSSM)

export interface SyncAnswerResult {path: string | null; onPremId: string; sequence: number; virtualAccount: string; linked: boolean; licenses: LicenseCounts}

/** Verifies an On-Prem's request, records it and allocates to it, and returns the signed response. */
export async function answerRequest(cssmDir: string, text: string, what: string): Promise<{file: SignedFile<SyncResponse>; linked: boolean}> {
  const files = cssmFiles(cssmDir)
  const file = parseSigned<SyncRequest>(text, 'request', what)
  const p = file.payload
  if (p.onPrem === null || typeof p.onPrem !== 'object' || typeof p.onPrem.publicKey !== 'string' || !Number.isSafeInteger(p.sequence) || p.sequence < 1 ||
    typeof p.virtualAccount !== 'string' || !isCounts(p.usage) || !isCounts(p.requested) || !Array.isArray(p.instances)) {
    throw refused(`${what} is not a valid On-Prem request.`)
  }
  const instances = reportedInstances(p.instances, what)
  let id: string
  try {
    id = onPremId(p.onPrem.publicKey)
  } catch {
    throw refused(`${what}: its public key is not one.`)
  }
  if (id !== p.onPrem.id || !signatureValid(file, p.onPrem.publicKey)) {
    throw refused(`${what}: its signature does not verify (the file was changed after the On-Prem signed it).`)
  }
  const mine = caFingerprint(files.caPem)
  if (p.expectedCssmCa !== null && p.expectedCssmCa !== mine) {
    throw refused(`${what} is meant for another CSSM (it expects the lab CA ${p.expectedCssmCa}; this CSSM's is ${mine}).`)
  }
  const at = now()
  const record = await withStore(cssmDir, (store) => store.onPremSync({
    site: id, publicKey: canonicalPublicKey(createPublicKey(p.onPrem.publicKey)), sequence: p.sequence, virtualAccount: p.virtualAccount,
    tokenHash: typeof p.token === 'string' ? tokenHash(p.token) : null, usage: p.usage, instances, requested: p.requested, at,
  }))
  const response: SyncResponse = {
    kind: 'response', cssm: {caPem: files.caPem, certPem: files.serverPem}, onPremId: id, sequence: p.sequence,
    smartAccount: record.smartAccount, virtualAccount: record.virtualAccount, licenses: record.licenses, answeredAt: at.toISOString(),
  }
  return {file: signed(response, files.serverKeyPem), linked: record.linked}
}

export async function syncAnswer(cssmDir: string, requestPath: string, input: {output: string}): Promise<SyncAnswerResult> {
  const {file, linked} = await answerRequest(cssmDir, readText(requestPath, 'the request'), requestPath)
  writeFileSync(input.output, JSON.stringify(file, null, 2) + '\n')
  const p = file.payload
  return {path: input.output, onPremId: p.onPremId, sequence: p.sequence, virtualAccount: p.virtualAccount, linked, licenses: p.licenses}
}

// ---------------------------------------------------------------- import (On-Prem)

export interface SyncImportResult {sequence: number; virtualAccount: string; licenses: LicenseCounts; pool: PoolView; lastSyncAt: string}

/** Verifies the CSSM's response to the On-Prem's latest request and makes its allocation the On-Prem's pool. */
export async function importResponse(dir: string, text: string, what: string): Promise<SyncImportResult> {
  const files = onPremFiles(dir)
  const file = parseSigned<SyncResponse>(text, 'response', what)
  const p = file.payload
  if (p.cssm === null || typeof p.cssm !== 'object' || typeof p.cssm.caPem !== 'string' || typeof p.cssm.certPem !== 'string' ||
    !Number.isSafeInteger(p.sequence) || typeof p.virtualAccount !== 'string' || typeof p.smartAccount !== 'string' || !isCounts(p.licenses)) {
    throw refused(`${what} is not a valid CSSM response.`)
  }
  let ca: X509Certificate
  let cert: X509Certificate
  try {
    ca = new X509Certificate(p.cssm.caPem)
    cert = new X509Certificate(p.cssm.certPem)
  } catch {
    throw refused(`${what}: its CSSM certificates are not certificates.`)
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw refused(`${what}: its signing certificate was not issued by its CSSM CA.`)
  if (!signatureValid(file, cert.publicKey.export({type: 'spki', format: 'pem'}).toString())) {
    throw refused(`${what}: its signature does not verify (the file was changed after the CSSM signed it).`)
  }
  const myId = onPremId(files.serverKeyPem)
  if (p.onPremId !== myId) throw refused(`${what} answers another On-Prem (${p.onPremId.slice(0, 16)}…), not this one (${myId.slice(0, 16)}…).`)
  const fingerprint = ca.fingerprint256
  const at = now()
  const pool = await withStore(dir, (store) => store.onPremImport(
    {
      smartAccount: p.smartAccount, virtualAccount: p.virtualAccount, licenses: p.licenses, at,
      meta: {[ONPREM_META.imported]: String(p.sequence), [ONPREM_META.cssmCa]: fingerprint, [LAST_SYNC_META]: at.toISOString()},
    },
    [ONPREM_META.sequence, ONPREM_META.imported, ONPREM_META.cssmCa, ONPREM_META.virtualAccount],
    (meta) => {
      const expected = expectedCssmCa(files, meta[ONPREM_META.cssmCa])
      if (expected !== null && expected !== fingerprint) {
        throw refused(`${what} is signed by another CSSM (lab CA ${fingerprint}) than this On-Prem's (${expected}).`)
      }
      if (meta[ONPREM_META.virtualAccount] !== p.virtualAccount) throw refused(`${what} is for the virtual account ${p.virtualAccount}, not the one this On-Prem serves (${meta[ONPREM_META.virtualAccount]}).`)
      const latest = Number(meta[ONPREM_META.sequence] ?? 0)
      const imported = Number(meta[ONPREM_META.imported] ?? 0)
      if (p.sequence <= imported) throw refused(`${what} (sequence ${p.sequence}) was ${p.sequence === imported ? 'already imported (replayed)' : 'superseded: a newer response was imported'}.`)
      if (p.sequence !== latest) {
        throw refused(`${what} answers request ${p.sequence}, not this On-Prem's latest (${latest}).`, ['Have the CSSM answer the latest request (`sync answer`), or export a new one.'])
      }
    },
  ))
  return {sequence: p.sequence, virtualAccount: p.virtualAccount, licenses: p.licenses, pool, lastSyncAt: at.toISOString()}
}

export function syncImport(dir: string, responsePath: string): Promise<SyncImportResult> {
  return importResponse(dir, readText(responsePath, 'the response'), responsePath)
}
