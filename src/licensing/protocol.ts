import {createHash, randomBytes, sign as rsaSign, verify as rsaVerify, X509Certificate, type KeyObject} from 'node:crypto'
import {BadInputError, XwayError, type ErrorCode} from '../errors.js'
import {certificateInfo, verifyCertificateSignedBy} from '../crypto/x509.js'

// The Smart Transport protocol between the agent (a unit) and the lab license server.
// JSON over HTTPS, one endpoint (POST /SmartTransport). docs/licensing-protocol.md
// describes it for people; this file is the contract for code on both sides.

export const TRANSPORT_PATH = '/SmartTransport'
export const PROTOCOL_VERSION = 1
/** Request bodies above this are refused (413) before they are parsed. */
export const MAX_REQUEST_BYTES = 64 * 1024
/** Replies above this are refused by the client. */
export const MAX_REPLY_BYTES = 1024 * 1024

export const LICENSE_TYPES = ['rms', 'room', 'desktop'] as const
export type LicenseType = (typeof LICENSE_TYPES)[number]
export type LicenseCounts = Record<LicenseType, number>

export const LICENSE_TYPE_NAMES: Record<LicenseType, string> = {
  rms: 'Rich Media Session',
  room: 'Room Registrations',
  desktop: 'Desktop Registrations',
}

/**
 * Entitlement tags of the lab server's reservation codes. Cisco publishes none for
 * Expressway: these follow the `regid.<date>.com.cisco.<name>,<version>_<uuid>` shape of the
 * tags other Cisco products show. An agent treats any other tag as "Invalid-tag".
 */
export const ENTITLEMENT_TAGS = {
  rms: 'regid.2022-06.com.cisco.EXPWY_RMS,14.2_0f9e1a5c-3a4b-4c71-9d0e-6b2f8a1c7d30',
  room: 'regid.2022-06.com.cisco.EXPWY_ROOM,14.2_2c7d8e91-5b6a-4f02-8e13-7a4c9b0d1e52',
  desktop: 'regid.2022-06.com.cisco.EXPWY_DESKTOP,14.2_4e1f0a23-7c8d-4a94-b035-9c6e1d2f3a74',
  /** "Expressway PLR without Export Control": every feature, to the box's capacity */
  plr: 'regid.2022-06.com.cisco.EXPWY_PLR,14.2_6a3b2c45-9e0f-4cb6-a257-1e8f3a4b5c96',
} as const

export type ExportControlled = 'Allowed' | 'Not Allowed'

// ---------------------------------------------------------------------------
// UDI, request/confirmation/return codes
// ---------------------------------------------------------------------------

/** The unit's UDI as the agent sends it: `PID:<pid>,SN:<serial>`. */
export function formatUdi(pid: string, serial: string): string {
  return `PID:${pid},SN:${serial}`
}

const UDI_RE = /^PID:([A-Za-z0-9][A-Za-z0-9._/-]{0,63}),SN:([A-Za-z0-9]{1,40})$/

export function parseUdi(udi: string): {pid: string; serial: string} {
  const match = typeof udi === 'string' ? UDI_RE.exec(udi) : null
  if (!match) throw new BadInputError(`Not a UDI: ${JSON.stringify(String(udi).slice(0, 80))} (expected PID:<pid>,SN:<serial>).`)
  return {pid: match[1]!, serial: match[2]!}
}

export function isUdi(udi: unknown): udi is string {
  return typeof udi === 'string' && UDI_RE.test(udi)
}

/**
 * Product instance id of a UDI, as the authorization code's `<piid>`: a name-based UUID
 * (SHA-256, version 8) of the UDI. The `<udi>` element sits outside the signed
 * `<authorizationCode>`; deriving the piid from the UDI binds the signature to it, so a
 * code cannot be moved to another unit by editing `<udi>`.
 */
