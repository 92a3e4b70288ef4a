import {randomBytes} from 'node:crypto'
import {isIP} from 'node:net'
import type {TLSSocket} from 'node:tls'
import {now} from '../clock.js'
import {formatUdi, isUdi} from '../licensing/codes.js'
import {isLicenseType, zeroCounts, type LicenseCounts} from '../licensing/license-types.js'
import {
  LicenseServerError,
  type AuthorizeReply, type DeregisterReply, type PingReply, type ProductInfo, type RegisterReply, type RenewRegistrationReply,
} from '../licensing/protocol.js'
import {rsaPublicKeyFromPem, type RsaPublicKey} from '../crypto/rsa-public-key.js'
import {identityOfCertificate} from '../licensing/transport-security.js'
import {IDENTITY_CERT_DAYS, certificateStart, tokenHash} from './admin.js'
import {issueIdentityCertificate, MAX_NAME_LENGTH, type IdentityIssuer} from './identity-certificate.js'
import {unknownInstance, type LicenseStore, type Requester} from './store.js'

// The agent-facing operations: a parsed request in, a reply object out, or a
// LicenseServerError the HTTP layer turns into {error:{code,message}} with its status.
// `register` is authorized by its token; every other request by the TLS client certificate
// the server issued at registration (mutual TLS, docs/licensing-protocol.md).

export interface ServerContext {
  store: LicenseStore
  /** the lab CA, ready to issue identity certificates */
  issuer: IdentityIssuer
}

function badRequest(message: string): LicenseServerError {
  return new LicenseServerError('bad-request', message)
}

function parsePublicKey(pem: unknown): RsaPublicKey {
  if (typeof pem !== 'string' || pem.length > 8192) throw badRequest('params.publicKey must be a PEM public key.')
  let key: RsaPublicKey
  try {
    key = rsaPublicKeyFromPem(pem)
  } catch (err) {
    if (/not a PEM public key/.test((err as Error).message)) throw badRequest('params.publicKey is not a PEM public key.')
    throw badRequest('params.publicKey must be an RSA key of 2048 to 8192 bits (the identity certificate is issued for it).')
  }
  if (key.bits < 2048 || key.bits > 8192) {
    throw badRequest('params.publicKey must be an RSA key of 2048 to 8192 bits (the identity certificate is issued for it).')
  }
  return key
}

/** The one answer to a request without a valid identity certificate, whoever it claims to be. */
export const UNAUTHENTICATED_MESSAGE = 'This request needs the identity certificate this license server issued at registration, as TLS client certificate.'

function unauthenticated(): LicenseServerError {
  return new LicenseServerError('unauthenticated', UNAUTHENTICATED_MESSAGE, {
    actions: ['Register the product instance with a registration token first.'],
  })
}

const requesters = new WeakMap<TLSSocket, Requester | null>()

/**
 * The product instance the connection's client certificate speaks for. TLS has checked that
 * the certificate chains to the lab CA and that the client holds its key; here its purpose
 * (client authentication) and its name (a UDI). Anything short of that gets the same answer,
 * before any registration is looked at, so that no one learns which UDIs are registered.
 */
export function requesterOf(socket: TLSSocket): Requester {
  let who = requesters.get(socket)
  if (who === undefined) {
    who = null
    if (socket.authorized) {
      const cert = socket.getPeerCertificate()
      if (cert?.raw) who = identityOfCertificate(cert.raw)
    }
    requesters.set(socket, who)
  }
  if (who === null) throw unauthenticated()
  return who
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
  const counts = zeroCounts()
  for (const [key, count] of Object.entries(usage)) {
    if (!isLicenseType(key)) throw badRequest(`params.usage.${key}: unknown license type (rms, room, desktop).`)
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0 || count > 1_000_000) {
      throw badRequest(`params.usage.${key} must be a whole number from 0 to 1000000.`)
    }
    counts[key] = count
  }
  return counts
}

function newSerial(): Buffer {
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x40
  return serial
}

const serialText = (serial: Buffer): string => serial.toString('hex').toUpperCase()

function identityCertificate(ctx: ServerContext, udi: string, organization: string, key: RsaPublicKey, serial = newSerial()): {pem: string; serial: string} {
  const pem = issueIdentityCertificate(ctx.issuer, {
    commonName: udi, organization: organization.slice(0, MAX_NAME_LENGTH), subjectKey: {spki: key.spki, keyId: key.keyId}, serial, notBefore: certificateStart(), days: IDENTITY_CERT_DAYS,
  })
  return {pem, serial: serialText(serial)}
}

