import {createPublicKey, type KeyObject} from 'node:crypto'
import {DER_CLASS, DER_TYPE, oidOf, readDer, stringOf, type DerNode} from '../crypto/der.js'
import {spkiPem} from '../crypto/rsa-public-key.js'
import {isUdi} from './codes.js'

// How the agent and the license server secure Smart Transport (docs/licensing-protocol.md,
// "Transport" and "Agent authentication"): one TLS policy for both ends, and the rules of
// the identity certificate with which a registered agent authenticates (mutual TLS).

export const TLS_MIN_VERSION = 'TLSv1.2' as const

/** TLS 1.3: every suite is AEAD with ephemeral key exchange. */
export const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'] as const

/** TLS 1.2: ECDHE (forward secrecy) with an AEAD cipher only; no static RSA key exchange, no CBC. */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
] as const

/** The OpenSSL cipher string of both ends (Node splits the TLS 1.3 names from the others). */
export const TLS_CIPHERS = [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':')

/** TLS client authentication, as the identity certificate's extended key usage says. */
export const CLIENT_AUTH_OID = '1.3.6.1.5.5.7.3.2'
const EXT_KEY_USAGE_OID = '2.5.29.37'
const COMMON_NAME_OID = '2.5.4.3'

/** What a registered agent presents in the TLS handshake: its key and the identity certificate issued for it. */
export interface AgentCredential {
  key: KeyObject
  /** PEM of the identity certificate from `register` or `renew-registration` */
  certificate: string
}

/** A public key in one canonical text (SPKI PEM as node:crypto writes it), for comparisons. */
export function canonicalPublicKey(key: KeyObject | string): string {
  const object = typeof key === 'string' ? createPublicKey(key) : key
  return object.export({type: 'spki', format: 'pem'}) as string
}

/**
 * The product instance a client certificate speaks for: its CN when it is a UDI and the
 * certificate allows TLS client authentication, with its public key; null otherwise.
 * Whether the certificate chains to the lab CA is TLS's check (`socket.authorized`), made
 * before this. Read with the DER reader, not X509Certificate: this runs on every
 * authenticated request, and OpenSSL's parse and key export cost some 0.3 ms.
 */
export function identityOfCertificate(der: Buffer): {udi: string; publicKey: string} | null {
  let fields: DerNode[]
  try {
    fields = readDer(der).children[0]?.children ?? []
  } catch {
    return null
  }
  // version [0], serial, signature, issuer, validity, subject, subjectPublicKeyInfo, …, extensions [3]
  const first = fields[0]?.cls === DER_CLASS.CONTEXT_SPECIFIC && fields[0].type === 0 ? 1 : 0
  const subject = fields[first + 4]
  const spki = fields[first + 5]
  if (!subject || !spki) return null
  let cn: string | undefined
  for (const rdn of subject.children) for (const attribute of rdn.children) {
    const [oid, value] = attribute.children
    if (oid?.type === DER_TYPE.OID && value && oidOf(oid.content) === COMMON_NAME_OID) cn = stringOf(value)
  }
  if (!cn || !isUdi(cn)) return null
  const extensions = fields.find((f) => f.cls === DER_CLASS.CONTEXT_SPECIFIC && f.type === 3)?.children[0]?.children ?? []
  let clientAuth = false
  for (const extension of extensions) {
    const oid = extension.children[0]
    const value = extension.children.at(-1)
    if (oid?.type !== DER_TYPE.OID || oidOf(oid.content) !== EXT_KEY_USAGE_OID || value?.type !== DER_TYPE.OCTET_STRING) continue
    try {
      clientAuth = readDer(value.content).children.some((usage) => usage.type === DER_TYPE.OID && oidOf(usage.content) === CLIENT_AUTH_OID)
    } catch {
      return null
    }
  }
  if (!clientAuth) return null
  return {udi: cn, publicKey: spkiPem(spki.raw)}
}