export function piidForUdi(udi: string): string {
  const hash = createHash('sha256').update('xway-piid-v1\0').update(udi).digest()
  hash[6] = (hash[6]! & 0x0f) | 0x80
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Letters and digits only (no '-' that a command line would take for a flag), uniformly drawn. */
export function randomAlphanumeric(length: number, bytes: (n: number) => Buffer = randomBytes): string {
  let out = ''
  while (out.length < length) {
    for (const byte of bytes(length + 16)) {
      // 248 = 4 * 62: rejection keeps the letters uniform
      if (byte < 248 && out.length < length) out += NONCE_ALPHABET[byte % 62]
    }
  }
  return out
}

/** A reservation request nonce: 9 letters and digits, like `A6rZG7jGd` in Cisco's codes. */
export function randomRequestNonce(bytes: (n: number) => Buffer = randomBytes): string {
  return randomAlphanumeric(9, bytes)
}

function codeCheck(kind: string, ...parts: string[]): string {
  return createHash('sha256').update(`xway-${kind}-v1\0${parts.join('\0')}`).digest('hex').slice(0, 4).toUpperCase()
}

const REQUEST_CODE_RE = /^CB-Z([A-Za-z0-9][A-Za-z0-9._/-]{0,63}):([A-Za-z0-9]{1,40})-([A-Za-z0-9]{4,32})-([0-9A-F]{4})$/

/**
 * Reservation request code `CB-Z<PID>:<serial>-<nonce>-<check>`, shaped like Cisco's
 * (`CE-ZC9300-48P-4X:XDC240312LB5-A6rZG7jGd-75`). The check (4 hex digits of a SHA-256 over
 * the rest) catches typing and pasting mistakes; it is not a secret.
 */
export function makeRequestCode(pid: string, serial: string, nonce: string): string {
  const code = `CB-Z${pid}:${serial}-${nonce}`
  const full = `${code}-${codeCheck('request', pid, serial, nonce)}`
  if (!REQUEST_CODE_RE.test(full)) {
    throw new BadInputError(`A request code cannot be made from PID ${JSON.stringify(pid)}, serial ${JSON.stringify(serial)} and nonce ${JSON.stringify(nonce)}.`)
  }
  return full
}

export interface RequestCode {pid: string; serial: string; nonce: string; udi: string}

export function parseRequestCode(code: string): RequestCode {
  const text = typeof code === 'string' ? code.trim() : ''
  const match = REQUEST_CODE_RE.exec(text)
  if (!match) {
    throw new BadInputError(`Not a reservation request code: ${JSON.stringify(text.slice(0, 80))} (expected CB-Z<PID>:<serial>-<nonce>-<check>).`, {
      actions: ['Copy the code printed by `xway licensing reservation request UNIT` in full.'],
    })
  }
  const [, pid, serial, nonce, check] = match as unknown as [string, string, string, string, string]
  if (codeCheck('request', pid, serial, nonce) !== check) {
    throw new BadInputError(`The reservation request code ${text} fails its check: it was mistyped or changed.`, {
      actions: ['Copy the code printed by `xway licensing reservation request UNIT` again.'],
    })
  }
  return {pid, serial, nonce, udi: formatUdi(pid, serial)}
}

/** What a confirmation or return code names: the product instance and the authorization code's timestamp. */
export interface ReservationCodeParts {piid: string; timestamp: number}

const PIID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function makeInstanceCode(prefix: 'CF' | 'RT', udi: string, timestamp: number): string {
  const piid = piidForUdi(udi)
  const ts = timestamp.toString(36).toUpperCase()
  return `${prefix}-${piid.replace(/-/g, '').toUpperCase()}-${ts}-${codeCheck(prefix, piid, String(timestamp), udi)}`
}

function parseInstanceCode(prefix: 'CF' | 'RT', what: string, code: string): ReservationCodeParts & {check: string} {
  const text = typeof code === 'string' ? code.trim() : ''
  const match = new RegExp(`^${prefix}-([0-9A-F]{32})-([0-9A-Z]{1,12})-([0-9A-F]{4})$`).exec(text)
  if (!match) throw new BadInputError(`Not a reservation ${what} code: ${JSON.stringify(text.slice(0, 80))} (expected ${prefix}-<32 hex>-<time>-<check>).`)
  const hex = match[1]!.toLowerCase()
  const piid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  const timestamp = parseInt(match[2]!, 36)
  if (!Number.isSafeInteger(timestamp)) throw new BadInputError(`The reservation ${what} code ${text} is malformed.`)
  return {piid, timestamp, check: match[3]!}
}

function instanceCodeMatches(prefix: 'CF' | 'RT', parts: ReservationCodeParts & {check: string}, udi: string): boolean {
  return PIID_RE.test(parts.piid) && piidForUdi(udi) === parts.piid && codeCheck(prefix, parts.piid, String(parts.timestamp), udi) === parts.check
}

/** SLR confirmation code, printed by the agent after installing an authorization code (PLR prints none). */
export function makeConfirmationCode(udi: string, timestamp: number): string {
  return makeInstanceCode('CF', udi, timestamp)
}

export function parseConfirmationCode(code: string): ReservationCodeParts & {check: string} {
  return parseInstanceCode('CF', 'confirmation', code)
}

export function confirmationCodeMatches(parts: ReservationCodeParts & {check: string}, udi: string): boolean {
  return instanceCodeMatches('CF', parts, udi)
}

/** Return code: the unit gave up the reservation whose authorization code carried `timestamp`. */
export function makeReturnCode(udi: string, timestamp: number): string {
  return makeInstanceCode('RT', udi, timestamp)
}

export function parseReturnCode(code: string): ReservationCodeParts & {check: string} {
  return parseInstanceCode('RT', 'return', code)
}

export function returnCodeMatches(parts: ReservationCodeParts & {check: string}, udi: string): boolean {
  return instanceCodeMatches('RT', parts, udi)
}

// ---------------------------------------------------------------------------
// Authorization codes (XML)
// ---------------------------------------------------------------------------

export type ReservationKind = 'SLR' | 'PLR'

export interface AuthorizationEntitlement {
  tag: string
  /** the license type the tag names, 'plr' for the PLR entitlement, null for a tag this version does not know */
  type: LicenseType | 'plr' | null
  count: number
  /** ISO 8601, or null (perpetual) */
  startDate: string | null
  endDate: string | null
  licenseType: 'PERPETUAL' | 'TERM' | string
}

export interface VerifiedAuthorizationCode {
  kind: ReservationKind
  udi: string
  piid: string
  /** milliseconds since the epoch; a later timestamp is a newer code for the same UDI */
  timestamp: number
  entitlements: AuthorizationEntitlement[]
  /** the signed `<authorizationCode>…</authorizationCode>` text */
  signedText: string
  /** SHA-256 (hex) of the signed text: identifies the code for "already installed" checks */
  digest: string
  signer: {subject: string; fingerprint: string}
}

export const MAX_AUTHORIZATION_CODE_BYTES = 64 * 1024

export function typeOfTag(tag: string): LicenseType | 'plr' | null {
  for (const [type, known] of Object.entries(ENTITLEMENT_TAGS)) if (known === tag) return type as LicenseType | 'plr'
  return null
}

const XML_ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'}

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)
}

function xmlUnescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"})[name]!)
}

const TOP_RE = /^<(specificPLR|permanentPLR)>\s*(<authorizationCode>[\s\S]*?<\/authorizationCode>)\s*<signature>([A-Za-z0-9+/=\s]{16,4096})<\/signature>\s*<udi>([^<]{1,200})<\/udi>\s*<signingCertificate>([A-Za-z0-9+/=\s]{64,16384})<\/signingCertificate>\s*<\/\1>$/
const BODY_RE = /^<authorizationCode><flag>([A-Z])<\/flag><version>([A-Z])<\/version><piid>([0-9a-f-]{36})<\/piid><timestamp>(\d{1,16})<\/timestamp><entitlements>((?:<entitlement>[\s\S]*?<\/entitlement>)*)<\/entitlements><\/authorizationCode>$/
const ENTITLEMENT_RE = /<entitlement><tag>([^<]{1,300})<\/tag><count>(\d{1,9})<\/count>(?:<startDate\/>|<startDate>([^<]{0,40})<\/startDate>)(?:<endDate\/>|<endDate>([^<]{0,40})<\/endDate>)<licenseType>([A-Z_]{1,20})<\/licenseType><\/entitlement>/g

function malformed(detail: string): BadInputError {
  return new BadInputError(`The authorization code is malformed: ${detail}.`, {
    actions: ['Paste the whole authorization code generated by the license server (`xway license-server reservation authorize`), in double quotes.'],
  })
}

