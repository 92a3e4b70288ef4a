import {createPrivateKey, generateKeyPair, type KeyObject} from 'node:crypto'
import {STATUS_CODES} from 'node:http'
import {promisify} from 'node:util'
import {ALARMS, type AlarmsFile, clearAlarm, raiseAlarm, readAlarms} from '../areas/alarms.js'
import {type IpConfig, readIp} from '../areas/ip.js'
import {readUsage, type UsageFile} from '../areas/usage.js'
import {privateKeyPem, publicKeyPem} from '../crypto/keys.js'
import {BadInputError, RefusedError, UnreachableError, UsageError, XwayError} from '../errors.js'
import type {UnitReader} from '../unit/store.js'
import {changeUnit, openUnit, type Unit} from '../areas/open.js'
import type {UnitTransaction} from '../unit/transaction.js'
import {readText} from '../unit/unit.js'
import {call, type ClientOptions, TransportError, type TransportTarget} from '../licensing/client.js'
import {type AgentRequest, type AuthorizeParams, type AuthorizeReply, type DeregisterReply, LicenseServerError, type RegisterReply, type RenewRegistrationReply} from '../licensing/protocol.js'
import {formatUdi} from '../licensing/codes.js'
import type {LicenseCounts} from '../licensing/license-types.js'
import type {ClusterShare} from '../licensing/cluster-share.js'
import {defaultLicensingState, type LicenseGrant, type LicensingState, type ReportKind, transportEndpoint} from '../licensing/state.js'
import {clusterShareOf, LICENSING, readLicensing} from '../areas/licensing.js'
import {isRegistered, isRegistrationExpired, isUnauthorized, licensingStatus, registrationNotes, reportDue, type SmartLicensingView, type UsageView, usageView} from '../licensing/status.js'
import {plusMonths, REGISTRATION_RENEWAL_INTERVAL_MONTHS, REGISTRATION_TIMEOUT_MESSAGE, RETRY_INTERVAL_MS} from '../licensing/timers.js'
import {assertSmartLicensing, CiscoCloudError, transportTarget} from './transport.js'
import {readTrustStore} from '../licensing/trust-store.js'
import type {AgentCredential} from '../licensing/transport-security.js'

// The smart licensing agent of a unit: registration, authorization renewal, usage reports,
// registration renewal, deregistration, and `sync` (what the agent's timers would have done
// by now). Every exchange happens inside the unit's transaction (the lock is held), and only
// changes stored state: the status is always licensingStatus(state, now) (DESIGN 4). An
// exchange that fails is recorded (lastError, retry in 15 minutes, alarms 30042/30044) and
// committed; the command then exits with the failure's code.

/** The agent's identity key: RSA 2048 (both crypto policies allow it; the server requires RSA ≥ 2048). */
export const AGENT_KEY_BITS = 2048

const generateKeyPairAsync = promisify(generateKeyPair)

export interface ExchangeRecord {
  method: AgentRequest['method']
  /** for `authorize`: an authorization renewal, or a usage report (which never moves the authorization's expiry) */
  report?: ReportKind
  ok: boolean
  error: string | null
}

export interface AgentResult {
  unit: string
  licensing: SmartLicensingView
  exchanges: ExchangeRecord[]
  /** what a person should know about the state the run left (an expired registration) */
  notes: string[]
  warnings: string[]
}

/** `licensing usage UNIT [--refresh]`: Cisco's "License usage". */
export interface UsageResult extends UsageView {
  unit: string
  /** --refresh ("Update usage details"): one usage report was made now */
  refreshed: boolean
  exchanges: ExchangeRecord[]
  warnings: string[]
}



export interface DeregisterResult extends AgentResult {
  /** what the server released, or null when it could not be reached */
  released: LicenseCounts | null
}


type Outcome<T> =
  | {ok: true; reply: T}
  /** offline: the exchange could not happen (network, TLS, no DNS, server busy); retried in 15 minutes */
  | {ok: false; offline: boolean; error: XwayError}

function plusMs(at: Date, ms: number): string {
  return new Date(at.getTime() + ms).toISOString()
}

function due(next: string | null, at: Date): boolean {
  return next === null || at.getTime() >= Date.parse(next)
}

/**
 * The appliance's wording of why an exchange could not happen: Cisco's "HTTP Server Error 200:
 * Operation timed out" for a server that does not answer, else what the agent met.
 */
