import {createPublicKey, randomBytes, verify, type KeyObject} from 'node:crypto'
import type {IncomingHttpHeaders} from 'node:http'
import {isIP} from 'node:net'
import {now} from '../clock.js'
import {issueCertificate} from '../crypto/x509.js'
import {
  LICENSE_TYPES, LicenseServerError, NONCE_RE, REQUEST_FRESHNESS_MS, SIGNATURE_HEADERS,
  formatUdi, isUdi, signingInput,
  type AgentMethod, type AuthorizeReply, type DeregisterReply, type LicenseCounts, type PingReply, type ProductInfo,
  type RegisterReply, type RenewRegistrationReply,
} from '../licensing/protocol.js'
import {IDENTITY_CERT_DAYS, certificateStart, tokenHash, type ServerFiles} from './admin.js'
import type {LicenseStore} from './store.js'

// The agent-facing operations: a parsed request in, a reply object out, or a
// LicenseServerError the HTTP layer turns into {error:{code,message}} with its status.

export interface ServerContext {
  store: LicenseStore
  files: ServerFiles
  /** parsed instance keys, by UDI, refreshed when the stored PEM changes */
  keys: Map<string, {pem: string; key: KeyObject}>
}

interface Authenticated {udi: string; nonce: string; nonceExpires: number}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function badRequest(message: string): LicenseServerError {
  return new LicenseServerError('bad-request', message)
}

function parsePublicKey(pem: unknown): KeyObject {
  if (typeof pem !== 'string' || pem.length > 8192) throw badRequest('params.publicKey must be a PEM public key.')
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch {
    throw badRequest('params.publicKey is not a PEM public key.')
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (key.asymmetricKeyType !== 'rsa' || bits < 2048 || bits > 8192) {
    throw badRequest('params.publicKey must be an RSA key of 2048 to 8192 bits (the identity certificate is issued for it).')
  }
  return key
}

/**
 * Checks a signed request: fresh timestamp (real clock), well-formed nonce, signature over
 * method + UDI + timestamp + nonce + SHA-256 of the body by the instance's key (for
 * `register`, by the key being registered). The nonce is recorded later, inside the
 * operation's transaction, which refuses it if it was seen before.
 */
function authenticate(ctx: ServerContext, method: AgentMethod, headers: IncomingHttpHeaders, raw: Buffer, registerKey?: {pem: string; key: KeyObject}): Authenticated {
  const udi = header(headers, SIGNATURE_HEADERS.udi)
  const timestamp = header(headers, SIGNATURE_HEADERS.timestamp)
  const nonce = header(headers, SIGNATURE_HEADERS.nonce)
  const signature = header(headers, SIGNATURE_HEADERS.signature)
  if (!udi || !timestamp || !nonce || !signature) {
    throw new LicenseServerError('signature-required', `The ${method} request must be signed by the product instance key (headers ${Object.values(SIGNATURE_HEADERS).join(', ')}).`)
  }
  if (!isUdi(udi)) throw badRequest(`${SIGNATURE_HEADERS.udi} is not a UDI (PID:<pid>,SN:<serial>).`)
  if (!NONCE_RE.test(nonce)) throw badRequest(`${SIGNATURE_HEADERS.nonce} must be 16 to 64 base64url characters.`)
  const at = Date.parse(timestamp)
  const realNow = Date.now()
  if (Number.isNaN(at) || Math.abs(realNow - at) > REQUEST_FRESHNESS_MS) {
    throw new LicenseServerError('stale-request', `The request's signing time ${timestamp} is not within ${REQUEST_FRESHNESS_MS / 60000} minutes of the server's clock.`)
  }
  let key: KeyObject
  if (registerKey) {
    key = registerKey.key
  } else {
    const identity = ctx.store.identity(udi)
    if (!identity) {
      throw new LicenseServerError('unknown-instance', `The product instance ${udi} is not registered on this license server (it was deregistered or removed).`)
    }
    let cached = ctx.keys.get(udi)
    if (!cached || cached.pem !== identity.publicKey) {
      cached = {pem: identity.publicKey, key: createPublicKey(identity.publicKey)}
      ctx.keys.set(udi, cached)
    }
    key = cached.key
  }
  let good = false
  try {
    good = verify('sha256', signingInput(method, udi, timestamp, nonce, raw), key, Buffer.from(signature, 'base64'))
  } catch {
    good = false
  }
  if (!good) throw new LicenseServerError('bad-signature', 'The request signature does not verify with the product instance key.')
  return {udi, nonce, nonceExpires: at + REQUEST_FRESHNESS_MS}
}

function optionalText(value: unknown, field: string, max: number): string | null {
  if (value === null || value === undefined) return null
  if (typeof value !== 'string' || value.length === 0 || value.length > max || /[\0-\x1f]/.test(value)) {
    throw badRequest(`params.${field} must be null or a string of 1 to ${max} printable characters.`)
  }
  return value
}

function hostAndIp(params: Record<string, unknown>): {hostname: string | null; ip: string | null} {
  const hostname = optionalText(params.hostname, 'hostname', 253)
  const ip = optionalText(params.ip, 'ip', 45)
  if (ip !== null && isIP(ip) === 0) throw badRequest('params.ip must be null or an IPv4/IPv6 address.')
  return {hostname, ip}
}

function product(value: unknown): ProductInfo {
  if (typeof value !== 'object' || value === null) throw badRequest('params.product must be an object with pid and serial.')
  const p = value as Record<string, unknown>
  const out: ProductInfo = {pid: String(p.pid ?? ''), serial: String(p.serial ?? '')}
  for (const key of ['brand', 'type', 'edition', 'softwareVersion'] as const) {
    const text = optionalText(p[key], `product.${key}`, 100)
    if (text !== null) out[key] = text
  }
  return out
}

function usageCounts(value: unknown): LicenseCounts {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest('params.usage must be an object of counts per type (rms, room, desktop).')
  const usage = value as Record<string, unknown>
  const counts: LicenseCounts = {rms: 0, room: 0, desktop: 0}
  for (const [key, count] of Object.entries(usage)) {
    if (!(LICENSE_TYPES as readonly string[]).includes(key)) throw badRequest(`params.usage.${key}: unknown license type (rms, room, desktop).`)
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > 1_000_000) {
      throw badRequest(`params.usage.${key} must be a whole number from 0 to 1000000.`)
    }
    counts[key as keyof LicenseCounts] = count
  }
  return counts
}

