import {createPublicKey, X509Certificate, type KeyObject} from 'node:crypto'
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
 * before this.
 */
export function identityOfCertificate(der: Buffer): {udi: string; publicKey: string} | null {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(der)
  } catch {
    return null
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1]?.replace(/\\,/g, ',')
  if (!cn || !isUdi(cn)) return null
  if (!(cert.keyUsage ?? []).includes(CLIENT_AUTH_OID)) return null
  return {udi: cn, publicKey: canonicalPublicKey(cert.publicKey)}
}