function reasonOf(error: XwayError): string {
  if (error instanceof CiscoCloudError) return 'the Direct endpoint is Cisco\'s cloud, which this lab cannot reach'
  if (error instanceof TransportError) {
    if (error.reason === 'unknown-ca') return 'Unknown CA'
    if (error.reason === 'certificate' || error.reason === 'hostname') return 'Certificate validation failed'
    if (error.reason === 'dns' && /DNS server/.test(error.message)) return 'No DNS server is configured'
    if (error.reason === 'proxy-auth') return 'Proxy Authentication Required'
    if (error.reason === 'proxy') {
      const status = /HTTP (\d{3})/.exec(error.message)?.[1]
      return status ? `Proxy refused the tunnel (HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''})` : 'Proxy refused the tunnel'
    }
  }
  return 'HTTP Server Error 200: Operation timed out'
}

/** Cisco: "The last attempt to renew smart software licensing registration is in progress because of the following reason: …" */
export function registrationErrorMessage(error: XwayError): string {
  const reason = reasonOf(error)
  return reason === 'HTTP Server Error 200: Operation timed out'
    ? REGISTRATION_TIMEOUT_MESSAGE
    : `The last attempt to renew smart software licensing registration is in progress because of the following reason: ${reason}.`
}

function reportErrorMessage(kind: ReportKind, error: XwayError): string {
  return kind === 'authorization'
    ? `The last attempt to renew smart software licensing authorization failed because of the following reason: ${reasonOf(error)}.`
    : `The last attempt to report smart software licensing usage failed because of the following reason: ${reasonOf(error)}.`
}

/** What to do about an exchange that could not happen, for the transport the unit has (no word of a proxy where there is none). */
function offlineActions(s: AgentSession, error: XwayError): string[] {
  const t = s.state.transport
  const proxy = t.mode === 'proxy' && t.proxy ? `${t.proxy.host}:${t.proxy.port}` : null
  const check = `Check the connection: xway licensing test-connection ${s.unitArg}`
  if (error instanceof CiscoCloudError || (error instanceof TransportError && error.reason === 'dns')) return error.actions
  if (error instanceof TransportError) {
    switch (error.reason) {
      case 'unknown-ca':
        return proxy
          ? [`The proxy ${proxy} intercepts TLS: let it pass the licensing traffic through without inspecting it (Cisco: "Expressway Reporting 'Unknown CA' for Smart Licensing Through Proxy Server with Intercept Mode").`, check]
          : ['The license server presents a certificate of a CA the agent does not trust. The agent trust store is baked when the unit is built (licensing.trustAnchors in its profile): point the unit at a license server whose CA it trusts.', check]
      case 'proxy-auth':
        return [`Set the proxy credentials again: xway licensing transport ${s.unitArg} --proxy ${proxy ?? 'HOST:PORT'} --proxy-user USER --proxy-password-file FILE`, check]
      case 'proxy':
        return [`The proxy ${proxy ?? ''} refused to open a tunnel (CONNECT) to ${transportEndpoint(s.state)}: allow it on the proxy, or change the transport (xway licensing transport ${s.unitArg}).`, check]
      default:
        break
    }
  }
  return [`Check that the license server ${transportEndpoint(s.state)} is running and reachable${proxy ? ` through the proxy ${proxy}` : ''}.`, check]
}

/** One agent run on one unit: the state it reads, the exchanges it makes, what it commits. */
class AgentSession {
  readonly state: LicensingState
  private readonly stateBefore: string
  alarms: AlarmsFile
  private readonly alarmsBefore: string
  readonly ip: IpConfig
  readonly usage: UsageFile
  readonly udi: string
  readonly exchanges: ExchangeRecord[] = []
  readonly warnings: string[] = []
  private key: KeyObject | null = null
  /** the identity certificate received in this session (staged in the transaction, not yet on disk) */
  identityCertificate: string | null = null
  /** the last exchange could not happen (the server is unreachable from here) */
  lastOffline = false

  constructor(readonly unit: Unit, readonly unitArg: string, readonly tx: UnitTransaction, readonly at: Date) {
    this.state = readLicensing(unit.files)
    this.stateBefore = JSON.stringify(this.state)
    this.alarms = readAlarms(unit.files)
    this.alarmsBefore = JSON.stringify(this.alarms)
    this.ip = readIp(unit.files)
    this.usage = readUsage(unit.files)
    this.udi = formatUdi(unit.info.pid, unit.info.serial)
  }

