import {createHash, createPublicKey, sign, X509Certificate, type KeyObject} from 'node:crypto'
import {createRequire} from 'node:module'
import {isIP} from 'node:net'
import {BadInputError} from '../errors.js'
import {DER_CLASS, type DerNode, oidOf, readDer, stringOf, timeOf} from './der.js'
import {keyDescription, publicKeyOf} from './keys.js'
import {systemRandom, type RandomSource} from './random.js'

// X.509 with node-forge for the structure and node:crypto for the signature: forge builds
// the TBSCertificate, OpenSSL signs its DER (RSA PKCS#1 v1.5 with SHA-256, deterministic),
// and forge serialises the result. Signing RSA in JavaScript is far too slow for a license
// server issuing hundreds of certificates per second. node-forge cannot carry EC keys, so
// the certificates xway issues are for RSA keys; reading (certificateInfo and the checks)
// goes through node:crypto and a plain ASN.1 walk, so any certificate can be inspected.

type Forge = typeof import('node-forge')
type Asn1 = import('node-forge').asn1.Asn1

// node-forge costs ~30 ms to import: load it on first use, so that commands that never
// touch a certificate (and `xway --version`) do not pay for it.
const require = createRequire(import.meta.url)
let forgeModule: Forge | undefined
function forge(): Forge {
  forgeModule ??= require('node-forge') as Forge
  return forgeModule
}

export interface DistinguishedName {
  commonName: string
  organization?: string
  organizationalUnit?: string
  country?: string
}

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth' | 'codeSigning'

export interface IssueOptions {
  subject: DistinguishedName
  /** Public or private KeyObject of the subject (RSA). */
  subjectKey: KeyObject
  /** Absent: self-signed by subjectKey, which must then be private. */
  issuer?: {certPem: string; key: KeyObject}
  notBefore: Date
  days: number
  isCa?: boolean
  dnsNames?: string[]
  ipAddresses?: string[]
  /** Default: 16 bytes from `random` (positive). */
  serial?: Buffer
  /** Where the default serial comes from; default the system's generator. */
  random?: RandomSource
  extKeyUsage?: ExtendedKeyUsage[]
}

export interface CertificateInfo {
  /** RFC 4514 order, most specific first: "CN=…, O=…". */
  subject: string
  issuer: string
  /** SHA-256 of the DER, uppercase hex, colon-separated (as X509Certificate.fingerprint256). */
  fingerprint: string
  /** ISO 8601. */
  notBefore: string
  notAfter: string
  /** Uppercase hex, no sign byte (as X509Certificate.serialNumber). */
  serial: string
  isCa: boolean
  keyBits: number
  /** "sha256", "sha1", …; "ed25519" for Ed25519; the OID when unknown. */
  signatureHash: string
}

const DAY_MS = 24 * 60 * 60 * 1000
const SHA256_WITH_RSA = '1.2.840.113549.1.1.11'
const CERT_PEM = /-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/g

