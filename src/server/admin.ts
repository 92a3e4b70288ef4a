import {createHash, createPrivateKey, randomBytes, X509Certificate, type KeyObject} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {isIP} from 'node:net'
import {join, resolve} from 'node:path'
import {now, DAY_MS} from '../clock.js'
import {BadInputError, RefusedError, UsageError} from '../errors.js'
import {generateRsaKey, privateKeyPem} from '../crypto/keys.js'
import {issueCertificate} from '../crypto/x509.js'
import {buildAuthorizationCode, entitlementsFor, type ReservationKind} from '../licensing/authorization-code.js'
import {
  confirmationCodeMatches, isUdi, parseConfirmationCode, parseRequestCode, parseReturnCode, piidForUdi, randomAlphanumeric, returnCodeMatches,
} from '../licensing/codes.js'
import {isLicenseType, LICENSE_TYPES, zeroCounts, type LicenseCounts, type LicenseType} from '../licensing/license-types.js'
import {checkPostgresUrl} from './postgres.js'
import {hashPortalPassword} from '../crypto/scrypt-password.js'
import {
  openStore, type AccountView, type DatabaseConfig, type EventPage, type InstanceView, type LicenseStore, type OpenOptions, type PakConversion, type PakView,
  type PoolLine, type PoolView, type TokenView,
} from './store.js'

// The license server's administration: the functions `xway license-server …` calls, on a
// server folder, also while the server runs (SQLite WAL + busy timeout; PostgreSQL row locks).
// The folder holds the keys, the certificates and server.json, which says where the state is:
// server.db beside it (SQLite) or a PostgreSQL URL (without password).

export const SERVER_FILES = {
  db: 'server.db',
  caCert: 'ca.pem',
  caKey: 'ca.key',
  serverCert: 'server.pem',
  serverKey: 'server.key',
  signingCert: 'reservation.pem',
  signingKey: 'reservation.key',
  config: 'server.json',
} as const

/** Lab certificates start a day before the real clock and last years: a moved XWAY_NOW never breaks TLS. */
export const CA_DAYS = 20 * 365
export const SERVER_CERT_DAYS = 10 * 365
export const IDENTITY_CERT_DAYS = 10 * 365
const KEY_BITS = 2048

export function certificateStart(): Date {
  return new Date(Date.now() - DAY_MS)
}

export interface ServerConfig {
  formatVersion: 1
  hostname: string
  createdAt: string
  /** where the state is; absent in folders made before PostgreSQL: server.db */
  database?: {kind: 'sqlite'} | {kind: 'postgres'; url: string}
  /** an SSM On-Prem of a CSSM (`init --on-prem`); absent: the server is a CSSM */
  onPrem?: OnPremConfig
}

export interface OnPremConfig {
  /** connected: the CSSM's URL and its lab CA (copied into DIR); null: disconnected (sync by files) */
  cssm: {url: string; caFile: string} | null
  syncIntervalDays: 30 | 7
}

/** The meta key under which the database records the fingerprint of the lab CA of the folders that serve it. */
const CA_META = 'caFingerprint'

export interface ServerFiles {
  dir: string
  config: ServerConfig
  caPem: string
  caKey: KeyObject
  serverPem: string
  serverKeyPem: string
  signingPem: string
  signingKey: KeyObject
}

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, {mode: 0o600})
  chmodSync(path, 0o600)
}

function notServerDir(dir: string, missing: string): BadInputError {
  return new BadInputError(`${dir} is not a license server folder (no ${missing}).`, {
    actions: [`Create one with \`xway license-server init ${dir}\`.`],
  })
}

function readConfig(abs: string): ServerConfig | null {
  try {
    return JSON.parse(readFileSync(join(abs, SERVER_FILES.config), 'utf8')) as ServerConfig
  } catch {
    return null
  }
}

/** Where the folder's state is: PostgreSQL when server.json says so, else DIR/server.db. */
export function databaseOf(dir: string): DatabaseConfig {
  const abs = resolve(dir)
  const config = readConfig(abs)
  if (config?.database?.kind === 'postgres') return {kind: 'postgres', url: checkPostgresUrl(config.database.url)}
  if (!existsSync(join(abs, SERVER_FILES.db))) throw notServerDir(dir, SERVER_FILES.db)
  return {kind: 'sqlite', path: join(abs, SERVER_FILES.db)}
}

