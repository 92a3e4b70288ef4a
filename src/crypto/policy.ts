/**
 * The one place that picks algorithms (DESIGN: "Crypto has a policy object"). A unit uses
 * DEFAULT_POLICY, or FIPS_POLICY once it has entered FIPS 140 mode; nothing else in the
 * code chooses a key type, size, hash or cipher.
 */
export type SshKeyType = 'rsa' | 'ecdsa' | 'ed25519' | 'dsa'

export interface CryptoPolicy {
  name: 'default' | 'fips'
  /** The ssh host keys a unit has, in the order they are generated and listed. */
  sshHostKeys: Array<{type: SshKeyType; bits: number}>
  /** RSA modulus of the server (HTTPS) key. */
  serverKeyBits: number
  signatureHash: 'sha256'
  /** Bulk cipher of backups and of secrets stored under the bootstrap key. */
  cipher: 'aes-256-gcm'
  /** Password-based key derivation of backups. */
  kdf: {name: 'pbkdf2'; hash: 'sha256'; iterations: number}
  passwordHash: 'sha512-crypt'
  allowsSshKey(key: {type: SshKeyType; bits: number}): boolean
  allowsServerKey(key: {bits: number; signatureHash: string}): boolean
}

/**
 * PBKDF2-HMAC-SHA256 iterations. 600,000 is OWASP's Password Storage Cheat Sheet figure
 * for PBKDF2-HMAC-SHA256 (2023). Measured ~90 ms per derivation with node:crypto on a
 * 2-core machine, so `backup create` + `backup restore` stays well under SPEC 8's second.
 * NIST SP 800-132 asks for at least 1,000 and "as large as feasible", so FIPS mode uses the
 * same count. A backup records the count it was made with; restore reads it from there, so
 * changing this constant never strands old backups.
 */
export const PBKDF2_ITERATIONS = 600_000

const SHA2_AT_LEAST_256 = new Set(['sha256', 'sha384', 'sha512'])

export const DEFAULT_POLICY: CryptoPolicy = Object.freeze({
  name: 'default' as const,
  sshHostKeys: Object.freeze([
    {type: 'rsa' as const, bits: 3072},
    {type: 'ecdsa' as const, bits: 256},
    {type: 'ed25519' as const, bits: 256},
  ]) as CryptoPolicy['sshHostKeys'],
  serverKeyBits: 2048,
  signatureHash: 'sha256' as const,
  cipher: 'aes-256-gcm' as const,
  kdf: Object.freeze({name: 'pbkdf2' as const, hash: 'sha256' as const, iterations: PBKDF2_ITERATIONS}),
  passwordHash: 'sha512-crypt' as const,
  // What OpenSSH itself still accepts: no DSA (removed from OpenSSH 9.8), RSA of 2048 bits and up.
  allowsSshKey(key: {type: SshKeyType; bits: number}): boolean {
    switch (key.type) {
      case 'rsa': return key.bits >= 2048
      case 'ecdsa': return key.bits === 256 || key.bits === 384 || key.bits === 521
      case 'ed25519': return key.bits === 256
      default: return false
    }
  },
  allowsServerKey(key: {bits: number; signatureHash: string}): boolean {
    return key.bits >= 2048 && SHA2_AT_LEAST_256.has(key.signatureHash.toLowerCase())
  },
})

// SPEC 4 "FIPS": ssh host keys RSA >= 3072 and ECDSA P-256/P-384 only, no ed25519/DSA;
// server key RSA >= 2048 with SHA-256 (or stronger) signatures.
export const FIPS_POLICY: CryptoPolicy = Object.freeze({
  name: 'fips' as const,
  sshHostKeys: Object.freeze([
    {type: 'rsa' as const, bits: 3072},
    {type: 'ecdsa' as const, bits: 256},
  ]) as CryptoPolicy['sshHostKeys'],
  serverKeyBits: 2048,
  signatureHash: 'sha256' as const,
  cipher: 'aes-256-gcm' as const,
  kdf: Object.freeze({name: 'pbkdf2' as const, hash: 'sha256' as const, iterations: PBKDF2_ITERATIONS}),
  passwordHash: 'sha512-crypt' as const,
  allowsSshKey(key: {type: SshKeyType; bits: number}): boolean {
    switch (key.type) {
      case 'rsa': return key.bits >= 3072
      case 'ecdsa': return key.bits === 256 || key.bits === 384
      default: return false
    }
  },
  allowsServerKey(key: {bits: number; signatureHash: string}): boolean {
    return key.bits >= 2048 && SHA2_AT_LEAST_256.has(key.signatureHash.toLowerCase())
  },
})

export function policyFor(fips: boolean): CryptoPolicy {
  return fips ? FIPS_POLICY : DEFAULT_POLICY
}
