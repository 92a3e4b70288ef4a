import type {CryptoPolicy} from '../crypto/policy.js'
import type {RandomSource} from '../crypto/random.js'
import {generateEcdsaKey, generateEd25519Key, generateRsaKey, privateKeyPem} from '../crypto/keys.js'
import {openSshPrivateKey, openSshPublicKey} from '../crypto/ssh.js'
import {issueCertificate} from '../crypto/x509.js'
import {P, sshKeyPath} from '../unit/paths.js'

export interface GeneratedFile {
  rel: string
  data: string
  mode: number
}

/** SSH host keys the policy allows (FIPS: RSA 3072 and ECDSA only), in OpenSSH format, private halves 0600. */
export function generateSshHostKeys(policy: CryptoPolicy, random: (label: string) => RandomSource | undefined, comment: string): GeneratedFile[] {
  const files: GeneratedFile[] = []
  for (const spec of policy.sshHostKeys) {
    const rng = random(`ssh-${spec.type}`)
    const key =
      spec.type === 'rsa' ? generateRsaKey(spec.bits, rng)
        : spec.type === 'ecdsa' ? generateEcdsaKey(spec.bits === 384 ? 'P-384' : 'P-256', rng)
          : generateEd25519Key(rng)
    const rel = sshKeyPath(spec.type)
    files.push({rel, data: openSshPrivateKey(key, comment), mode: 0o600})
    files.push({rel: `${rel}.pub`, data: openSshPublicKey(key, comment), mode: 0o644})
  }
  return files
}

/**
 * The server certificate and its key: self-signed, RSA of the policy's size, SHA-256. Valid from a
 * day before the unit's now (so that a seeded build is reproducible) for ten years.
 */
export function generateServerCertificate(policy: CryptoPolicy, random: RandomSource | undefined, commonName: string, at: Date): GeneratedFile[] {
  const key = generateRsaKey(policy.serverKeyBits, random)
  const serial = random ? random.bytes(16) : undefined
  const cert = issueCertificate({
    subject: {commonName, organization: 'Cisco Expressway (xway unit)'},
    subjectKey: key,
    notBefore: new Date(at.getTime() - 24 * 60 * 60 * 1000),
    days: 3650,
    dnsNames: [commonName],
    serial,
    extKeyUsage: ['serverAuth', 'clientAuth'],
  })
  return [
    {rel: P.serverCert, data: cert, mode: 0o644},
    {rel: P.serverKey, data: privateKeyPem(key), mode: 0o600},
  ]
}

/** The bootstrap key: 32 random bytes, hex, 0600. */
export function generateSystemKey(random: RandomSource): GeneratedFile {
  return {rel: P.systemKey, data: random.bytes(32).toString('hex') + '\n', mode: 0o600}
}