function isoOrNull(value: string | undefined, field: string): string | null {
  if (value === undefined || value === '') return null
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw malformed(`${field} ${JSON.stringify(value)} is not a date`)
  return date.toISOString()
}

/**
 * Checks an authorization code and returns what it grants. Throws BadInputError (exit 4)
 * when it is malformed, when its signature does not verify over the `<authorizationCode>`
 * text, when its signing certificate was not issued by one of `trustAnchorPems` (or is out
 * of its validity at the real time), or when its piid does not belong to its `<udi>`.
 * Whether the UDI is this unit's, and whether a request is pending, is the agent's check.
 */
export function verifyAuthorizationCode(xml: string, trustAnchorPems: string[]): VerifiedAuthorizationCode {
  if (typeof xml !== 'string') throw malformed('it is not text')
  if (Buffer.byteLength(xml) > MAX_AUTHORIZATION_CODE_BYTES) throw malformed(`it is larger than ${MAX_AUTHORIZATION_CODE_BYTES} bytes`)
  const top = TOP_RE.exec(xml.trim())
  if (!top) throw malformed('expected <specificPLR> or <permanentPLR> holding <authorizationCode>, <signature>, <udi> and <signingCertificate>')
  const [, root, signedText, signatureB64, udiText, certB64] = top as unknown as [string, string, string, string, string, string]
  const body = BODY_RE.exec(signedText)
  if (!body) throw malformed('the <authorizationCode> element does not hold <flag>, <version>, <piid>, <timestamp> and <entitlements> in that order')
  const [, , , piid, timestampText, entitlementsText] = body as unknown as [string, string, string, string, string, string]
  const udi = xmlUnescape(udiText)
  if (!isUdi(udi)) throw malformed(`<udi> ${JSON.stringify(udi)} is not a UDI (PID:<pid>,SN:<serial>)`)

  const entitlements: AuthorizationEntitlement[] = []
  let consumed = 0
  for (const m of entitlementsText.matchAll(ENTITLEMENT_RE)) {
    if (m.index !== consumed) break
    consumed += m[0].length
    const tag = xmlUnescape(m[1]!)
    entitlements.push({
      tag,
      type: typeOfTag(tag),
      count: Number(m[2]),
      startDate: isoOrNull(m[3], '<startDate>'),
      endDate: isoOrNull(m[4], '<endDate>'),
      licenseType: m[5]!,
    })
  }
  if (consumed !== entitlementsText.length) throw malformed('an <entitlement> does not hold <tag>, <count>, <startDate>, <endDate> and <licenseType> in that order')
  if (entitlements.length === 0) throw malformed('it holds no entitlement')

  // the signer: its certificate must chain to one of the agent's trust anchors
  let certPem: string
  let cert: X509Certificate
  try {
    const der = Buffer.from(certB64.replace(/\s+/g, ''), 'base64')
    cert = new X509Certificate(der)
    certPem = cert.toString()
  } catch {
    throw malformed('<signingCertificate> is not a certificate')
  }
  const trusted = trustAnchorPems.some((anchor) => {
    try {
      return verifyCertificateSignedBy(certPem, anchor)
    } catch {
      return false
    }
  })
  if (!trusted) {
    throw new BadInputError('The authorization code is signed by a certificate that none of this unit\'s trust anchors issued (Unknown CA).', {
      actions: ['Use an authorization code from the license server this unit was built to trust.'],
    })
  }
  const realNow = Date.now()
  if (realNow < Date.parse(cert.validFrom) || realNow > Date.parse(cert.validTo)) {
    throw new BadInputError(`The authorization code's signing certificate is not valid now (valid ${cert.validFrom} to ${cert.validTo}).`)
  }
  const signature = Buffer.from(signatureB64.replace(/\s+/g, ''), 'base64')
  let good = false
  try {
    good = rsaVerify('sha256', Buffer.from(signedText, 'utf8'), cert.publicKey, signature)
  } catch {
    good = false
  }
  if (!good) {
    throw new BadInputError('The authorization code\'s signature does not verify: the code was changed after it was signed.', {
      actions: ['Paste the authorization code exactly as the license server generated it.'],
    })
  }
  if (piidForUdi(udi) !== piid) {
    throw new BadInputError(`The authorization code's <udi> ${udi} does not match its signed product instance id: the code was edited.`)
  }
  const info = certificateInfo(certPem)
  return {
    kind: root === 'specificPLR' ? 'SLR' : 'PLR',
    udi,
    piid,
    timestamp: Number(timestampText),
    entitlements,
    signedText,
    digest: createHash('sha256').update(signedText).digest('hex'),
    signer: {subject: info.subject, fingerprint: info.fingerprint},
  }
}