  get files(): UnitReader {
    return this.unit.files
  }

  /** The identity sent to the server: hostname and LAN1 address, or nothing when hidden. */
  identity(): {hostname: string | null; ip: string | null} {
    if (this.state.hideIdentity) return {hostname: null, ip: null}
    const address = this.ip.lan1?.address ? this.ip.lan1.address.split('/')[0]! : null
    return {hostname: this.ip.hostname || null, ip: address}
  }

  /** For a unit in a cluster, its share of the peers' licenses, from the state as this run holds it. */
  cluster(): ClusterShare | undefined {
    return clusterShareOf(this.unit, this.at, {state: this.state})
  }

  /**
   * What the unit reports per type: its usage; in a cluster, at most its installed licenses
   * while it borrows from peers, plus what its peers use of its own (cluster-share.ts).
   */
  reportedCounts(): LicenseCounts {
    const used: LicenseCounts = {rms: this.usage.calls, room: this.usage.room, desktop: this.usage.desktop}
    const share = this.cluster()
    if (!share) return used
    return {rms: share.rms?.reported ?? 0, room: share.room?.reported ?? 0, desktop: share.desktop?.reported ?? 0}
  }

  /** The agent key: read from agent.key, or generated (node:crypto, off the event loop) at the first registration. */
  async agentKey(): Promise<KeyObject> {
    if (this.key) return this.key
    const pem = readText(this.files, LICENSING.agentKey)
    if (pem !== null) {
      try {
        this.key = createPrivateKey(pem)
        return this.key
      } catch {
        throw new BadInputError(`${LICENSING.agentKey} is not a private key.`, {actions: ['Run xway image verify on the unit.']})
      }
    }
    const {privateKey} = await generateKeyPairAsync('rsa', {modulusLength: AGENT_KEY_BITS, publicExponent: 0x10001})
    this.tx.write(LICENSING.agentKey, privateKeyPem(privateKey), 0o600)
    this.key = privateKey
    return privateKey
  }

  /** The identity key as it stands, without generating one. */
  existingKey(): KeyObject | null {
    const pem = readText(this.files, LICENSING.agentKey)
    if (pem === null) return null
    try {
      return createPrivateKey(pem)
    } catch {
      return null
    }
  }

  /** The TLS client credential of a registered instance: its key and identity certificate (none before the first registration). */
  credential(key: KeyObject): AgentCredential | undefined {
    const certificate = this.identityCertificate ?? readText(this.files, LICENSING.agentCert)
    return certificate ? {key, certificate} : undefined
  }

  clientOptions(target: TransportTarget): ClientOptions {
    const timeout = Number(process.env.XWAY_LICENSING_TIMEOUT_MS ?? '')
    return {
      target,
      trustAnchors: readTrustStore(this.files).map((a) => a.pem),
      ...(Number.isFinite(timeout) && timeout > 0 ? {timeoutMs: timeout} : {}),
    }
  }

  /**
   * One exchange. Reachability drives the alarms: an exchange that cannot happen raises
   * 30042 and 30044; a server that answers (even with a refusal) means the unit is online
   * again and clears both.
   */
  async exchange<T>(request: AgentRequest, credential?: AgentCredential, report?: ReportKind): Promise<Outcome<T>> {
    const record: ExchangeRecord = report ? {method: request.method, report, ok: false, error: null} : {method: request.method, ok: false, error: null}
    this.exchanges.push(record)
    let outcome: Outcome<T>
    let target: TransportTarget
    try {
      target = transportTarget(this.files, this.unitArg, this.state, this.ip)
    } catch (error) {
      // no DNS for Direct: the exchange cannot happen; anything else (an undecryptable proxy password) is the unit's problem
      if (!(error instanceof TransportError)) throw error
      target = {url: ''}
      outcome = {ok: false, offline: true, error}
    }
    try {
      outcome ??= {ok: true, reply: await call<T>(this.clientOptions(target), request, credential)}
    } catch (error) {
      if (error instanceof TransportError) outcome = {ok: false, offline: true, error}
      else if (error instanceof LicenseServerError) {
        outcome = {ok: false, offline: error.serverCode === 'busy' || error.serverCode === 'internal', error}
      } else if (error instanceof BadInputError) {
        // the client refuses a target it cannot speak to (not https://…/SmartTransport): no exchange can happen
        outcome = {ok: false, offline: true, error: new TransportError('protocol', error.message, {actions: error.actions})}
      } else {
        throw error
      }
    }
    this.lastOffline = !outcome.ok && outcome.offline
    if (outcome.ok) {
      record.ok = true
      this.online()
    } else {
      record.error = outcome.error.message
      if (outcome.offline) this.offline()
      else this.online()
    }
    return outcome
  }