/** The store of a server folder. `mode: 'migrate'` (the server's start) applies the migrations an older database lacks. */
export function openServerStore(dir: string, options: OpenOptions = {}): Promise<LicenseStore> {
  return openStore(databaseOf(dir), options)
}

/**
 * What an admin function works on: a server folder (the CLI: the store is opened for the
 * call), or the folder with the store a running server already holds (the portal: the same
 * functions, on the server's own connections).
 */
export type AdminTarget = string | {dir: string; store: LicenseStore}

function dirOf(target: AdminTarget): string {
  return typeof target === 'string' ? target : target.dir
}

export async function withStore<T>(target: AdminTarget, fn: (store: LicenseStore) => Promise<T>): Promise<T> {
  if (typeof target !== 'string') return fn(target.store)
  const store = await openServerStore(target)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** SHA-256 of the lab CA certificate: what ties a database to the folders (copies of one) that serve it. */
export function caFingerprint(caPem: string): string {
  return new X509Certificate(caPem).fingerprint256
}

/**
 * Refuses a folder whose lab CA is not the one the database was created with: its identity
 * certificates would not be those the registered units hold.
 */
export async function checkStoreOwner(store: LicenseStore, files: ServerFiles): Promise<void> {
  const recorded = await store.meta(CA_META)
  const mine = caFingerprint(files.caPem)
  if (recorded === null) {
    await store.setMeta(CA_META, mine)
  } else if (recorded !== mine) {
    throw new BadInputError(`The license database belongs to another license server (its lab CA is ${recorded}, this folder's is ${mine}).`, {
      actions: ['Serve it from a copy of the folder that created it, or point this folder at its own database.'],
    })
  }
}

export function loadServerFiles(dir: string): ServerFiles {
  const abs = resolve(dir)
  databaseOf(dir)
  const read = (name: string): string => {
    try {
      return readFileSync(join(abs, name), 'utf8')
    } catch {
      throw notServerDir(dir, name)
    }
  }
  const config = readConfig(abs) ?? {formatVersion: 1, hostname: 'localhost', createdAt: ''}
  return {
    dir: abs,
    config,
    caPem: read(SERVER_FILES.caCert),
    caKey: createPrivateKey(read(SERVER_FILES.caKey)),
    serverPem: read(SERVER_FILES.serverCert),
    serverKeyPem: read(SERVER_FILES.serverKey),
    signingPem: read(SERVER_FILES.signingCert),
    signingKey: createPrivateKey(read(SERVER_FILES.signingKey)),
  }
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

export interface InitResult {dir: string; caPath: string}

/**
 * A new server folder: the lab CA (ca.pem, ca.key 0600), the server's TLS certificate
 * (server.pem, server.key 0600; SANs localhost, 127.0.0.1, ::1 and the hostname), the
 * reservation signing key and its certificate (issued by the lab CA), server.json, and the
 * database with every migration applied: server.db in DIR, or the empty PostgreSQL database
 * of `database` (postgres://USER@HOST:PORT/DB, no password). A failed init leaves no folder
 * behind that it created.
 */
export interface OnPremInit {
  /** the CSSM's https URL (connected mode); absent: disconnected */
  cssm?: string
  /** the CSSM's lab CA (its DIR/ca.pem); required with cssm */
  cssmCa?: string
  /** '30d' (default) or '7d' */
  syncInterval?: string
}

function checkOnPrem(options: OnPremInit): {config: OnPremConfig; cssmCaPem: string} {
  const interval = options.syncInterval ?? '30d'
  if (interval !== '30d' && interval !== '7d') throw new UsageError(`--sync-interval ${JSON.stringify(interval)}: an On-Prem synchronizes every 30d or 7d.`)
  const syncIntervalDays = interval === '7d' ? 7 : 30
  if ((options.cssm === undefined) !== (options.cssmCa === undefined)) throw new UsageError('--cssm and --cssm-ca go together (connected mode); give neither for a disconnected On-Prem.')
  if (options.cssm === undefined) return {config: {cssm: null, syncIntervalDays}, cssmCaPem: ''}
  let url: URL
  try {
    url = new URL(options.cssm)
  } catch {
    throw new BadInputError(`--cssm ${JSON.stringify(options.cssm)} is not a URL.`)
  }
  if (url.protocol !== 'https:') throw new BadInputError(`--cssm ${options.cssm}: the CSSM is reached over HTTPS only.`)
  let cssmCaPem: string
  try {
    cssmCaPem = readFileSync(options.cssmCa!, 'utf8')
    new X509Certificate(cssmCaPem)
  } catch {
    throw new BadInputError(`--cssm-ca ${options.cssmCa}: not a readable PEM certificate (give the CSSM's DIR/ca.pem).`)
  }
  return {config: {cssm: {url: url.toString(), caFile: 'cssm-ca.pem'}, syncIntervalDays}, cssmCaPem}
}

export async function init(dir: string, options: {hostname?: string; database?: string; onPrem?: OnPremInit} = {}): Promise<InitResult> {
  const abs = resolve(dir)
  const hostname = options.hostname ?? 'localhost'
  if (!HOSTNAME_RE.test(hostname) && isIP(hostname) === 0) {
    throw new BadInputError(`--hostname ${JSON.stringify(hostname)} is neither a host name nor an IP address.`)
  }
  const postgres = options.database === undefined ? null : checkPostgresUrl(options.database)
  const onPrem = options.onPrem === undefined ? null : checkOnPrem(options.onPrem)
  if (existsSync(join(abs, SERVER_FILES.db)) || existsSync(join(abs, SERVER_FILES.config))) {
    throw new RefusedError(`${dir} already holds a license server (${existsSync(join(abs, SERVER_FILES.db)) ? SERVER_FILES.db : SERVER_FILES.config}); init would replace its CA and lose every registration.`, {
      actions: [`Serve it with \`xway license-server start ${dir}\`, or init another folder.`],
    })
  }
  const created = !existsSync(abs) || readdirSync(abs).length === 0
  mkdirSync(abs, {recursive: true, mode: 0o700})
  try {
    return await initFolder(abs, hostname, postgres, onPrem === null ? null : {...onPrem.config, cssmCaPem: onPrem.cssmCaPem})
  } catch (err) {
    if (created) rmSync(abs, {recursive: true, force: true})
    throw err
  }
}

async function initFolder(abs: string, hostname: string, postgres: string | null, onPrem: (OnPremConfig & {cssmCaPem: string}) | null): Promise<InitResult> {
  const at = now()
  const notBefore = certificateStart()

  const caKey = generateRsaKey(KEY_BITS)
  const caPem = issueCertificate({
    subject: {commonName: 'xway lab license server CA', organization: 'xway lab'},
    subjectKey: caKey, notBefore, days: CA_DAYS, isCa: true,
  })
  const issuer = {certPem: caPem, key: caKey}

  const serverKey = generateRsaKey(KEY_BITS)
  const dnsNames = ['localhost']
  const ipAddresses = ['127.0.0.1', '::1']
  if (isIP(hostname)) {
    if (!ipAddresses.includes(hostname)) ipAddresses.push(hostname)
  } else if (!dnsNames.includes(hostname)) {
    dnsNames.push(hostname)
  }
  const serverPem = issueCertificate({
    subject: {commonName: hostname, organization: 'xway lab'},
    subjectKey: serverKey, issuer, notBefore, days: SERVER_CERT_DAYS, dnsNames, ipAddresses, extKeyUsage: ['serverAuth'],
  })

  const signingKey = generateRsaKey(KEY_BITS)
  const signingPem = issueCertificate({
    subject: {commonName: 'xway lab reservation signing', organization: 'xway lab'},
    subjectKey: signingKey, issuer, notBefore, days: SERVER_CERT_DAYS, extKeyUsage: ['codeSigning'],
  })

  writeFileSync(join(abs, SERVER_FILES.caCert), caPem)
  writeSecret(join(abs, SERVER_FILES.caKey), privateKeyPem(caKey))
  if (onPrem?.cssm) writeFileSync(join(abs, onPrem.cssm.caFile), onPrem.cssmCaPem)
  writeFileSync(join(abs, SERVER_FILES.serverCert), serverPem)
  writeSecret(join(abs, SERVER_FILES.serverKey), privateKeyPem(serverKey))
  writeFileSync(join(abs, SERVER_FILES.signingCert), signingPem)
  writeSecret(join(abs, SERVER_FILES.signingKey), privateKeyPem(signingKey))
  const database: DatabaseConfig = postgres === null ? {kind: 'sqlite', path: join(abs, SERVER_FILES.db)} : {kind: 'postgres', url: postgres}
  const store = await openStore(database, {mode: 'create'})
  try {
    await store.setMeta(CA_META, caFingerprint(caPem))
  } finally {
    await store.close()
  }
  if (database.kind === 'sqlite') chmodSync(database.path, 0o600)
  // server.json last: its presence is what marks the folder as initialized
  const config: ServerConfig = {
    formatVersion: 1, hostname, createdAt: at.toISOString(),
    database: postgres === null ? {kind: 'sqlite'} : {kind: 'postgres', url: postgres},
    ...(onPrem === null ? {} : {onPrem: {cssm: onPrem.cssm, syncIntervalDays: onPrem.syncIntervalDays}}),
  }
  writeFileSync(join(abs, SERVER_FILES.config), JSON.stringify(config, null, 2) + '\n')
  return {dir: abs, caPath: join(abs, SERVER_FILES.caCert)}
}

const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._@()&'-]{0,99}$/u

function checkName(what: string, name: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : ''
  if (!NAME_RE.test(trimmed)) {
    throw new BadInputError(`${what} ${JSON.stringify(name)} is not a valid name: 1 to 100 letters, digits, spaces and . _ @ ( ) & ' -, starting with a letter or digit.`)
  }
  return trimmed
}

/**
 * A virtual account (and its smart account, if new). `exportControl: false` (the CLI's
 * `--no-export-control`) makes a smart account not permitted export-controlled functionality:
 * its tokens are always "Not Allowed", its reservations never hold Advanced Account Security.
 */
export function accountCreate(dir: AdminTarget, input: {name: string; virtualAccount: string; exportControl?: boolean}): Promise<{smartAccount: string; virtualAccount: string}> {
  const smartAccount = checkName('Smart account', input.name)
  const virtualAccount = checkName('Virtual account', input.virtualAccount)
  return withStore(dir, (store) => store.createAccount(smartAccount, virtualAccount, now(), input.exportControl ?? true))
}

/** The virtual accounts with the export-control permission of their smart account (all, or the one named). */
export function accounts(dir: AdminTarget, input: {virtualAccount?: string} = {}): Promise<{accounts: AccountView[]}> {
  return withStore(dir, async (store) => ({accounts: await store.accounts(input.virtualAccount)}))
}

const PAK_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/

/** Records classic (PAK) licenses of a virtual account, to be converted into smart licenses. */
export async function pakAdd(dir: AdminTarget, input: {virtualAccount: string; pak: string; type: string; count: number}): Promise<PakView> {
  const type = parseLicenseType(input.type)
  const count = checkCount(input.count, '--count', 1)
  const pak = typeof input.pak === 'string' ? input.pak.trim() : ''
  if (!PAK_RE.test(pak)) throw new BadInputError(`--pak ${JSON.stringify(input.pak)} is not a PAK number: 1 to 64 letters, digits and dashes.`)
  return withStore(dir, (store) => store.addPak({pak, va: input.virtualAccount, type, count, at: now()}))
}

export function paks(dir: AdminTarget, input: {virtualAccount?: string} = {}): Promise<{paks: PakView[]}> {
  return withStore(dir, async (store) => ({paks: await store.paks(input.virtualAccount)}))
}

/** Cisco's known issue of PAK conversion, quoted when a partial conversion is asked for. */
export const PARTIAL_CONVERSION_ISSUE = 'Cisco: "Due to a known issue, if you opt to convert only some licenses, the system automatically forfeits/removes the remaining licenses as well."'

export interface PakConvertResult extends PakConversion {virtualAccount: string}

/**
 * Turns a PAK's licenses into smart licenses of its virtual account's pool: all that are left
 * by default. Fewer than are left is refused unless `forfeitRemaining`, which removes the rest
 * (the event log says so), as Cisco's conversion does.
 */
export async function pakConvert(dir: AdminTarget, input: {pak: string; quantity?: number; forfeitRemaining?: boolean}): Promise<PakConvertResult> {
  const quantity = input.quantity === undefined ? null : checkCount(input.quantity, '--quantity', 1)
  const conversion = await withStore(dir, (store) => store.convertPak(input.pak.trim(), quantity, now(), (pak, take) => {
    if (input.forfeitRemaining === true) return
    throw new RefusedError(`Converting ${take} of the ${pak.available} ${pak.type} license(s) left on PAK ${pak.pak} would forfeit the other ${pak.available - take}. ${PARTIAL_CONVERSION_ISSUE}`, {
      actions: [`Convert all of them (drop --quantity), or add --forfeit-remaining to convert ${take} and remove the other ${pak.available - take}.`],
    })
  }))
  return {virtualAccount: conversion.pak.virtualAccount, ...conversion}
}

/** The event log, newest first, with the total count (of the virtual account, or of the server). */
export function events(dir: AdminTarget, input: {virtualAccount?: string; offset?: number; limit?: number} = {}): Promise<EventPage> {
  const offset = input.offset ?? 0
  const limit = input.limit ?? 50
  if (!Number.isSafeInteger(offset) || offset < 0) throw new BadInputError(`offset must be a whole number from 0, not ${offset}.`)
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) throw new BadInputError(`limit must be a whole number from 1 to 1000, not ${limit}.`)
  return withStore(dir, (store) => store.events({va: input.virtualAccount, offset, limit}))
}

export function parseLicenseType(type: string): LicenseType {
  if (isLicenseType(type)) return type
  throw new BadInputError(`Unknown license type ${JSON.stringify(type)}: use rms (Rich Media Session), room or desktop (registrations).`)
}

function checkCount(count: number, what: string, min: number): number {
  if (!Number.isSafeInteger(count) || count < min || count > 1_000_000) {
    throw new BadInputError(`${what} must be a whole number from ${min} to 1000000, not ${count}.`)
  }
  return count
}

export interface LicensesAddResult extends PoolLine {virtualAccount: string}

export async function licensesAdd(dir: AdminTarget, input: {virtualAccount: string; type: string; count: number}): Promise<LicensesAddResult> {
  const type = parseLicenseType(input.type)
  const count = checkCount(input.count, '--count', 1)
  return withStore(dir, async (store) => ({virtualAccount: input.virtualAccount, ...await store.addLicenses(input.virtualAccount, type, count, now())}))
}

const DURATION_UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS}
export const MAX_TOKEN_LIFETIME_MS = 365 * DAY_MS