function identityCertificate(ctx: ServerContext, udi: string, organization: string, key: KeyObject): {pem: string; serial: string} {
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x40
  const pem = issueCertificate({
    subject: {commonName: udi, organization: organization.slice(0, 64)},
    subjectKey: key,
    issuer: {certPem: ctx.files.caPem, key: ctx.files.caKey},
    notBefore: certificateStart(),
    days: IDENTITY_CERT_DAYS,
    serial,
    extKeyUsage: ['clientAuth'],
  })
  return {pem, serial: serial.toString('hex').toUpperCase()}
}

export function handle(ctx: ServerContext, method: string, params: Record<string, unknown>, headers: IncomingHttpHeaders, raw: Buffer): unknown {
  switch (method) {
    case 'register': return register(ctx, params, headers, raw)
    case 'authorize': return authorize(ctx, params, headers, raw)
    case 'renew-registration': return renewRegistration(ctx, params, headers, raw)
    case 'deregister': return deregister(ctx, headers, raw)
    case 'ping': return ping(ctx, headers, raw)
    default:
      throw new LicenseServerError('unknown-method', `Unknown method ${JSON.stringify(String(method).slice(0, 40))}: this server speaks register, authorize, renew-registration, deregister and ping.`)
  }
}

function register(ctx: ServerContext, params: Record<string, unknown>, headers: IncomingHttpHeaders, raw: Buffer): RegisterReply {
  const token = params.token
  if (typeof token !== 'string' || token.length === 0 || token.length > 1024) throw badRequest('params.token must be the registration token.')
  const udi = params.udi
  if (!isUdi(udi)) throw badRequest('params.udi must be a UDI (PID:<pid>,SN:<serial>).')
  const info = product(params.product)
  if (formatUdi(info.pid, info.serial) !== udi) throw badRequest('params.udi does not match params.product pid and serial.')
  const {hostname, ip} = hostAndIp(params)
  if (params.force !== undefined && typeof params.force !== 'boolean') throw badRequest('params.force must be true or false.')
  const publicKeyText = params.publicKey as string
  const key = parsePublicKey(publicKeyText)
  const auth = authenticate(ctx, 'register', headers, raw, {pem: publicKeyText, key})
  if (auth.udi !== udi) throw badRequest(`${SIGNATURE_HEADERS.udi} and params.udi differ.`)
  const at = now()
  const hash = tokenHash(token)
  // a bad token costs no certificate; the transaction checks it again
  const pre = ctx.store.checkToken(hash, at)
  const cert = identityCertificate(ctx, udi, pre.smartAccount, key)
  const record = ctx.store.register({
    tokenHash: hash, udi, publicKey: publicKeyText, certSerial: cert.serial, product: info, hostname, ip,
    force: params.force === true, nonce: auth.nonce, nonceExpires: auth.nonceExpires, at,
  })
  ctx.keys.set(udi, {pem: publicKeyText, key})
  return {
    status: 'registered', udi, smartAccount: record.smartAccount, virtualAccount: record.virtualAccount,
    exportControlled: record.exportControlled, identityCertificate: cert.pem, identityCertificateSerial: cert.serial,
    reregistered: record.reregistered, serverTime: at.toISOString(),
  }
}

