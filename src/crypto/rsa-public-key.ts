import {createHash, createPublicKey} from 'node:crypto'
import {BadInputError} from '../errors.js'
import {DER_CLASS, DER_TYPE, oidOf, readDer, tlv, type DerNode} from './der.js'

// An RSA public key as the license server takes it from an agent: the SubjectPublicKeyInfo
// (DER and PEM, canonical) and its key identifier, read by the strict DER reader. OpenSSL 3's
// key decoders and encoders (createPublicKey(pem), KeyObject.export) cost some 0.2 ms a call,
// three or four of them a registration: more than the rest of the request together. Here the
// PEM is read and the canonical SPKI rebuilt from the modulus and exponent in microseconds;
// OpenSSL still checks the key, through its cheap JWK import. The canonical PEM is exactly
// what `createPublicKey(pem).export({type: 'spki', format: 'pem'})` gives
// (test/unit/rsa-public-key.test.ts compares them).

export interface RsaPublicKey {
  /** SubjectPublicKeyInfo, canonical DER */
  spki: Buffer
  /** the same, PEM (64-character lines), as OpenSSL writes it */
  pem: string
  /** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's contents */
  keyId: Buffer
  /** the modulus length in bits */
  bits: number
}

const RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
const PEM_SPKI = /^\s*-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]{1,12000})-----END PUBLIC KEY-----\s*$/

function notRsa(why: string): never {
  throw new BadInputError(`Not an RSA public key: ${why}.`)
}

/** A positive INTEGER's content, minimal: no leading zero bytes beyond the one a high bit needs. */
function integer(magnitude: Buffer): Buffer {
  return tlv(0x02, magnitude[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), magnitude]) : magnitude)
}

/** The magnitude of a positive INTEGER (leading zeros dropped); refused when it is zero or negative. */
function positive(node: DerNode, what: string): Buffer {
  if (node.cls !== DER_CLASS.UNIVERSAL || node.type !== DER_TYPE.INTEGER || node.content.length === 0) notRsa(`${what} is not an INTEGER`)
  if (node.content[0]! & 0x80) notRsa(`${what} is negative`)
  let start = 0
  while (start < node.content.length && node.content[start] === 0) start++
  if (start === node.content.length) notRsa(`${what} is zero`)
  return node.content.subarray(start)
}

const is = (node: DerNode | undefined, type: number): node is DerNode => node !== undefined && node.cls === DER_CLASS.UNIVERSAL && node.type === type

function bitLength(magnitude: Buffer): number {
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]!))
}

function strictDer(der: Buffer): DerNode {
  try {
    return readDer(der)
  } catch (err) {
    notRsa((err as Error).message.replace(/\.$/, ''))
  }
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url')

/** The key of a SubjectPublicKeyInfo (DER): BadInputError unless it is an RSA key OpenSSL accepts. */
export function rsaPublicKeyFromSpki(der: Buffer): RsaPublicKey {
  const spki = strictDer(der)
  const [algorithm, key] = spki.children
  if (!is(spki, DER_TYPE.SEQUENCE) || spki.children.length !== 2 || !is(algorithm, DER_TYPE.SEQUENCE) || !is(key, DER_TYPE.BIT_STRING)) {
    notRsa('not a SubjectPublicKeyInfo')
  }
  const [oid, parameters] = algorithm.children
  if (!is(oid, DER_TYPE.OID) || oidOf(oid.content) !== RSA_ENCRYPTION) notRsa('its algorithm is not rsaEncryption')
  if (algorithm.children.length > 2 || (parameters !== undefined && !(is(parameters, DER_TYPE.NULL) && parameters.content.length === 0))) {
    notRsa('rsaEncryption takes NULL parameters')
  }
  if (key.content.length < 2 || key.content[0] !== 0) notRsa('its key BIT STRING is not whole bytes')
  const rsa = strictDer(key.content.subarray(1))
  if (!is(rsa, DER_TYPE.SEQUENCE) || rsa.children.length !== 2) notRsa('not an RSAPublicKey')
  const n = positive(rsa.children[0]!, 'the modulus')
  const e = positive(rsa.children[1]!, 'the public exponent')
  // OpenSSL's own check of the numbers (an RSA key from its parameters: microseconds)
  try {
    createPublicKey({key: {kty: 'RSA', n: base64url(n), e: base64url(e)}, format: 'jwk'})
  } catch (err) {
    notRsa((err as Error).message)
  }
  const rsaPublicKey = tlv(0x30, integer(n), integer(e))
  const canonical = tlv(0x30, tlv(0x30, tlv(0x06, oid.content), Buffer.from([0x05, 0x00])), tlv(0x03, Buffer.from([0]), rsaPublicKey))
  return {spki: canonical, pem: spkiPem(canonical), keyId: createHash('sha1').update(rsaPublicKey).digest(), bits: bitLength(n)}
}

/** An RSA public key from PEM: SPKI ("PUBLIC KEY") read here, any other form OpenSSL reads. BadInputError when it is none. */
export function rsaPublicKeyFromPem(pem: string): RsaPublicKey {
  const match = PEM_SPKI.exec(pem)
  if (match) return rsaPublicKeyFromSpki(Buffer.from(match[1]!.replace(/[\r\n]/g, ''), 'base64'))
  let der: Buffer
  try {
    der = createPublicKey(pem).export({type: 'spki', format: 'der'})
  } catch {
    notRsa('not a PEM public key')
  }
  return rsaPublicKeyFromSpki(der)
}

/** PEM of a SubjectPublicKeyInfo, as OpenSSL writes it. */
export function spkiPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`
}