/** `30d`, `12h`, `90m`, `45s`, `2w`; a bare number is days. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d{1,7})\s*([smhdw]?)\s*$/.exec(text ?? '')
  if (!match) throw new BadInputError(`--expires-in ${JSON.stringify(text)} is not a duration: use a number and a unit, like 30d, 12h, 90m.`)
  return Number(match[1]) * DURATION_UNITS[match[2] || 'd']!
}

export interface TokenCreateResult {
  token: string
  expiresAt: string
  virtualAccount: string
  uses: number | null
  exportControlled: boolean
  description: string | null
}

export const MAX_DESCRIPTION_CHARS = 200

function checkDescription(text: string | undefined): string | null {
  if (text === undefined) return null
  const trimmed = text.trim()
  if (trimmed === '') return null
  // any text (the portal shows it escaped), but one line of bounded length
  if (trimmed.length > MAX_DESCRIPTION_CHARS || /[\u0000-\u001f\u007f]/u.test(trimmed)) {
    throw new BadInputError(`A token description is one line of at most ${MAX_DESCRIPTION_CHARS} characters.`)
  }
  return trimmed
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token.trim()).digest('hex')
}

/** A product instance registration token. Only its SHA-256 is stored: the token is shown once. */
export async function tokenCreate(dir: AdminTarget, input: {virtualAccount: string; expiresIn?: string; uses?: number; exportControlled?: boolean; description?: string}): Promise<TokenCreateResult> {
  const lifetime = parseDuration(input.expiresIn ?? '30d')
  if (lifetime < 1000 || lifetime > MAX_TOKEN_LIFETIME_MS) {
    throw new BadInputError(`--expires-in ${input.expiresIn}: a token lives from 1 second to 365 days.`)
  }
  const uses = input.uses === undefined ? null : checkCount(input.uses, '--uses', 1)
  const exportControlled = input.exportControlled ?? true
  const description = checkDescription(input.description)
  const token = randomAlphanumeric(64)
  const at = now()
  const expiresAt = new Date(at.getTime() + lifetime)
  await withStore(dir, (store) => store.createToken({
    id: randomBytes(6).toString('hex'), hash: tokenHash(token), va: input.virtualAccount, expiresAt, usesLeft: uses, exportControlled, description, at,
  }))
  return {token, expiresAt: expiresAt.toISOString(), virtualAccount: input.virtualAccount, uses, exportControlled, description}
}