/** A certificate, PEM. Same keys, serial, notBefore and options → the same PEM, byte for byte. */
export function issueCertificate(options: IssueOptions): string {
  const {asn1, pki, util} = forge()
  const subjectPublic = publicKeyOf(options.subjectKey)
  requireRsa(subjectPublic, 'The subject key')
  const signer = options.issuer?.key ?? options.subjectKey
  if (signer.type !== 'private') {
    throw new BadInputError(options.issuer
      ? 'The issuer key must be a private key.'
      : 'A self-signed certificate needs the subject\'s private key.')
  }
  requireRsa(signer, options.issuer ? 'The issuer key' : 'The subject key')
  if (!(options.notBefore instanceof Date) || Number.isNaN(options.notBefore.getTime())) {
    throw new BadInputError('The certificate start date is not a valid date.')
  }
  if (!Number.isFinite(options.days) || options.days <= 0) {
    throw new BadInputError(`A certificate must be valid for a positive number of days, not ${options.days}.`)
  }
  const issuer = options.issuer ? issuerDetails(options.issuer.certPem, options.issuer.key) : undefined
  const subjectSpki = subjectPublic.export({type: 'spki', format: 'der'})
  const subjectKeyId = keyIdentifier(subjectPublic)

  const cert = pki.createCertificate()
  cert.version = 2
  cert.serialNumber = serialHex(options.serial ?? defaultSerial(options.random ?? systemRandom()))
  cert.validity.notBefore = new Date(options.notBefore.getTime())
  cert.validity.notAfter = new Date(options.notBefore.getTime() + options.days * DAY_MS)
  const subject = nameAttributes(options.subject)
  cert.setSubject(subject)
  cert.setIssuer(subject) // replaced below by the issuer certificate's own encoding
  cert.publicKey = pki.publicKeyFromAsn1(asn1.fromDer(util.createBuffer(subjectSpki.toString('binary'))))
  cert.siginfo.algorithmOid = SHA256_WITH_RSA
  cert.signatureOid = SHA256_WITH_RSA

  const octets = (bytes: Buffer): Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes.toString('binary'))
  const extensions: Array<Record<string, unknown>> = [
    {name: 'basicConstraints', critical: true, cA: options.isCa === true},
    options.isCa
      ? {name: 'keyUsage', critical: true, digitalSignature: true, keyCertSign: true, cRLSign: true}
      : {name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true},
  ]
  if (options.extKeyUsage && options.extKeyUsage.length > 0) {
    const usage: Record<string, unknown> = {name: 'extKeyUsage'}
    for (const purpose of options.extKeyUsage) {
      if (purpose !== 'serverAuth' && purpose !== 'clientAuth' && purpose !== 'codeSigning') {
        throw new BadInputError(`Unknown extended key usage "${String(purpose)}": use serverAuth, clientAuth or codeSigning.`)
      }
      usage[purpose] = true
    }
    extensions.push(usage)
  }
  const altNames = subjectAltNames(options.dnsNames ?? [], options.ipAddresses ?? [])
  if (altNames.length > 0) extensions.push({name: 'subjectAltName', altNames})
  extensions.push({name: 'subjectKeyIdentifier', value: octets(subjectKeyId)})
  extensions.push({
    name: 'authorityKeyIdentifier',
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, (issuer?.keyIdentifier ?? subjectKeyId).toString('binary')),
    ]),
  })
  try {
    cert.setExtensions(extensions)
  } catch (error) {
    throw new BadInputError(`The certificate cannot be built: ${(error as Error).message}`, {cause: error})
  }

  // getTBSCertificate is public in node-forge but missing from @types/node-forge.
  const tbs = (pki as unknown as {getTBSCertificate(c: typeof cert): Asn1}).getTBSCertificate(cert)
  if (issuer) {
    // The issuer name must be the issuer certificate's subject exactly as encoded there.
    (tbs.value as Asn1[])[3] = asn1.fromDer(util.createBuffer(issuer.nameDer), {strict: true, decodeBitStrings: false} as unknown as boolean)
  }
  const tbsDer = Buffer.from(asn1.toDer(tbs).getBytes(), 'binary')
  cert.tbsCertificate = tbs
  cert.signature = sign('sha256', tbsDer, signer).toString('binary')
  const der = Buffer.from(asn1.toDer(pki.certificateToAsn1(cert)).getBytes(), 'binary')
  return derToPem(der)
}

/** What `inspect` shows of a certificate (the first one of a bundle). BadInputError if there is none. */
export function certificateInfo(pem: string): CertificateInfo {
  const x509 = parseCertificate(pem)
  const der = x509.raw
  let fields: ReturnType<typeof readCertificateFields>
  try {
    fields = readCertificateFields(der)
  } catch (error) {
    throw new BadInputError('The certificate is malformed.', {cause: error})
  }
  return {
    subject: fields.subject,
    issuer: fields.issuer,
    fingerprint: fingerprintSha256(der),
    notBefore: fields.notBefore.toISOString(),
    notAfter: fields.notAfter.toISOString(),
    serial: fields.serial,
    isCa: x509.ca,
    keyBits: publicKeyBits(x509.publicKey),
    signatureHash: fields.signatureHash,
  }
}

/** Whether the certificate carries this key's public half. False when the certificate is malformed. */
export function certificateMatchesKey(certPem: string, key: KeyObject): boolean {
  try {
    const certKey = parseCertificate(certPem).publicKey.export({type: 'spki', format: 'der'})
    return certKey.equals(publicKeyOf(key).export({type: 'spki', format: 'der'}))
  } catch {
    return false
  }
}

/** Every CERTIFICATE block of a PEM bundle, in order, each ending with a newline. */
export function splitPemBundle(text: string): string[] {
  const blocks: string[] = []
  for (const match of text.matchAll(CERT_PEM)) {
    blocks.push(`-----BEGIN CERTIFICATE-----\n${match[1].replace(/\r\n/g, '\n')}-----END CERTIFICATE-----\n`)
  }
  return blocks
}

/**
 * Whether issuerPem issued certPem: names and key identifiers chain, and the signature
 * verifies under the issuer's key. False when either is malformed.
 */
export function verifyCertificateSignedBy(certPem: string, issuerPem: string): boolean {
  try {
    const cert = parseCertificate(certPem)
    const issuer = parseCertificate(issuerPem)
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey)
  } catch {
    return false
  }
}

/** "AB:CD:…": SHA-256 of the DER, uppercase hex, colon-separated. */
export function fingerprintSha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':')
}

