import {XwayError, type ErrorCode} from '../errors.js'
import type {LicenseCounts, LicenseType} from './license-types.js'

// The Smart Transport protocol between the agent (a unit) and the lab license server: the
// wire types and errors. JSON over HTTPS with mutual TLS, one endpoint (POST /SmartTransport).
// docs/licensing-protocol.md describes it for people; this file is the contract for code on
// both sides. Neighbours: codes.ts (UDI and reservation codes), authorization-code.ts
// (reservation authorization codes), transport-security.ts (TLS policy, identity certificate).

export const TRANSPORT_PATH = '/SmartTransport'
/** 2: agents authenticate with their identity certificate (mutual TLS) instead of signed headers. */
export const PROTOCOL_VERSION = 2
/** Request bodies above this are refused (413) before they are parsed. */
export const MAX_REQUEST_BYTES = 64 * 1024
/** Replies above this are refused by the client. */
export const MAX_REPLY_BYTES = 1024 * 1024

export type ExportControlled = 'Allowed' | 'Not Allowed'

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
  /** SPKI PEM of the instance key (the agent's own key pair); the identity certificate is issued for it */
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
  /** PEM, issued by the lab CA, CN = UDI, for the instance key: the agent's TLS client certificate from now on */
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

/**
 * The grant of one license type in one report. `status`: `authorized` (the pool covers what
 * was asked), `out-of-compliance` (it cannot; `shortage` is what it lacked), or
 * `no-licenses-in-use` (nothing asked of this type).
 */
export interface LicenseGrant {
  type: LicenseType
  requested: number
  /** what the instance holds of this type after the report */
  granted: number
  shortage: number
  status: AuthorizationResult
}

export interface AuthorizeReply {
  /** out-of-compliance when any type is; else authorized, or no-licenses-in-use when nothing is asked */
  status: AuthorizationResult
  /** per type, each granted or short on its own */
  licenses: LicenseGrant[]
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
  | 'unauthenticated' | 'unknown-instance'
  | 'bad-request' | 'unknown-method' | 'too-large' | 'not-found' | 'method-not-allowed'
  | 'busy' | 'unavailable' | 'internal'

/** The body of every error reply. */
export interface ProtocolErrorBody {
  error: {code: ProtocolErrorCode; message: string}
}

export const HTTP_STATUS_OF: Record<ProtocolErrorCode, number> = {
  'token-invalid': 403,
  'token-expired': 403,
  'token-used-up': 403,
  'already-registered': 409,
  unauthenticated: 401,
  'unknown-instance': 401,
  'bad-request': 400,
  'unknown-method': 400,
  'too-large': 413,
  'not-found': 404,
  'method-not-allowed': 405,
  busy: 503,
  unavailable: 503,
  internal: 500,
}

function xwayCodeOf(code: ProtocolErrorCode): ErrorCode {
  if (code === 'token-invalid' || code === 'token-expired' || code === 'token-used-up' || code === 'bad-request' || code === 'too-large') return 'bad-input'
  if (code === 'internal' || code === 'busy' || code === 'unavailable') return 'failed'
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

/** The body of a request, as sent: `{"method": …, "params": …}`. */
export function encodeRequest(request: AgentRequest): string {
  return JSON.stringify({method: request.method, params: request.params ?? {}})
}