export function pool(dir: AdminTarget, input: {virtualAccount: string}): Promise<PoolView> {
  return withStore(dir, (store) => store.pool(input.virtualAccount))
}

export function instances(dir: AdminTarget, input: {virtualAccount?: string} = {}): Promise<{instances: InstanceView[]}> {
  return withStore(dir, async (store) => ({instances: await store.instances(input.virtualAccount)}))
}

export interface InstanceRemoveResult {udi: string; released: LicenseCounts; reservationReturned: boolean}

/**
 * Removes a product instance and gives its licenses back. An instance holding a
 * reservation needs the return code the unit printed (`xway licensing reservation return`
 * or `return-authorization`): it proves the unit no longer uses the reserved licenses.
 */
export async function instancesRemove(dir: AdminTarget, udi: string, returnCode?: string): Promise<InstanceRemoveResult> {
  if (!isUdi(udi)) throw new BadInputError(`${JSON.stringify(udi)} is not a UDI (PID:<pid>,SN:<serial>).`)
  const parsed = returnCode === undefined ? null : parseReturnCode(returnCode)
  return withStore(dir, (store) => store.removeInstance(udi, now(), (reservation) => {
    if (parsed === null) {
      throw new RefusedError(`The product instance ${udi} holds a ${reservation.kind} reservation: removing it needs the reservation return code from the unit.`, {
        actions: ['On the unit: `xway licensing reservation return UNIT` (or `return-authorization UNIT CODE`), then pass the code with --return-code.'],
      })
    }
    if (!returnCodeMatches(parsed, udi) || parsed.timestamp > reservation.timestamp) {
      throw new BadInputError(`The return code does not belong to the reservation of ${udi}.`, {
        actions: ['Copy the return code the unit printed for this reservation.'],
      })
    }
  }))
}

