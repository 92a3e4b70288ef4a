import {
  checkPrimeSync, createECDH, createPrivateKey, createPublicKey, generateKeyPairSync,
  type JsonWebKey, type KeyObject,
} from 'node:crypto'
import {BadInputError} from '../errors.js'
import type {RandomSource} from './random.js'

// Keys come from node:crypto only (SPEC 8: no key generation in pure JavaScript). With a
// RandomSource (image create --seed) the key is a function of the stream: node:crypto has no
// seeded generator, so the secret material is drawn from the stream here and node:crypto
// imports it and derives the rest.

export type EcCurve = 'P-256' | 'P-384'

const RSA_E = 65537n
const RSA_MIN_BITS = 1024
const RSA_MAX_BITS = 16384

/**
 * An RSA private key with e = 65537. Seeded: p and q are drawn from the stream (top two
 * bits set, so n has exactly `bits` bits), sieved by the odd primes below 2^16, and tested
 * with crypto.checkPrimeSync (OpenSSL Miller-Rabin); d, dp, dq and qi are computed with
 * BigInt and the key is imported as a JWK, which OpenSSL checks for consistency.
 */
export function generateRsaKey(bits: number, random?: RandomSource): KeyObject {
  if (!Number.isInteger(bits) || bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw new BadInputError(`An RSA key of ${bits} bits cannot be generated: use ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits (3072 for ssh host keys, 2048 for server keys).`)
  }
  if (random === undefined) {
    return generateKeyPairSync('rsa', {modulusLength: bits, publicExponent: Number(RSA_E)}).privateKey
  }
  const pBits = Math.ceil(bits / 2)
  const qBits = bits - pBits
  let p = 0n
  let q = 0n
  let n = 0n
  // FIPS 186-5 A.1.3: |p - q| > 2^(nlen/2 - 100), and d > 2^(nlen/2); redraw otherwise.
  const minDistance = 1n << BigInt(Math.max(0, Math.floor(bits / 2) - 100))
  let d = 0n
  for (;;) {
    p = randomPrime(pBits, random)
    q = randomPrime(qBits, random)
    if (absDiff(p, q) <= minDistance) continue
    if (p < q) [p, q] = [q, p]
    n = p * q
    const lambda = lcm(p - 1n, q - 1n)
    d = modInverse(RSA_E, lambda)
    if (d > 1n << BigInt(Math.floor(bits / 2)) && bitLength(n) === bits) break
  }
  const jwk: JsonWebKey = {
    kty: 'RSA',
    n: b64u(n), e: b64u(RSA_E), d: b64u(d),
    p: b64u(p), q: b64u(q),
    dp: b64u(d % (p - 1n)), dq: b64u(d % (q - 1n)), qi: b64u(modInverse(q, p)),
  }
  return createPrivateKey({key: jwk, format: 'jwk'})
}

const CURVES: Record<EcCurve, {ecdh: string; order: bigint; bytes: number}> = {
  'P-256': {
    ecdh: 'prime256v1',
    order: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n,
    bytes: 32,
  },
  'P-384': {
    ecdh: 'secp384r1',
    order: 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973n,
    bytes: 48,
  },
}

/**
 * An ECDSA private key. Seeded: the scalar is 64 bits more than the order's size drawn from
 * the stream, reduced into [1, n-1] (FIPS 186-5 A.2.1, negligible bias); ECDH derives the
 * public point and the key is imported as a JWK.
 */
export function generateEcdsaKey(curve: EcCurve, random?: RandomSource): KeyObject {
  const spec = CURVES[curve]
  if (spec === undefined) throw new BadInputError(`ECDSA curve ${String(curve)} is not supported: use P-256 or P-384.`)
  if (random === undefined) return generateKeyPairSync('ec', {namedCurve: curve}).privateKey
  const scalar = (toBigInt(random.bytes(spec.bytes + 8)) % (spec.order - 1n)) + 1n
  const d = toFixedBytes(scalar, spec.bytes)
  const ecdh = createECDH(spec.ecdh)
  ecdh.setPrivateKey(d)
  const point = ecdh.getPublicKey() // 04 || x || y
  const jwk: JsonWebKey = {
    kty: 'EC', crv: curve,
    x: point.subarray(1, 1 + spec.bytes).toString('base64url'),
    y: point.subarray(1 + spec.bytes).toString('base64url'),
    d: d.toString('base64url'),
  }
  return createPrivateKey({key: jwk, format: 'jwk'})
}

// PKCS#8 PrivateKeyInfo for Ed25519 (RFC 8410) up to the 32-byte seed.
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/** An Ed25519 private key. Seeded: its 32-byte seed is the next 32 bytes of the stream. */
export function generateEd25519Key(random?: RandomSource): KeyObject {
  if (random === undefined) return generateKeyPairSync('ed25519').privateKey
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, random.bytes(32)])
  return createPrivateKey({key: der, format: 'der', type: 'pkcs8'})
}

/** PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), unencrypted: unit files are 0600. */
export function privateKeyPem(key: KeyObject): string {
  if (key.type !== 'private') throw new BadInputError('A private key is needed here, and this is a public key.')
  return key.export({type: 'pkcs8', format: 'pem'}) as string
}

/** SPKI PEM ("-----BEGIN PUBLIC KEY-----") of a public key or of a private key's public half. */
export function publicKeyPem(key: KeyObject): string {
  return publicKeyOf(key).export({type: 'spki', format: 'pem'}) as string
}

export function publicKeyOf(key: KeyObject): KeyObject {
  if (key.type === 'public') return key
  if (key.type === 'private') return createPublicKey(key)
  throw new BadInputError('A symmetric key is not a public or private key.')
}

const EC_CURVE_BITS: Record<string, number> = {prime256v1: 256, secp384r1: 384, secp521r1: 521}

/** What the key is, in the terms of CryptoPolicy. */
export function keyDescription(key: KeyObject): {type: 'rsa' | 'ecdsa' | 'ed25519'; bits: number} {
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength
      if (bits === undefined) break
      return {type: 'rsa', bits}
    }
    case 'ec': {
      const bits = EC_CURVE_BITS[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (bits === undefined) break
      return {type: 'ecdsa', bits}
    }
    case 'ed25519':
      return {type: 'ed25519', bits: 256}
    default:
  }
  throw new BadInputError(`Unsupported key type ${key.asymmetricKeyType ?? key.type}: xway handles RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys.`)
}

// ---- RSA prime search ----

// computed on the first seeded RSA key, not at import: every command imports this module
let smallPrimes: number[] | undefined
const SMALL_PRIMES = (): number[] => (smallPrimes ??= oddPrimesBelow(1 << 16))
const SIEVE_WINDOW = 4096 // odd candidates per draw; ~8 primes expected at 1536 bits

function oddPrimesBelow(limit: number): number[] {
  const composite = new Uint8Array(limit)
  const primes: number[] = []
  for (let i = 3; i < limit; i += 2) {
    if (composite[i]) continue
    primes.push(i)
    for (let j = i * i; j < limit; j += 2 * i) composite[j] = 1
  }
  return primes
}

/**
 * Miller-Rabin rounds for a random candidate. FIPS 186-5 table B.1 asks for 4-5 rounds at
 * these sizes (error < 2^-100 for random candidates); 8 is a margin that costs nothing
 * measurable, since a composite almost always fails the first round.
 */
const PRIME_CHECKS = 8

function randomPrime(bits: number, random: RandomSource): bigint {
  const byteLength = Math.ceil(bits / 8)
  const excess = BigInt(byteLength * 8 - bits)
  const top = 1n << BigInt(bits)
  const topTwo = 3n << BigInt(bits - 2)
  for (;;) {
    let base = toBigInt(random.bytes(byteLength)) >> excess
    base |= topTwo | 1n
    // sieve[k] = 1 when base + 2k has a small factor or when (base + 2k - 1) % e == 0,
    // i.e. gcd(e, p - 1) != 1.
    const sieve = new Uint8Array(SIEVE_WINDOW)
    for (const prime of SMALL_PRIMES()) {
      const r = Number(base % BigInt(prime))
      // base + 2k ≡ 0 (mod prime)  <=>  k ≡ -r * inv2 (mod prime), inv2 = (prime + 1) / 2
      let k = ((prime - r) * ((prime + 1) / 2)) % prime
      for (; k < SIEVE_WINDOW; k += prime) sieve[k] = 1
    }
    const e = Number(RSA_E)
    const re = Number(base % RSA_E)
    // base + 2k ≡ 1 (mod e)  <=>  k ≡ (1 - re) * inv2 (mod e)
    for (let k = (((1 - re + e) % e) * ((e + 1) / 2)) % e; k < SIEVE_WINDOW; k += e) sieve[k] = 1
    for (let k = 0; k < SIEVE_WINDOW; k++) {
      if (sieve[k]) continue
      const candidate = base + 2n * BigInt(k)
      if (candidate >= top) break
      if (checkPrimeSync(candidate, {checks: PRIME_CHECKS})) return candidate
    }
  }
}

// ---- BigInt helpers ----

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytes.toString('hex'))
}

function toFixedBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex')
}

function bigIntToBytes(value: bigint): Buffer {
  let hex = value.toString(16)
  if (hex.length % 2) hex = '0' + hex
  return Buffer.from(hex, 'hex')
}

function b64u(value: bigint): string {
  return bigIntToBytes(value).toString('base64url')
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length
}

function absDiff(a: bigint, b: bigint): bigint {
  return a > b ? a - b : b - a
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b]
  return a
}

function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m]
  let [oldS, s] = [1n, 0n]
  while (r !== 0n) {
    const quotient = oldR / r
    ;[oldR, r] = [r, oldR - quotient * r]
    ;[oldS, s] = [s, oldS - quotient * s]
  }
  if (oldR !== 1n) throw new RangeError('not invertible')
  return ((oldS % m) + m) % m
}