  online(): void {
    this.alarms = clearAlarm(clearAlarm(this.alarms, 'smart-licensing-registration'), 'smart-licensing-authorization')
  }

  offline(): void {
    this.alarms = raiseAlarm(raiseAlarm(this.alarms, 'smart-licensing-registration', this.at), 'smart-licensing-authorization', this.at)
  }

  /** Cisco's Unauthorized state shows as an alarm while it lasts. */
  evaluationAlarm(): void {
    this.alarms = isUnauthorized(this.state, this.at) ? raiseAlarm(this.alarms, 'evaluation-expired', this.at) : clearAlarm(this.alarms, 'evaluation-expired')
  }

  deleteIfPresent(rel: string): void {
    if (this.files.stat(rel) !== null) this.tx.delete(rel)
  }

  /** Writes what changed (licensing.json, alarms) with an audit line that holds no secret. */
  flush(audit: Record<string, unknown>): void {
    const changed = JSON.stringify(this.state) !== this.stateBefore
    if (changed) this.tx.writeJson(LICENSING.state, this.state)
    if (JSON.stringify(this.alarms) !== this.alarmsBefore) this.tx.writeJson(ALARMS.file, this.alarms)
    if (!this.tx.empty) {
      this.tx.audit({...audit, exchanges: this.exchanges.map((e) => `${e.method}:${e.ok ? 'ok' : 'failed'}`), registration: this.state.registration.state})
    }
  }

  view(): SmartLicensingView {
    const trust = readTrustStore(this.files).map(({subject, fingerprint, lab}) => ({subject, fingerprint, lab}))
    return licensingStatus(this.state, this.usage, this.at, trust, this.cluster()) as SmartLicensingView
  }

  result(): AgentResult {
    const licensing = this.view()
    return {unit: this.unitArg, licensing, exchanges: this.exchanges, notes: registrationNotes(licensing), warnings: this.warnings}
  }
}

// ---------------------------------------------------------------------------
// The exchanges
// ---------------------------------------------------------------------------

/** Forgets the registration locally: back to evaluation (if it has not expired), identity certificate dropped. */
function forgetRegistration(s: AgentSession, lastError: string | null): void {
  const fresh = defaultLicensingState('smart')
  s.state.registration = {...fresh.registration, lastError}
  s.state.authorization = fresh.authorization
  s.state.usageReportedAt = null
  s.deleteIfPresent(LICENSING.agentCert)
  s.deleteIfPresent(LICENSING.pendingToken)
  // nothing is left to renew: the connectivity alarms have no object any more
  s.alarms = clearAlarm(clearAlarm(s.alarms, 'smart-licensing-registration'), 'smart-licensing-authorization')
}

function serverForgot(s: AgentSession, error: XwayError): XwayError | null {
  if (!(error instanceof LicenseServerError) || error.serverCode !== 'unknown-instance') return null
  const message = `The license server no longer knows this product instance (${s.udi}): it was removed there. The unit is unregistered; register it again with a registration token.`
  forgetRegistration(s, message)
  return new RefusedError(message, {actions: [`xway licensing register ${s.unitArg} --token TOKEN`]})
}

/**
 * Registration with a token. Success: registered now (the unit's clock), identity certificate
 * stored, token dropped, and the first authorization right away. Unreachable: pending, the
 * token kept (0600) for the 15-minute retries. Refused token: failed, token dropped. A
 * reregistration (--force) of a registered unit that fails keeps the old registration.
 */