export interface ReservationAuthorizeInput {
  virtualAccount: string
  requestCode: string
  plr?: boolean
  /** an SLR that also holds the Advanced Account Security entitlement (Cisco: "linked with Export Control") */
  advancedAccountSecurity?: boolean
  /** `TYPE=N` items, e.g. ['rms=10', 'room=5'] */
  licenses?: string[]
  /** end of an SLR term: an ISO date (a bare YYYY-MM-DD lasts to the end of that day, UTC) */
  until?: string
}

export interface ReservationAuthorizeResult {
  authorizationCode: string
  udi: string
  kind: ReservationKind
  state: 'in-transit' | 'confirmed'
  timestamp: number
  licenses: LicenseCounts
}

export function parseLicenseCounts(items: string[]): LicenseCounts {
  const counts = zeroCounts()
  const seen = new Set<string>()
  for (const item of items) {
    const match = /^\s*([a-z]+)\s*=\s*(\d{1,7})\s*$/.exec(item)
    if (!match) throw new BadInputError(`--license ${JSON.stringify(item)}: expected TYPE=N, like rms=10.`)
    const type = parseLicenseType(match[1]!)
    if (seen.has(type)) throw new BadInputError(`--license names ${type} twice.`)
    seen.add(type)
    counts[type] = checkCount(Number(match[2]), `--license ${type}`, 0)
  }
  return counts
}