export function handle(ctx: ServerContext, method: string, params: Record<string, unknown>, socket: TLSSocket): Promise<unknown> {
  switch (method) {
    case 'register': return register(ctx, params)
    case 'authorize': return authorize(ctx, params, requesterOf(socket))
    case 'renew-registration': return renewRegistration(ctx, params, requesterOf(socket))
    case 'deregister': return deregister(ctx, requesterOf(socket))
    case 'ping': return ping(ctx, requesterOf(socket))
    default:
      throw new LicenseServerError('unknown-method', `Unknown method ${JSON.stringify(String(method).slice(0, 40))}: this server speaks register, authorize, renew-registration, deregister and ping.`)
  }
}

async function register(ctx: ServerContext, params: Record<string, unknown>): Promise<RegisterReply> {
  const token = params.token
  if (typeof token !== 'string' || token.length === 0 || token.length > 1024) throw badRequest('params.token must be the registration token.')
  const udi = params.udi
  if (!isUdi(udi)) throw badRequest('params.udi must be a UDI (PID:<pid>,SN:<serial>).')
  if (udi.length > MAX_NAME_LENGTH) throw badRequest(`params.udi is longer than ${MAX_NAME_LENGTH} characters: it cannot name an identity certificate.`)
  const info = product(params.product)
  if (formatUdi(info.pid, info.serial) !== udi) throw badRequest('params.udi does not match params.product pid and serial.')
  const {hostname, ip} = hostAndIp(params)
  if (params.force !== undefined && typeof params.force !== 'boolean') throw badRequest('params.force must be true or false.')
  const key = parsePublicKey(params.publicKey)
  const at = now()
  // the certificate is made once the registration is stored (with its serial): a bad token
  // costs no certificate, and the smart account it names is the one the transaction read
  const serial = newSerial()
  const record = await ctx.store.register({
    tokenHash: tokenHash(token), udi, publicKey: key.pem, certSerial: serialText(serial), product: info, hostname, ip,
    force: params.force === true, at,
  })
  const cert = identityCertificate(ctx, udi, record.smartAccount, key, serial)
  return {
    status: 'registered', udi, smartAccount: record.smartAccount, virtualAccount: record.virtualAccount,
    exportControlled: record.exportControlled, identityCertificate: cert.pem, identityCertificateSerial: cert.serial,
    reregistered: record.reregistered, serverTime: at.toISOString(),
  }
}

async function authorize(ctx: ServerContext, params: Record<string, unknown>, who: Requester): Promise<AuthorizeReply> {
  const usage = usageCounts(params.usage)
  const at = now()
  const result = await ctx.store.authorize(who, usage, at)
  return {...result, serverTime: at.toISOString()}
}

async function renewRegistration(ctx: ServerContext, params: Record<string, unknown>, who: Requester): Promise<RenewRegistrationReply> {
  const {hostname, ip} = hostAndIp(params)
  const at = now()
  const identity = await ctx.store.identity(who.udi)
  if (!identity) throw unknownInstance(who.udi)
  // the new certificate is for the key that proved itself; the transaction checks it is still the registered one
  const cert = identityCertificate(ctx, who.udi, identity.smartAccount, rsaPublicKeyFromPem(who.publicKey))
  const renewed = await ctx.store.renewRegistration(who, hostname, ip, cert.serial, at)
  return {
    status: 'registered', udi: who.udi, smartAccount: renewed.smartAccount, virtualAccount: renewed.va,
    exportControlled: renewed.exportControlled, identityCertificate: cert.pem, identityCertificateSerial: cert.serial,
    serverTime: at.toISOString(),
  }
}

async function deregister(ctx: ServerContext, who: Requester): Promise<DeregisterReply> {
  const at = now()
  const released: LicenseCounts = await ctx.store.deregister(who, at)
  return {status: 'deregistered', udi: who.udi, released, serverTime: at.toISOString()}
}

async function ping(ctx: ServerContext, who: Requester): Promise<PingReply> {
  const at = now()
  const identity = await ctx.store.ping(who, at)
  return {status: 'ok', udi: who.udi, virtualAccount: identity.va, serverTime: at.toISOString()}
}
