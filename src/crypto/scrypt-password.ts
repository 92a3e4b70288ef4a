import {randomBytes, scrypt, timingSafeEqual} from 'node:crypto'

// Password hashes of the license server's portal users: scrypt (node:crypto), a random salt
// per user, the parameters kept with the hash so that they can grow later. Asynchronous: a
// login never blocks the server's event loop while the key is derived.

const N = 1 << 15
const R = 8
const P = 1
const KEY_BYTES = 32
const MAX_MEM = 128 * 1024 * 1024

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, {N: n, r, p, maxmem: MAX_MEM}, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** `scrypt$N$r$p$salt$key` (salt and key in base64url). */
export async function hashPortalPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await derive(password, salt, N, R, P)
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$')
}

/** Constant-time check of a password against a hash of hashPortalPassword; false for anything malformed. */
export async function verifyPortalPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  if (![n, r, p].every((v) => Number.isSafeInteger(v) && v > 0) || n > 1 << 20 || r > 32 || p > 16) return false
  const salt = Buffer.from(parts[4]!, 'base64url')
  const expected = Buffer.from(parts[5]!, 'base64url')
  if (expected.length !== KEY_BYTES) return false
  const key = await derive(password, salt, n, r, p)
  return timingSafeEqual(key, expected)
}