export function parseUntil(text: string, at: Date): Date {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text.trim())
  const date = new Date(dateOnly ? `${text.trim()}T23:59:59.000Z` : text)
  if (Number.isNaN(date.getTime())) throw new BadInputError(`--until ${JSON.stringify(text)} is not a date (use YYYY-MM-DD or ISO 8601).`)
  if (date.getTime() <= at.getTime()) throw new BadInputError(`--until ${text} is not in the future (now is ${at.toISOString()}).`)
  return date
}

export async function reservationAuthorize(dir: AdminTarget, input: ReservationAuthorizeInput): Promise<ReservationAuthorizeResult> {
  const request = parseRequestCode(input.requestCode)
  const plr = input.plr === true
  const hasLicenses = (input.licenses ?? []).length > 0
  if (plr === hasLicenses) throw new UsageError('Give either --plr or at least one --license TYPE=N.')
  if (plr && input.until !== undefined) throw new UsageError('--until applies to SLR only: a PLR is permanent.')
  const at = now()
  const kind: ReservationKind = plr ? 'PLR' : 'SLR'
  const counts = plr ? zeroCounts() : parseLicenseCounts(input.licenses!)
  if (!plr && LICENSE_TYPES.every((t) => counts[t] === 0)) {
    throw new RefusedError('This SLR would reserve 0 licenses of every type. Cisco: "Make sure that you do not choose 0 in the quality to reserve field. Choosing 0 will not allow enabling Export Control."', {
      actions: ['Reserve at least one license, e.g. --license rms=1.'],
    })
  }
  const aas = input.advancedAccountSecurity === true
  if (plr && aas) throw new UsageError('--advanced-account-security applies to SLR only: the PLR is "Expressway PLR without Export Control".')
  const until = input.until === undefined ? null : parseUntil(input.until, at)
  const files = loadServerFiles(dirOf(dir))
  const piid = piidForUdi(request.udi)
  const entitlements = entitlementsFor(kind, counts, at, until, {advancedAccountSecurity: aas})
  return withStore(dir, async (store) => {
    if (aas && !(await store.accounts(input.virtualAccount))[0]!.exportControl) {
      throw new RefusedError(`The virtual account ${input.virtualAccount} belongs to a smart account not permitted export-controlled functionality: its reservations cannot include ` +
        'the Advanced Account Security entitlement (Cisco: "The Expressway Advanced Account Security Entitlement is linked with Export Control.").', {
        actions: ['Reserve without --advanced-account-security.'],
      })
    }
    const reservation = await store.authorizeReservation(
      {va: input.virtualAccount, udi: request.udi, piid, requestCode: input.requestCode.trim(), kind, counts, until: until?.toISOString() ?? null, at},
      (timestamp) => buildAuthorizationCode({kind, udi: request.udi, piid, timestamp, entitlements}, {key: files.signingKey, certPem: files.signingPem}),
    )
    return {
      authorizationCode: reservation.authorizationCode, udi: reservation.udi, kind, state: reservation.state,
      timestamp: reservation.timestamp, licenses: reservation.pending,
    }
  })
}

