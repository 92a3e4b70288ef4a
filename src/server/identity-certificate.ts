import {createHash, generateKeyPairSync, KeyObject, randomBytes, sign, X509Certificate} from 'node:crypto'
import {tlv} from '../crypto/der.js'
import {derToPem} from '../crypto/x509.js'
import {BadInputError} from '../errors.js'

// The identity certificate of a product instance, issued at every registration and renewal:
// the hot path of the license server. crypto/x509.ts (node-forge) builds any certificate;
// this builds the one shape of identity certificate directly as DER around node:crypto's
// signature, because forge's work (its big-number key conversion and two ASN.1
// serialisations) was most of the cost of a registration. Signed by an RSA key, the bytes
// are exactly those issueCertificate makes for the same input
// (test/unit/server-identity-certificate.test.ts compares them).
//
// The server does not sign identity certificates with the lab CA's RSA key itself: an RSA
// signature costs about as much as the TLS handshake of the registration, and the two
// together halved the registrations a process could make. Each server process makes an
// identity CA at start, an ECDSA P-256 key (signatures some twenty times cheaper) with a
// certificate the lab CA signs, and issues identity certificates with it. The agent gets
// its certificate and the identity CA's together and presents both; the server checks the
// chain up to the lab CA, so a certificate one process issued is accepted by every process
// and every copy of the folder, and by the same process after a restart.

const DAY_MS = 24 * 60 * 60 * 1000

const seq = (...content: Buffer[]): Buffer => tlv(0x30, ...content)
const set = (...content: Buffer[]): Buffer => tlv(0x31, ...content)
const octets = (bytes: Buffer): Buffer => tlv(0x04, bytes)
const utf8 = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'))
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex')

// the constant pieces, DER
const VERSION_3 = hex('a0 03 02 01 02')
const SHA256_WITH_RSA = hex('30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b 05 00')
const ECDSA_WITH_SHA256 = hex('30 0a 06 08 2a 86 48 ce 3d 04 03 02')
const OID_ORGANIZATION = hex('06 03 55 04 0a')
const OID_COMMON_NAME = hex('06 03 55 04 03')
const TRUE = hex('01 01 ff')
/** basicConstraints, critical, not a CA */
const BASIC_CONSTRAINTS = seq(hex('06 03 55 1d 13'), TRUE, octets(hex('30 00')))
/** keyUsage, critical: digitalSignature, keyEncipherment */
const KEY_USAGE = seq(hex('06 03 55 1d 0f'), TRUE, octets(hex('03 02 05 a0')))
/** extKeyUsage: clientAuth */
const EXT_KEY_USAGE = seq(hex('06 03 55 1d 25'), octets(seq(hex('06 08 2b 06 01 05 05 07 03 02'))))
const OID_SUBJECT_KEY_ID = hex('06 03 55 1d 0e')
const OID_AUTHORITY_KEY_ID = hex('06 03 55 1d 23')
/** basicConstraints, critical, a CA that issues end entities only (pathLen 0) */
const CA_BASIC_CONSTRAINTS = seq(hex('06 03 55 1d 13'), TRUE, octets(hex('30 06 01 01 ff 02 01 00')))
/** keyUsage, critical: digitalSignature, keyCertSign, cRLSign */
const CA_KEY_USAGE = seq(hex('06 03 55 1d 0f'), TRUE, octets(hex('03 02 01 86')))

/**
 * RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's contents (for
 * RSA, the PKCS#1 key, as crypto/x509.ts computes it).
 */
function keyIdentifier(publicKey: KeyObject): Buffer {
  const bitString = elements(publicKey.export({type: 'spki', format: 'der'}))[1]!
  const {start} = header(bitString, 0)
  return createHash('sha1').update(bitString.subarray(start + 1)).digest()
}

/** The subject's key as a certificate holds it: its SubjectPublicKeyInfo (DER) and key identifier. */
export interface SubjectKey {
  spki: Buffer
  keyId: Buffer
}

function subjectKeyOf(key: KeyObject | SubjectKey): SubjectKey {
  return key instanceof KeyObject ? {spki: key.export({type: 'spki', format: 'der'}), keyId: keyIdentifier(key)} : key
}

function signatureAlgorithm(key: KeyObject): Buffer {
  return key.asymmetricKeyType === 'ec' ? ECDSA_WITH_SHA256 : SHA256_WITH_RSA
}

/** Where the content of the DER element at `offset` starts and ends (definite lengths only, as DER has). */
function header(der: Buffer, offset: number): {start: number; end: number} {
  let n = der[offset + 1]!
  let start = offset + 2
  if (n & 0x80) {
    const bytes = n & 0x7f
    n = 0
    for (let i = 0; i < bytes; i++) n = n * 256 + der[start + i]!
    start += bytes
  }
  return {start, end: start + n}
}

