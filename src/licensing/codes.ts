import {createHash, randomBytes} from 'node:crypto'
import {BadInputError} from '../errors.js'

// The names a product instance goes by and the codes copied by hand between a unit and the
// license server: the UDI, the piid derived from it, and the reservation request,
// confirmation and return codes (docs/licensing-protocol.md, "Reservation codes").

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