async function registerExchange(s: AgentSession, token: string, force: boolean): Promise<XwayError | null> {
  const info = s.unit.info
  const key = await s.agentKey()
  const {hostname, ip} = s.identity()
  const wasRegistered = s.state.registration.state === 'registered'
  s.state.registration.lastAttemptAt = s.at.toISOString()
  const outcome = await s.exchange<RegisterReply>({
    method: 'register',
    params: {
      token, udi: s.udi, publicKey: publicKeyPem(key),
      product: {pid: info.pid, serial: info.serial, brand: info.brand, type: info.type, edition: info.edition, softwareVersion: info.softwareVersion},
      hostname, ip, force,
    },
  })
  const r = s.state.registration
  if (outcome.ok) {
    const reply = outcome.reply
    s.state.registration = {
      ...r, state: 'registered', smartAccount: reply.smartAccount, virtualAccount: reply.virtualAccount, exportControlled: reply.exportControlled,
      registeredAt: s.at.toISOString(), lastError: null, nextAttemptAt: null, hostnameSent: hostname, serial: info.serial,
      endpoint: transportEndpoint(s.state), pendingForce: false,
    }
    s.state.authorization = defaultLicensingState('smart').authorization
    s.state.usageReportedAt = null
    s.tx.write(LICENSING.agentCert, reply.identityCertificate.trim() + '\n', 0o644)
    s.identityCertificate = reply.identityCertificate
    s.deleteIfPresent(LICENSING.pendingToken)
    if (reply.reregistered && force) s.warnings.push(`Reregistered: the product instance now belongs to virtual account ${reply.virtualAccount}.`)
    const auth = await reportExchange(s, 'authorization')
    if (auth) s.warnings.push(`Registered, but the first authorization did not complete: ${auth.message} The agent retries in 15 minutes (xway licensing sync ${s.unitArg}).`)
    return null
  }
  const error = outcome.error
  if (wasRegistered) {
    // the server kept the old registration (it checks the token before replacing anything)
    r.lastError = outcome.offline ? registrationErrorMessage(error) : `Reregistration failed: ${error.message}`
    return outcome.offline
      ? offlineFailure(s, 'Reregistration could not reach the license server', r.lastError, error, 'The unit stays registered as before.')
      : registrationRefusal(s, error)
  }
  if (outcome.offline) {
    s.state.registration = {...r, state: 'pending', lastError: registrationErrorMessage(error), nextAttemptAt: plusMs(s.at, RETRY_INTERVAL_MS), pendingForce: force}
    if (readText(s.files, LICENSING.pendingToken) !== token + '\n') s.tx.write(LICENSING.pendingToken, token + '\n', 0o600)
    return offlineFailure(s, 'Registration pending', s.state.registration.lastError!, error,
      `The agent retries every 15 minutes (xway licensing sync ${s.unitArg}); the next attempt is at ${s.state.registration.nextAttemptAt}.`)
  }
  s.state.registration = {...r, state: 'failed', lastError: error.message, nextAttemptAt: null, pendingForce: false}
  s.deleteIfPresent(LICENSING.pendingToken)
  return registrationRefusal(s, error)
}

function registrationRefusal(s: AgentSession, error: XwayError): XwayError {
  if (error instanceof LicenseServerError && error.serverCode.startsWith('token-')) {
    return new BadInputError(`Registration failed: ${error.message}`, {
      actions: ['Generate a new Product Instance Registration Token on the license server (xway license-server token create DIR --virtual-account VA) and register again.'],
    })
  }
  if (error instanceof LicenseServerError && error.serverCode === 'already-registered') {
    return new RefusedError(`Registration failed: ${error.message}`, {
      actions: [`Reregister with --force ("Reregister this product instance if it is already registered"): xway licensing register ${s.unitArg} --token TOKEN --force`],
    })
  }
  return error
}

/**
 * An exchange that could not happen: the command's message carries the stored lastError word
 * for word (so status and command say the same), then what the agent met and what comes next.
 */
function offlineFailure(s: AgentSession, what: string, lastError: string, error: XwayError, next: string): UnreachableError {
  const detail = error.message === lastError ? '' : ` ${error.message}`
  return new UnreachableError(`${what}: ${lastError}${detail} ${next}`, {actions: offlineActions(s, error)})
}

/**
 * An exchange that carries the unit's usage per license type (in a cluster, what it reports:
 * cluster-share.ts). `authorization`: the authorization renewal, which moves the 30-day renewal
 * and the 90-day expiry; `usage`: the 6-hourly usage report, which never moves them. Either
 * records the server's per-type answer (`licenses[]`: granted, and status when the server
 * sends one) and the time of the last usage report.
 */