// ---------------------------------------------------------------------------
// Requests and replies
// ---------------------------------------------------------------------------

export interface ProductInfo {
  pid: string
  serial: string
  brand?: string
  type?: string
  edition?: string
  softwareVersion?: string
}

export interface RegisterParams {
  token: string
  udi: string
  /** SPKI PEM of the instance key (the agent's own key pair) */
  publicKey: string
  product: ProductInfo
  /** null when the unit hides its identity ("Do not share my hostname or IP address") */
  hostname: string | null
  ip: string | null
  /** reregister an instance already registered under another key, possibly moving it to another virtual account */
  force?: boolean
}

export interface RegisterReply {
  status: 'registered'
  udi: string
  smartAccount: string
  virtualAccount: string
  exportControlled: ExportControlled
  /** PEM, issued by the lab CA, CN = UDI, for the instance key */
  identityCertificate: string
  identityCertificateSerial: string
  /** true when an existing registration of this UDI was replaced */
  reregistered: boolean
  /** the server's clock; informational only (agents compute their timers from their own clock) */
  serverTime: string
}

export interface AuthorizeParams {
  /** what the unit uses now, per type (the usage report and the authorization request in one) */
  usage: Partial<LicenseCounts>
}

export type AuthorizationResult = 'authorized' | 'out-of-compliance' | 'no-licenses-in-use'

export interface AuthorizeReply {
  status: AuthorizationResult
  /** per type: what was asked, what the instance holds after this report, and what the pool lacked */
  licenses: Array<{type: LicenseType; requested: number; granted: number; shortage: number}>
  smartAccount: string
  virtualAccount: string
  exportControlled: ExportControlled
  serverTime: string
}

export interface RenewRegistrationParams {
  /** the current hostname and IP, or null when hidden */
  hostname: string | null
  ip: string | null
}

export interface RenewRegistrationReply {
  status: 'registered'
  udi: string
  smartAccount: string
  virtualAccount: string
  exportControlled: ExportControlled
  identityCertificate: string
  identityCertificateSerial: string
  serverTime: string
}

export interface DeregisterReply {
  status: 'deregistered'
  udi: string
  released: LicenseCounts
  serverTime: string
}

export interface PingReply {
  status: 'ok'
  udi: string
  virtualAccount: string
  serverTime: string
}

export type AgentRequest =
  | {method: 'register'; params: RegisterParams}
  | {method: 'authorize'; params: AuthorizeParams}
  | {method: 'renew-registration'; params: RenewRegistrationParams}
  | {method: 'deregister'; params?: Record<string, never>}
  | {method: 'ping'; params?: Record<string, never>}

export type AgentMethod = AgentRequest['method']
export const AGENT_METHODS: readonly AgentMethod[] = ['register', 'authorize', 'renew-registration', 'deregister', 'ping']