/** PEM of one DER certificate: 64-column base64, "\n" line ends. */
export function derToPem(der: Buffer): string {
  const base64 = der.toString('base64')
  const lines: string[] = []
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64))
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

// ---- issuing ----

function requireRsa(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new BadInputError(`${what} is ${key.asymmetricKeyType ?? 'not an asymmetric key'}: xway issues certificates for RSA keys only.`)
  }
}

function nameAttributes(dn: DistinguishedName): Array<{shortName: string; value: string; valueTagClass: number}> {
  const {asn1} = forge()
  if (typeof dn.commonName !== 'string' || dn.commonName.trim() === '') throw new BadInputError('A certificate subject needs a common name.')
  const attributes: Array<{shortName: string; value: string; valueTagClass: number}> = []
  // X.500 order, least specific first; printed the other way round (RFC 4514).
  if (dn.country !== undefined) {
    if (!/^[A-Za-z]{2}$/.test(dn.country)) throw new BadInputError(`A certificate country is two letters (ISO 3166), not "${dn.country}".`)
    attributes.push({shortName: 'C', value: dn.country.toUpperCase(), valueTagClass: asn1.Type.PRINTABLESTRING})
  }
  const text = (shortName: string, value: string | undefined, label: string): void => {
    if (value === undefined) return
    if (value === '' || value.length > 64 || /[\0-\x1f]/.test(value)) {
      throw new BadInputError(`A certificate ${label} is 1 to 64 printable characters, not ${JSON.stringify(value)}.`)
    }
    attributes.push({shortName, value, valueTagClass: asn1.Type.UTF8})
  }
  text('O', dn.organization, 'organization')
  text('OU', dn.organizationalUnit, 'organizational unit')
  text('CN', dn.commonName, 'common name')
  return attributes
}

function subjectAltNames(dnsNames: string[], ipAddresses: string[]): Array<Record<string, unknown>> {
  const names: Array<Record<string, unknown>> = []
  for (const name of dnsNames) {
    if (!/^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$/.test(name) || name.length > 253) {
      throw new BadInputError(`"${name}" is not a DNS name a certificate can carry.`)
    }
    names.push({type: 2, value: name})
  }
  for (const address of ipAddresses) {
    if (isIP(address) === 0) throw new BadInputError(`"${address}" is not an IPv4 or IPv6 address.`)
    names.push({type: 7, ip: address})
  }
  return names
}

function defaultSerial(random: RandomSource): Buffer {
  const serial = random.bytes(16)
  // Positive and exactly 16 bytes: top bit clear, next bit set (126 random bits).
  serial[0] = (serial[0] & 0x7f) | 0x40
  return serial
}

/** DER INTEGER content of a positive serial: minimal, 0x00 in front when the top bit is set. */
function serialHex(serial: Buffer): string {
  let start = 0
  while (start < serial.length && serial[start] === 0) start++
  let bytes = serial.subarray(start)
  if (bytes.length === 0) throw new BadInputError('A certificate serial number must be positive.')
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  if (bytes.length > 20) throw new BadInputError('A certificate serial number is at most 20 bytes (RFC 5280).')
  return bytes.toString('hex')
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's contents. */
function keyIdentifier(publicKey: KeyObject): Buffer {
  return createHash('sha1').update(publicKey.export({type: 'pkcs1', format: 'der'})).digest()
}

interface IssuerDetails {
  nameDer: string // binary string, as forge takes it
  keyIdentifier: Buffer
}

const issuerCache = new Map<string, {spki: Buffer; details: IssuerDetails}>()
const ISSUER_CACHE_SIZE = 16

function issuerDetails(certPem: string, key: KeyObject): IssuerDetails {
  let entry = issuerCache.get(certPem)
  if (entry === undefined) {
    const x509 = parseCertificate(certPem)
    if (!x509.ca) throw new BadInputError(`The issuer certificate (${x509.subject.replace(/\n/g, ', ')}) is not a CA certificate.`)
    const publicKey = x509.publicKey
    let fields: ReturnType<typeof readCertificateFields>
    try {
      fields = readCertificateFields(x509.raw)
    } catch (error) {
      throw new BadInputError('The issuer certificate is malformed.', {cause: error})
    }
    const keyId = fields.subjectKeyIdentifier
      ?? (publicKey.asymmetricKeyType === 'rsa' ? keyIdentifier(publicKey) : createHash('sha1').update(spkiBitString(publicKey)).digest())
    entry = {spki: publicKey.export({type: 'spki', format: 'der'}), details: {nameDer: fields.subjectDer, keyIdentifier: keyId}}
    if (issuerCache.size >= ISSUER_CACHE_SIZE) issuerCache.delete(issuerCache.keys().next().value!)
    issuerCache.set(certPem, entry)
  }
  if (!entry.spki.equals(createPublicKey(key).export({type: 'spki', format: 'der'}))) {
    throw new BadInputError('The issuer key does not belong to the issuer certificate.')
  }
  return entry.details
}

function spkiBitString(publicKey: KeyObject): Buffer {
  const bits = readDer(publicKey.export({type: 'spki', format: 'der'})).children[1]!
  return Buffer.from(bits.content.subarray(1))
}

// ---- reading ----

function parseCertificate(pem: string): X509Certificate {
  const block = splitPemBundle(pem)[0]
  if (block === undefined) throw new BadInputError('Not a certificate: no "-----BEGIN CERTIFICATE-----" block.')
  try {
    return new X509Certificate(block)
  } catch (error) {
    throw new BadInputError('The certificate is malformed.', {cause: error})
  }
}

const NAME_SHORT: Record<string, string> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'STREET',
  '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID', '1.2.840.113549.1.9.1': 'emailAddress',
}