async function reportExchange(s: AgentSession, kind: ReportKind): Promise<XwayError | null> {
  const key = await s.agentKey()
  const a = s.state.authorization
  if (kind === 'authorization') a.lastAttemptAt = s.at.toISOString()
  // the flag rides beside `usage`; AuthorizeParams of the protocol names only `usage` so far
  const params: AuthorizeParams & {report: ReportKind} = {usage: s.reportedCounts(), report: kind}
  const outcome = await s.exchange<AuthorizeReply>({method: 'authorize', params}, s.credential(key), kind)
  if (outcome.ok) {
    const reply = outcome.reply
    s.state.authorization = {
      ...a,
      ...(kind === 'authorization' ? {lastSuccessAt: s.at.toISOString()} : {}),
      result: reply.status,
      licenses: grantsOf(reply),
      nextAttemptAt: null,
    }
    s.state.usageReportedAt = s.at.toISOString()
    const r = s.state.registration
    s.state.registration = {...r, smartAccount: reply.smartAccount, virtualAccount: reply.virtualAccount, exportControlled: reply.exportControlled, lastError: null}
    return null
  }
  const forgot = serverForgot(s, outcome.error)
  if (forgot) return forgot
  a.nextAttemptAt = plusMs(s.at, RETRY_INTERVAL_MS)
  const what = kind === 'authorization' ? 'Authorization' : 'Usage report'
  const lastError = outcome.offline ? reportErrorMessage(kind, outcome.error) : `${what} failed: ${outcome.error.message}`
  s.state.registration.lastError = lastError
  return outcome.offline ? offlineFailure(s, `${what} could not happen`, lastError, outcome.error, 'The agent retries in 15 minutes.') : outcome.error
}

/** The server's answer per type: each type granted or short on its own, with its status when the server sends one. */
function grantsOf(reply: AuthorizeReply): LicenseGrant[] {
  return (reply.licenses as Array<AuthorizeReply['licenses'][number] & {status?: unknown}>).map(({type, requested, granted, status}) => (
    status === 'authorized' || status === 'out-of-compliance' ? {type, requested, granted, status} : {type, requested, granted}
  ))
}