export interface ReservationConfirmResult {
  udi: string
  kind: ReservationKind
  state: 'confirmed'
  alreadyConfirmed: boolean
  reserved: LicenseCounts
}

export async function reservationConfirm(dir: AdminTarget, input: {code: string}): Promise<ReservationConfirmResult> {
  const parsed = parseConfirmationCode(input.code)
  return withStore(dir, async (store) => {
    const reservation = await store.reservationByPiid(parsed.piid)
    if (!reservation || !confirmationCodeMatches(parsed, reservation.udi)) {
      throw new BadInputError('This confirmation code matches no reservation on this license server (mistyped, or for another server).')
    }
    const result = await store.confirmReservation(reservation.udi, parsed.timestamp, now())
    return {udi: reservation.udi, kind: reservation.kind, state: 'confirmed', alreadyConfirmed: result.alreadyConfirmed, reserved: result.reservation.confirmed}
  })
}

export function virtualAccounts(dir: AdminTarget): Promise<{virtualAccounts: {smartAccount: string; virtualAccount: string}[]}> {
  return withStore(dir, async (store) => ({virtualAccounts: await store.virtualAccounts()}))
}

export function tokenList(dir: AdminTarget, input: {virtualAccount: string}): Promise<{virtualAccount: string; tokens: TokenView[]}> {
  return withStore(dir, async (store) => ({virtualAccount: input.virtualAccount, tokens: await store.tokens(input.virtualAccount)}))
}

/** Where a page of a list starts and how long it is (the portal's pages). */
export interface ListPageInput {
  virtualAccount: string
  offset: number
  limit: number
}

function checkPage(input: ListPageInput): void {
  if (!Number.isSafeInteger(input.offset) || input.offset < 0 || !Number.isSafeInteger(input.limit) || input.limit < 1 || input.limit > 1000) {
    throw new BadInputError(`A page starts at 0 or later and holds 1 to 1000 rows (offset ${input.offset}, limit ${input.limit}).`)
  }
}

