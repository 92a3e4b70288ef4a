import {createHash, timingSafeEqual} from 'node:crypto'
import {BadInputError} from '../errors.js'
import {systemRandom, type RandomSource} from './random.js'

// SHA-512 crypt ("$6$"), Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" (2008), as
// glibc/libxcrypt implement it: the format of the appliance's /etc/shadow, and the password
// hash both policies name (SHA-512 is FIPS-approved).

const ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const PREFIX = '$6$'
const SALT_MAX = 16
export const SHA512_CRYPT_DEFAULT_ROUNDS = 5000
const ROUNDS_MIN = 1000
const ROUNDS_MAX = 999_999_999
/**
 * Hashes read from units and backups are input: a forged "rounds=999999999" would stall
 * verification for hours. Verifying refuses counts above this (~1 s of work).
 */
const VERIFY_ROUNDS_MAX = 500_000

const HASH_PATTERN = /^\$6\$(?:rounds=([1-9][0-9]{0,8})\$)?([./0-9A-Za-z]{1,16})\$([./0-9A-Za-z]{86})$/

export interface PasswordHashOptions {
  /** SHA-512 crypt rounds, 1000 to 999,999,999; default 5000 (written without "rounds="). */
  rounds?: number
}

/** "$6$<16-char salt>$<86 chars>", or "$6$rounds=N$<salt>$<86 chars>" when rounds are not the default. */
export function hashPassword(password: string, random: RandomSource = systemRandom(), options: PasswordHashOptions = {}): string {
  const rounds = options.rounds ?? SHA512_CRYPT_DEFAULT_ROUNDS
  if (!Number.isInteger(rounds) || rounds < ROUNDS_MIN || rounds > ROUNDS_MAX) {
    throw new BadInputError(`SHA-512 crypt rounds must be a whole number from ${ROUNDS_MIN} to ${ROUNDS_MAX}, not ${rounds}.`)
  }
  // 64 divides 256, so the low six bits of each byte pick a salt character without bias.
  const salt = [...random.bytes(SALT_MAX)].map((byte) => ALPHABET[byte & 63]).join('')
  const setting = rounds === SHA512_CRYPT_DEFAULT_ROUNDS ? `${PREFIX}${salt}` : `${PREFIX}rounds=${rounds}$${salt}`
  return sha512Crypt(password, setting)
}

/** Whether the password gives this hash; false for anything that is not a SHA-512 crypt hash. */
export function verifyPassword(password: string, hash: string): boolean {
  const match = HASH_PATTERN.exec(hash)
  if (!match) return false
  if (match[1] !== undefined) {
    const rounds = Number(match[1])
    if (rounds < ROUNDS_MIN || rounds > VERIFY_ROUNDS_MAX) return false
  }
  const expected = Buffer.from(hash, 'latin1')
  const actual = Buffer.from(sha512Crypt(password, hash), 'latin1')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A SHA-512 crypt hash as this module and glibc write them ("$6$[rounds=N$]salt$hash"). */
export function isPasswordHash(s: string): boolean {
  const match = HASH_PATTERN.exec(s)
  if (!match) return false
  return match[1] === undefined || Number(match[1]) >= ROUNDS_MIN
}

/**
 * crypt(3) with a "$6$" setting: "$6$salt", "$6$rounds=N$salt", or a whole hash (its salt
 * is reused). Salts longer than 16 characters are cut, rounds clamped to 1000..999,999,999,
 * as glibc does.
 */
export function sha512Crypt(password: string, setting: string): string {
  if (!setting.startsWith(PREFIX)) throw new BadInputError('A SHA-512 crypt setting starts with "$6$".')
  let rest = setting.slice(PREFIX.length)
  let rounds = SHA512_CRYPT_DEFAULT_ROUNDS
  let roundsCustom = false
  const roundsMatch = /^rounds=([0-9]+)\$/.exec(rest)
  if (roundsMatch) {
    rounds = Math.min(ROUNDS_MAX, Math.max(ROUNDS_MIN, Number(roundsMatch[1])))
    roundsCustom = true
    rest = rest.slice(roundsMatch[0].length)
  }
  const dollar = rest.indexOf('$')
  const saltText = (dollar < 0 ? rest : rest.slice(0, dollar)).slice(0, SALT_MAX)
  const key = Buffer.from(password, 'utf8')
  const salt = Buffer.from(saltText, 'utf8')
  const digest = sha512CryptDigest(key, salt, rounds)
  return `${PREFIX}${roundsCustom ? `rounds=${rounds}$` : ''}${saltText}$${encode(digest)}`
}

function sha512(...parts: Buffer[]): Buffer {
  const hash = createHash('sha512')
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/** `length` bytes of `block` repeated. */
function repeatTo(block: Buffer, length: number): Buffer {
  const out = Buffer.alloc(length)
  for (let i = 0; i < length; i += block.length) block.copy(out, i, 0, Math.min(block.length, length - i))
  return out
}

function sha512CryptDigest(key: Buffer, salt: Buffer, rounds: number): Buffer {
  // Steps numbered as in Drepper's specification.
  const b = sha512(key, salt, key) // 4-8
  const a = createHash('sha512').update(key).update(salt) // 1-3
  a.update(repeatTo(b, key.length)) // 9-10
  for (let n = key.length; n > 0; n >>= 1) a.update(n & 1 ? b : key) // 11
  const aDigest = a.digest() // 12

  const dp = createHash('sha512') // 13-15
  for (let i = 0; i < key.length; i++) dp.update(key)
  const p = repeatTo(dp.digest(), key.length) // 16

  const ds = createHash('sha512') // 17-19
  for (let i = 0; i < 16 + aDigest[0]; i++) ds.update(salt)
  const s = repeatTo(ds.digest(), salt.length) // 20

  let c = aDigest // 21
  for (let i = 0; i < rounds; i++) {
    const round = createHash('sha512')
    round.update(i & 1 ? p : c)
    if (i % 3 !== 0) round.update(s)
    if (i % 7 !== 0) round.update(p)
    round.update(i & 1 ? c : p)
    c = round.digest()
  }
  return c
}

// Step 22: the digest's bytes in this order, 3 at a time, each group as 4 characters
// (least significant six bits first); the last byte alone as 2 characters.
const ORDER = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48],
  [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10], [53, 11, 32], [12, 33, 54], [34, 55, 13],
  [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
]

function encode(digest: Buffer): string {
  let out = ''
  const put = (value: number, chars: number): void => {
    for (let i = 0; i < chars; i++, value >>= 6) out += ALPHABET[value & 63]
  }
  for (const [b2, b1, b0] of ORDER) put((digest[b2] << 16) | (digest[b1] << 8) | digest[b0], 4)
  put(digest[63], 2)
  return out
}