/** Registration renewal: a new year from now, and the server learns the current hostname (unless hidden). */
async function renewRegistrationExchange(s: AgentSession): Promise<XwayError | null> {
  const key = await s.agentKey()
  const {hostname, ip} = s.identity()
  const r = s.state.registration
  r.lastAttemptAt = s.at.toISOString()
  const outcome = await s.exchange<RenewRegistrationReply>({method: 'renew-registration', params: {hostname, ip}}, s.credential(key))
  if (outcome.ok) {
    const reply = outcome.reply
    s.state.registration = {
      ...s.state.registration, registeredAt: s.at.toISOString(), smartAccount: reply.smartAccount, virtualAccount: reply.virtualAccount,
      exportControlled: reply.exportControlled, hostnameSent: hostname, lastError: null, nextAttemptAt: null,
    }
    s.tx.write(LICENSING.agentCert, reply.identityCertificate.trim() + '\n', 0o644)
    s.identityCertificate = reply.identityCertificate
    return null
  }
  const forgot = serverForgot(s, outcome.error)
  if (forgot) return forgot
  r.nextAttemptAt = plusMs(s.at, RETRY_INTERVAL_MS)
  r.lastError = outcome.offline ? registrationErrorMessage(outcome.error) : `Registration renewal failed: ${outcome.error.message}`
  return outcome.offline ? offlineFailure(s, 'Registration renewal could not happen', r.lastError, outcome.error, 'The agent retries in 15 minutes.') : outcome.error
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

/** Runs one agent operation in the unit's transaction, commits what it recorded, then reports its failure (if any). */
async function runAgent<R>(unitArg: string, command: string, at: Date, work: (s: AgentSession) => Promise<{result: R; failure: XwayError | null}>): Promise<R> {
  const {result, failure} = await changeUnit(unitArg, command, async (tx, unit) => {
    const s = new AgentSession(unit, unitArg, tx, at)
    assertSmartLicensing(unit.info, s.state)
    const outcome = await work(s)
    s.evaluationAlarm()
    s.flush({})
    return outcome
  })
  if (failure) throw failure
  return result
}

export function checkToken(token: string): string {
  const t = typeof token === 'string' ? token.trim() : ''
  if (t === '') throw new UsageError('--token is empty: give the Product Instance Registration Token from the license server.')
  if (t.length > 1024 || /[\s\0-\x1f\x7f]/.test(t)) {
    throw new BadInputError('The registration token is malformed: a token is one line of at most 1024 printable characters without spaces.', {
      actions: ['Copy the token from the license server again (xway license-server token create DIR --virtual-account VA).'],
    })
  }
  return t
}

/** `licensing register UNIT --token T [--force]`. */
export async function registerUnit(unitArg: string, options: {token: string; force?: boolean}, at: Date): Promise<AgentResult> {
  const token = checkToken(options.token)
  return runAgent(unitArg, 'licensing register', at, async (s) => {
    const r = s.state.registration
    if (s.state.reservation.enabled || s.state.reservation.state !== 'none') {
      throw new RefusedError('Smart licensing reservation is enabled on this unit: a reserved unit is not registered with a token.', {
        actions: [`Return or cancel the reservation and disable it first (xway licensing reservation disable ${unitArg}).`],
      })
    }
    if (r.state === 'registered' && isRegistered(s.state, at) && !options.force) {
      throw new RefusedError(`The unit is already registered (virtual account ${r.virtualAccount}).`, {
        actions: [`To register it again, possibly into another virtual account, add --force ("Reregister this product instance if it is already registered"): xway licensing register ${unitArg} --token TOKEN --force`],
      })
    }
    // an expired registration is replaced by a new one: the server knows the instance (same key), force is implied
    const force = options.force === true || isRegistrationExpired(s.state, at)
    const failure = await registerExchange(s, token, force)
    return {result: s.result(), failure}
  })
}

/** `licensing renew UNIT --authorization | --registration`. */
export async function renewUnit(unitArg: string, what: 'authorization' | 'registration', at: Date): Promise<AgentResult> {
  return runAgent(unitArg, 'licensing renew', at, async (s) => {
    if (!isRegistered(s.state, at)) {
      const r = s.state.registration
      throw new RefusedError(isRegistrationExpired(s.state, at)
        ? `The registration expired on ${plusMonths(r.registeredAt!, 12).toISOString()}: it cannot be renewed any more.`
        : 'The unit is not registered: renewals are available after a successful registration (Cisco: "The Additional operations drop-down list is activated after a successful registration").', {
        actions: [`Register it: xway licensing register ${unitArg} --token TOKEN`],
      })
    }
    const failure = what === 'authorization' ? await reportExchange(s, 'authorization') : await renewRegistrationExchange(s)
    return {result: s.result(), failure}
  })
}

/**
 * `licensing deregister UNIT`: releases every entitlement at the server. Cisco: when the
 * server cannot be reached, the unit deregisters anyway and warns to remove the product
 * instance on the server. Back to evaluation if it has not expired.
 */
export async function deregisterUnit(unitArg: string, at: Date): Promise<DeregisterResult> {
  return runAgent(unitArg, 'licensing deregister', at, async (s) => {
    const r = s.state.registration
    if (r.state === 'unregistered') {
      throw new RefusedError('The unit is not registered: there is nothing to deregister.', {
        actions: s.state.reservation.state === 'installed' ? [`A reservation is returned with xway licensing reservation return ${unitArg}.`] : [],
      })
    }
    let released: LicenseCounts | null = null
    if (r.state === 'registered') {
      const key = s.existingKey()
      const outcome: Outcome<DeregisterReply> = key
        ? await s.exchange<DeregisterReply>({method: 'deregister'}, s.credential(key))
        : {ok: false, offline: false, error: new BadInputError(`${LICENSING.agentKey} is missing: the server cannot be told.`)}
      if (outcome.ok) released = outcome.reply.released
      else if (outcome.error instanceof LicenseServerError && outcome.error.serverCode === 'unknown-instance') {
        s.warnings.push(`The license server no longer knew this product instance (${s.udi}); the unit is deregistered.`)
      } else {
        s.warnings.push(`The license server could not be told (${outcome.error.message}): the unit is deregistered anyway. Remove the product instance ${s.udi} on the server to free its licenses (xway license-server instances remove DIR ${s.udi}).`)
      }
    }
    // pending or failed registrations have nothing at the server: they are simply dropped
    forgetRegistration(s, null)
    return {result: {...s.result(), released}, failure: null}
  })
}

/**
 * `licensing sync UNIT`: what the agent's timers would have done by now — a pending
 * registration retried (every 15 minutes), the registration renewed at 6 months, the
 * authorization renewed at 30 days, usage reported every 6 hours; failures retried 15
 * minutes later. Once the server is unreachable, the other exchanges due are not tried: they
 * are scheduled for the same retry. An expired registration has nothing to renew: the result's
 * notes say so.
 */
export async function syncUnit(unitArg: string, at: Date): Promise<AgentResult> {
  return runAgent(unitArg, 'licensing sync', at, async (s) => {
    let failure: XwayError | null = null
    const note = (f: XwayError | null) => {
      failure ??= f
      return f === null
    }
    const r = s.state.registration
    if (r.state === 'pending' && due(r.nextAttemptAt, at)) {
      const token = readText(s.files, LICENSING.pendingToken)?.trim()
      if (!token) {
        s.state.registration = {...r, state: 'failed', lastError: 'The pending registration has lost its token: register again.', nextAttemptAt: null, pendingForce: false}
        failure = new BadInputError('The pending registration has lost its token.', {actions: [`Register again: xway licensing register ${unitArg} --token TOKEN`]})
      } else {
        note(await registerExchange(s, token, s.state.registration.pendingForce))
      }
    } else if (isRegistered(s.state, at)) {
      const reg = s.state.registration
      const renewalDue = at >= plusMonths(reg.registeredAt!, REGISTRATION_RENEWAL_INTERVAL_MONTHS) && due(reg.nextAttemptAt, at)
      if (renewalDue) note(await renewRegistrationExchange(s))
      const online = !(renewalDue && s.lastOffline)
      const a = s.state.authorization
      const report = isRegistered(s.state, at) && due(a.nextAttemptAt, at) ? reportDue(s.state, at) : null
      if (report && online) note(await reportExchange(s, report))
      else if (report) a.nextAttemptAt = plusMs(at, RETRY_INTERVAL_MS)
    }
    return {result: s.result(), failure}
  })
}

function assertReporting(s: AgentSession, unitArg: string, at: Date): void {
  if (s.state.reservation.state === 'installed') {
    throw new RefusedError(`A ${s.state.reservation.kind} reservation is installed: a reserved unit reports no usage (Cisco: a reservation deploys licenses "without communicating usage information").`, {
      actions: [`Show the usage as it stands: xway licensing usage ${unitArg}`],
    })
  }
  if (!isRegistered(s.state, at)) {
    throw new RefusedError(isRegistrationExpired(s.state, at)
      ? `The registration expired on ${plusMonths(s.state.registration.registeredAt!, 12).toISOString()}: usage is reported only while the unit is registered.`
      : 'The unit is not registered: usage is reported to CSSM or Smart Software Manager On-Prem after a successful registration.', {
      actions: [`Register it: xway licensing register ${unitArg} --token TOKEN`],
    })
  }
}

/**
 * `licensing usage UNIT [--refresh]`: Cisco's "License usage", per type current usage and
 * status (in a cluster also what the unit reports and borrows), the last report and the next.
 * `--refresh` is "Update usage details": one usage report now (the authorization's expiry
 * does not move). Without it nothing changes.
 */
export async function unitUsage(unitArg: string, options: {refresh?: boolean}, at: Date): Promise<UsageResult> {
  if (!options.refresh) {
    const unit = await openUnit(unitArg)
    const state = readLicensing(unit.files)
    assertSmartLicensing(unit.info, state)
    return {unit: unitArg, ...usageView(state, readUsage(unit.files), at, clusterShareOf(unit, at)), refreshed: false, exchanges: [], warnings: []}
  }
  return runAgent(unitArg, 'licensing usage', at, async (s) => {
    assertReporting(s, unitArg, at)
    // a unit whose first authorization never completed gets it now: a usage report alone would leave it unauthorized
    const failure = await reportExchange(s, s.state.authorization.lastSuccessAt === null ? 'authorization' : 'usage')
    const result: UsageResult = {unit: unitArg, ...usageView(s.state, s.usage, at, s.cluster()), refreshed: failure === null, exchanges: s.exchanges, warnings: s.warnings}
    return {result, failure}
  })
}