/** One page of `token list`, and how many tokens there are. */
export function tokenPage(dir: AdminTarget, input: ListPageInput): Promise<{total: number; tokens: TokenView[]}> {
  checkPage(input)
  return withStore(dir, (store) => store.tokenPage(input.virtualAccount, input.offset, input.limit))
}

/** One page of `instances` of a virtual account, and how many there are. */
export function instancePage(dir: AdminTarget, input: ListPageInput): Promise<{total: number; instances: InstanceView[]}> {
  checkPage(input)
  return withStore(dir, (store) => store.instancePage(input.virtualAccount, input.offset, input.limit))
}

/** One page of `pak list` of a virtual account, and how many PAKs there are. */
export function pakPage(dir: AdminTarget, input: ListPageInput): Promise<{total: number; paks: PakView[]}> {
  checkPage(input)
  return withStore(dir, (store) => store.pakPage(input.virtualAccount, input.offset, input.limit))
}

/** A revoked token registers no more product instances; those it registered stay. Revoking twice changes nothing. */
export function tokenRevoke(dir: AdminTarget, input: {id: string}): Promise<TokenView> {
  if (!/^[0-9a-f]{12}$/.test(input.id ?? '')) throw new BadInputError(`${JSON.stringify(input.id)} is not a token id (12 hexadecimal digits, as \`token list\` shows).`)
  return withStore(dir, (store) => store.revokeToken(input.id, now()))
}

export const USER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/
export const MIN_PASSWORD_CHARS = 8

/** A portal user, its password kept as a scrypt hash. There is no default user. */
export async function userAdd(dir: AdminTarget, input: {name: string; password: string}): Promise<{name: string}> {
  const name = (input.name ?? '').trim()
  if (!USER_NAME_RE.test(name)) throw new BadInputError(`--name ${JSON.stringify(input.name)} is not a user name: 1 to 64 letters, digits and . _ @ -, starting with a letter or digit.`)
  if ([...input.password].length < MIN_PASSWORD_CHARS) throw new BadInputError(`A portal password has at least ${MIN_PASSWORD_CHARS} characters.`)
  const hash = await hashPortalPassword(input.password)
  await withStore(dir, (store) => store.addUser(name, hash, now()))
  return {name}
}

/** Cisco: "It is recommended to sync at least every 30 days": an On-Prem not synchronized for longer is overdue. */
export const SYNC_OVERDUE_MS = 30 * DAY_MS
/** The meta key of an On-Prem's last successful synchronization with its CSSM. */
export const LAST_SYNC_META = 'lastSyncAt'

export interface ServerStatus {
  role: 'cssm' | 'on-prem'
  sync: null | {mode: 'connected' | 'disconnected'; lastSyncAt: string | null; nextSyncAt: string; overdue: boolean}
}

/**
 * What the server is: a CSSM (no synchronization) or an On-Prem, with its synchronization
 * state. Until its first synchronization an On-Prem counts from its creation: lastSyncAt is
 * null and it is overdue 30 days after init.
 */
export async function serverStatus(dir: AdminTarget): Promise<ServerStatus> {
  const files = loadServerFiles(dirOf(dir))
  const onPrem = files.config.onPrem
  if (!onPrem) return {role: 'cssm', sync: null}
  const last = await withStore(dir, (store) => store.meta(LAST_SYNC_META))
  const since = new Date(last ?? files.config.createdAt)
  const at = now()
  return {
    role: 'on-prem',
    sync: {
      mode: onPrem.cssm ? 'connected' : 'disconnected',
      lastSyncAt: last,
      nextSyncAt: new Date(since.getTime() + onPrem.syncIntervalDays * DAY_MS).toISOString(),
      overdue: at.getTime() - since.getTime() > SYNC_OVERDUE_MS,
    },
  }
}

/** The warning `status`, `sync` and the portal show for an overdue On-Prem. */
export function syncWarning(status: ServerStatus): string | null {
  if (!status.sync?.overdue) return null
  return `This On-Prem has not synchronized with its CSSM for more than 30 days (last: ${status.sync.lastSyncAt ?? 'never'}). Cisco: "It is recommended to sync at least every 30 days."`
}