const SIGNATURE_HASH: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5', '1.2.840.113549.1.1.5': 'sha1', '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1', '1.2.840.10045.4.3.1': 'sha224', '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha1', '2.16.840.1.101.3.4.3.1': 'sha224', '2.16.840.1.101.3.4.3.2': 'sha256',
  '1.3.101.112': 'ed25519', '1.3.101.113': 'ed448',
}
const DIGEST: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.4': 'sha224', '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512',
}
const RSASSA_PSS = '1.2.840.113549.1.1.10'
const SUBJECT_KEY_IDENTIFIER = '2.5.29.14'

function readCertificateFields(der: Buffer): {
  subject: string; issuer: string; subjectDer: string; notBefore: Date; notAfter: Date
  serial: string; signatureHash: string; subjectKeyIdentifier?: Buffer
} {
  const certificate = readDer(der)
  const [tbs, signatureAlgorithm] = certificate.children
  if (!tbs || !signatureAlgorithm) throw new BadInputError('The certificate is malformed.')
  const fields = tbs.children
  let i = fields[0]?.cls === DER_CLASS.CONTEXT_SPECIFIC && fields[0].type === 0 ? 1 : 0
  const serialBytes = fields[i++]!.content
  i++ // signature (inner AlgorithmIdentifier)
  const issuer = fields[i++]!
  const validity = fields[i++]!.children
  const subject = fields[i++]!
  let subjectKeyIdentifier: Buffer | undefined
  for (const field of fields.slice(i)) {
    if (field.cls !== DER_CLASS.CONTEXT_SPECIFIC || field.type !== 3) continue
    for (const extension of field.children[0]?.children ?? []) {
      const parts = extension.children
      if (oidOf(parts[0]!.content) !== SUBJECT_KEY_IDENTIFIER) continue
      subjectKeyIdentifier = Buffer.from(readDer(parts[parts.length - 1]!.content).content)
    }
  }
  let serialStart = 0
  while (serialStart < serialBytes.length - 1 && serialBytes[serialStart] === 0) serialStart++
  return {
    subject: formatName(subject),
    issuer: formatName(issuer),
    subjectDer: subject.raw.toString('binary'),
    notBefore: timeOf(validity[0]!),
    notAfter: timeOf(validity[1]!),
    serial: serialBytes.subarray(serialStart).toString('hex').toUpperCase(),
    signatureHash: signatureHashOf(signatureAlgorithm),
    subjectKeyIdentifier,
  }
}

function signatureHashOf(algorithm: DerNode): string {
  const [id, params] = algorithm.children
  const oid = oidOf(id!.content)
  if (oid !== RSASSA_PSS) return SIGNATURE_HASH[oid] ?? oid
  // RSASSA-PSS-params: [0] hashAlgorithm, default SHA-1 (RFC 4055).
  const hash = params?.children.find((p) => p.cls === DER_CLASS.CONTEXT_SPECIFIC && p.type === 0)
  const hashId = hash?.children[0]?.children[0]
  if (hashId) {
    const hashOid = oidOf(hashId.content)
    return DIGEST[hashOid] ?? hashOid
  }
  return 'sha1'
}

function formatName(name: DerNode): string {
  const rdns = name.children.map((set) => set.children.map((attribute) => {
    const [type, value] = attribute.children
    const oid = oidOf(type!.content)
    return `${NAME_SHORT[oid] ?? oid}=${escapeDnValue(stringOf(value!))}`
  }).join('+'))
  return rdns.reverse().join(', ')
}

function escapeDnValue(value: string): string {
  return value.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ')
}

function publicKeyBits(key: KeyObject): number {
  try {
    return keyDescription(key).bits
  } catch {
    return key.asymmetricKeyDetails?.modulusLength ?? 0
  }
}