function authorize(ctx: ServerContext, params: Record<string, unknown>, headers: IncomingHttpHeaders, raw: Buffer): AuthorizeReply {
  const usage = usageCounts(params.usage)
  const auth = authenticate(ctx, 'authorize', headers, raw)
  const at = now()
  const result = ctx.store.authorize(auth.udi, usage, auth.nonce, auth.nonceExpires, at)
  return {...result, serverTime: at.toISOString()}
}

function renewRegistration(ctx: ServerContext, params: Record<string, unknown>, headers: IncomingHttpHeaders, raw: Buffer): RenewRegistrationReply {
  const {hostname, ip} = hostAndIp(params)
  const auth = authenticate(ctx, 'renew-registration', headers, raw)
  const at = now()
  const identity = ctx.store.identity(auth.udi)!
  const key = ctx.keys.get(auth.udi)!.key
  const cert = identityCertificate(ctx, auth.udi, identity.smartAccount, key)
  const renewed = ctx.store.renewRegistration(auth.udi, hostname, ip, cert.serial, auth.nonce, auth.nonceExpires, at)
  return {
    status: 'registered', udi: auth.udi, smartAccount: renewed.smartAccount, virtualAccount: renewed.va,
    exportControlled: renewed.exportControlled, identityCertificate: cert.pem, identityCertificateSerial: cert.serial,
    serverTime: at.toISOString(),
  }
}

function deregister(ctx: ServerContext, headers: IncomingHttpHeaders, raw: Buffer): DeregisterReply {
  const auth = authenticate(ctx, 'deregister', headers, raw)
  const at = now()
  const released = ctx.store.deregister(auth.udi, auth.nonce, auth.nonceExpires, at)
  ctx.keys.delete(auth.udi)
  return {status: 'deregistered', udi: auth.udi, released, serverTime: at.toISOString()}
}

function ping(ctx: ServerContext, headers: IncomingHttpHeaders, raw: Buffer): PingReply {
  const auth = authenticate(ctx, 'ping', headers, raw)
  const at = now()
  const identity = ctx.store.ping(auth.udi, auth.nonce, auth.nonceExpires, at)
  return {status: 'ok', udi: auth.udi, virtualAccount: identity.va, serverTime: at.toISOString()}
}