export interface ReplyByMethod {
  register: RegisterReply
  authorize: AuthorizeReply
  'renew-registration': RenewRegistrationReply
  deregister: DeregisterReply
  ping: PingReply
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

export type ProtocolErrorCode =
  | 'token-invalid' | 'token-expired' | 'token-used-up'
  | 'already-registered'
  | 'unknown-instance' | 'signature-required' | 'bad-signature' | 'stale-request' | 'replayed'
  | 'bad-request' | 'unknown-method' | 'too-large' | 'not-found' | 'method-not-allowed'
  | 'busy' | 'internal'

/** The body of every error reply. */
export interface ProtocolErrorBody {
  error: {code: ProtocolErrorCode; message: string}
}

export const HTTP_STATUS_OF: Record<ProtocolErrorCode, number> = {
  'token-invalid': 403,
  'token-expired': 403,
  'token-used-up': 403,
  'already-registered': 409,
  'unknown-instance': 401,
  'signature-required': 401,
  'bad-signature': 401,
  'stale-request': 401,
  replayed: 401,
  'bad-request': 400,
  'unknown-method': 400,
  'too-large': 413,
  'not-found': 404,
  'method-not-allowed': 405,
  busy: 503,
  internal: 500,
}

function xwayCodeOf(code: ProtocolErrorCode): ErrorCode {
  if (code === 'token-invalid' || code === 'token-expired' || code === 'token-used-up' || code === 'bad-request' || code === 'too-large') return 'bad-input'
  if (code === 'internal' || code === 'busy') return 'failed'
  return 'refused'
}

/**
 * An error the license server answered with (server side: thrown by handlers and turned
 * into the reply; client side: rebuilt from the reply). `serverCode` is the protocol code.
 */
export class LicenseServerError extends XwayError {
  readonly serverCode: ProtocolErrorCode
  readonly httpStatus: number
  constructor(serverCode: ProtocolErrorCode, message: string, options: {httpStatus?: number; actions?: string[]} = {}) {
    super(xwayCodeOf(serverCode), message, {actions: options.actions})
    this.serverCode = serverCode
    this.httpStatus = options.httpStatus ?? HTTP_STATUS_OF[serverCode] ?? 500
  }

  toBody(): ProtocolErrorBody {
    return {error: {code: this.serverCode, message: this.message}}
  }
}

export function isTokenError(err: unknown): boolean {
  return err instanceof LicenseServerError && err.serverCode.startsWith('token-')
}

// ---------------------------------------------------------------------------
// Signed requests
// ---------------------------------------------------------------------------

/**
 * Every request but `register` is signed by the instance key; `register` is signed by the
 * key it registers (proof of possession). Headers carry the UDI, the signing time (the real
 * clock, like TLS: XWAY_NOW moves the unit's timers, not the transport's freshness window),
 * a nonce, and the signature (base64) over signingInput().
 */
export const SIGNATURE_HEADERS = {
  udi: 'x-smart-udi',
  timestamp: 'x-smart-timestamp',
  nonce: 'x-smart-nonce',
  signature: 'x-smart-signature',
} as const

/** A signed request is accepted within this distance of the server's real clock. */
export const REQUEST_FRESHNESS_MS = 5 * 60 * 1000

export const NONCE_RE = /^[A-Za-z0-9_-]{16,64}$/

export function signingInput(method: string, udi: string, timestamp: string, nonce: string, body: string | Buffer): Buffer {
  const digest = createHash('sha256').update(body).digest('hex')
  return Buffer.from(`XWAY-SMART-TRANSPORT-${PROTOCOL_VERSION}\n${method}\n${udi}\n${timestamp}\n${nonce}\n${digest}`, 'utf8')
}

/** The algorithm follows the key: RSA PKCS#1 v1.5 or ECDSA, with SHA-256. */
export function signRequest(
  method: string, body: string, signer: {udi: string; key: KeyObject},
  options: {timestamp?: string; nonce?: string} = {},
): Record<string, string> {
  const timestamp = options.timestamp ?? new Date().toISOString()
  const nonce = options.nonce ?? randomBytes(18).toString('base64url')
  const signature = rsaSign('sha256', signingInput(method, signer.udi, timestamp, nonce, body), signer.key).toString('base64')
  return {
    [SIGNATURE_HEADERS.udi]: signer.udi,
    [SIGNATURE_HEADERS.timestamp]: timestamp,
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.signature]: signature,
  }
}

/** The body of a request, as sent: `{"method": …, "params": …}`. */
export function encodeRequest(request: AgentRequest): string {
  return JSON.stringify({method: request.method, params: request.params ?? {}})
}