/** The elements inside a DER SEQUENCE. */
function elements(der: Buffer): Buffer[] {
  const outer = header(der, 0)
  const out: Buffer[] = []
  for (let offset = outer.start; offset < outer.end;) {
    const {end} = header(der, offset)
    out.push(der.subarray(offset, end))
    offset = end
  }
  return out
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second. */
function time(date: Date): Buffer {
  const iso = date.toISOString()
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '')
  const year = date.getUTCFullYear()
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`))
}

function positiveInteger(bytes: Buffer): Buffer {
  let start = 0
  while (start < bytes.length - 1 && bytes[start] === 0 && !(bytes[start + 1]! & 0x80)) start++
  const content = bytes.subarray(start)
  return tlv(0x02, content[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), content]) : content)
}

export interface IdentityIssuer {
  /** the issuer's Name, DER, exactly as in its certificate */
  nameDer: Buffer
  keyIdentifier: Buffer
  key: KeyObject
  /** PEM certificates to send with each certificate it issues, up to (not including) the lab CA */
  chain: string
}

/** A CA certificate as an issuer (its own key, the chain above it not included). */
export function identityIssuer(caPem: string, caKey: KeyObject, chain = ''): IdentityIssuer {
  const ca = new X509Certificate(caPem)
  const tbs = elements(ca.raw)[0]!
  const fields = elements(tbs)
  // version [0] is present in every v3 certificate: serial, signature, issuer, validity, subject
  const subject = fields[0]![0] === 0xa0 ? fields[5]! : fields[4]!
  return {nameDer: Buffer.from(subject), keyIdentifier: keyIdentifier(ca.publicKey), key: caKey, chain}
}

function name(organization: string, commonName: string): Buffer {
  return seq(set(seq(OID_ORGANIZATION, utf8(organization))), set(seq(OID_COMMON_NAME, utf8(commonName))))
}

function certificate(issuer: IdentityIssuer, tbsParts: {serial: Buffer; notBefore: Date; days: number; subject: Buffer; subjectKey: SubjectKey; extensions: Buffer[]}): string {
  const algorithm = signatureAlgorithm(issuer.key)
  const notAfter = new Date(tbsParts.notBefore.getTime() + tbsParts.days * DAY_MS)
  const tbs = seq(
    VERSION_3,
    positiveInteger(tbsParts.serial),
    algorithm,
    issuer.nameDer,
    seq(time(tbsParts.notBefore), time(notAfter)),
    tbsParts.subject,
    tbsParts.subjectKey.spki,
    tlv(0xa3, seq(...tbsParts.extensions)),
  )
  const signature = sign('sha256', tbs, issuer.key)
  return derToPem(seq(tbs, algorithm, tlv(0x03, Buffer.from([0]), signature)))
}

/**
 * This process's identity CA: a new ECDSA P-256 key and its certificate, issued by the lab
 * CA for as long as identity certificates last; identity certificates go out with it.
 */
export function identityAuthority(lab: {caPem: string; caKey: KeyObject}, options: {notBefore: Date; days: number}): IdentityIssuer {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const serial = randomBytes(16)
  serial[0] = (serial[0]! & 0x7f) | 0x40
  const root = identityIssuer(lab.caPem, lab.caKey)
  const pem = certificate(root, {
    serial, notBefore: options.notBefore, days: options.days, subject: name('xway lab', 'xway lab identity CA'), subjectKey: subjectKeyOf(publicKey),
    extensions: [
      CA_BASIC_CONSTRAINTS,
      CA_KEY_USAGE,
      seq(OID_SUBJECT_KEY_ID, octets(octets(keyIdentifier(publicKey)))),
      seq(OID_AUTHORITY_KEY_ID, octets(seq(tlv(0x80, root.keyIdentifier)))),
    ],
  })
  return identityIssuer(pem, privateKey, pem)
}

export interface IdentityCertificateInput {
  /** the UDI */
  commonName: string
  /** the smart account (at most 64 characters) */
  organization: string
  /** a KeyObject, or the key as rsa-public-key.ts read it (no OpenSSL encoding on the hot path) */
  subjectKey: KeyObject | SubjectKey
  serial: Buffer
  notBefore: Date
  days: number
}

/** RFC 5280's upper bound of a common name and an organization name. */
export const MAX_NAME_LENGTH = 64

/**
 * An identity certificate: CN = the UDI, O = the smart account, clientAuth, signed by the
 * issuer (ECDSA or RSA, with SHA-256). PEM, followed by the issuer's chain.
 */
export function issueIdentityCertificate(issuer: IdentityIssuer, input: IdentityCertificateInput): string {
  for (const [label, value] of [['common name', input.commonName], ['organization', input.organization]] as const) {
    if (value === '' || value.length > MAX_NAME_LENGTH || /[\0-\x1f]/.test(value)) {
      throw new BadInputError(`A certificate ${label} is 1 to ${MAX_NAME_LENGTH} printable characters, not ${JSON.stringify(value)}.`)
    }
  }
  const subjectKey = subjectKeyOf(input.subjectKey)
  const pem = certificate(issuer, {
    serial: input.serial, notBefore: input.notBefore, days: input.days, subject: name(input.organization, input.commonName), subjectKey,
    extensions: [
      BASIC_CONSTRAINTS,
      KEY_USAGE,
      EXT_KEY_USAGE,
      seq(OID_SUBJECT_KEY_ID, octets(octets(subjectKey.keyId))),
      seq(OID_AUTHORITY_KEY_ID, octets(seq(tlv(0x80, issuer.keyIdentifier)))),
    ],
  })
  return pem + issuer.chain
}
