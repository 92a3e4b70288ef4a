import {generateKeyPairSync, X509Certificate} from 'node:crypto'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError} from '../../src/errors.js'
import {generateRsaKey, privateKeyPem, publicKeyOf} from '../../src/crypto/keys.js'
import {seededRandom} from '../../src/crypto/random.js'
import {
  certificateInfo, certificateMatchesKey, fingerprintSha256, issueCertificate, splitPemBundle,
  verifyCertificateSignedBy, type IssueOptions,
} from '../../src/crypto/x509.js'

const caKey = generateRsaKey(2048, seededRandom('x509-test', 'ca'))
const serverKey = generateRsaKey(2048, seededRandom('x509-test', 'server'))
const otherKey = generateRsaKey(2048, seededRandom('x509-test', 'other'))
const notBefore = new Date('2025-03-01T12:00:00Z')

const caPem = issueCertificate({
  subject: {commonName: 'xway Lab Root CA', organization: 'xway lab', country: 'gb'},
  subjectKey: caKey, notBefore, days: 3650, isCa: true, serial: Buffer.from([0x01]),
})

function serverOptions(overrides: Partial<IssueOptions> = {}): IssueOptions {
  return {
    subject: {commonName: 'exp-c1.lab.example', organization: 'xway lab', organizationalUnit: 'Expressway'},
    subjectKey: publicKeyOf(serverKey),
    issuer: {certPem: caPem, key: caKey},
    notBefore, days: 825,
    dnsNames: ['exp-c1.lab.example', 'localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    serial: Buffer.from('00c0ffee', 'hex'),
    extKeyUsage: ['serverAuth', 'clientAuth'],
    ...overrides,
  }
}

const isBadInput = (e: unknown): boolean => e instanceof BadInputError

test('a CA → server chain verifies with node:crypto', async () => {
  const serverPem = issueCertificate(serverOptions())
  const ca = new X509Certificate(caPem)
  const server = new X509Certificate(serverPem)
  assert.ok(ca.verify(publicKeyOf(caKey)), 'the CA is self-signed')
  assert.ok(server.verify(publicKeyOf(caKey)))
  assert.not.ok(server.verify(publicKeyOf(otherKey)))
  assert.ok(server.checkIssued(ca))
  assert.ok(ca.ca)
  assert.not.ok(server.ca)
  assert.is(server.subjectAltName, 'DNS:exp-c1.lab.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
  assert.equal(server.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
  assert.ok(server.checkHost('exp-c1.lab.example'))
  assert.ok(verifyCertificateSignedBy(serverPem, caPem))
  assert.ok(verifyCertificateSignedBy(caPem, caPem))
})

test('certificateInfo reports subject, issuer, dates, serial, CA flag, key size and hash', async () => {
  const serverPem = issueCertificate(serverOptions())
  const info = certificateInfo(serverPem)
  const x509 = new X509Certificate(serverPem)
  assert.equal(info, {
    subject: 'CN=exp-c1.lab.example, OU=Expressway, O=xway lab',
    issuer: 'CN=xway Lab Root CA, O=xway lab, C=GB',
    fingerprint: x509.fingerprint256,
    notBefore: '2025-03-01T12:00:00.000Z',
    notAfter: '2027-06-04T12:00:00.000Z',
    serial: x509.serialNumber,
    isCa: false,
    keyBits: 2048,
    signatureHash: 'sha256',
  })
  assert.is(info.serial, 'C0FFEE')
  const ca = certificateInfo(caPem)
  assert.is(ca.subject, ca.issuer)
  assert.ok(ca.isCa)
  assert.is(ca.fingerprint, new X509Certificate(caPem).fingerprint256)
  assert.is(fingerprintSha256(new X509Certificate(caPem).raw), ca.fingerprint)
})

test('the same keys, serial and start date give the same PEM, byte for byte', async () => {
  assert.is(issueCertificate(serverOptions()), issueCertificate(serverOptions()))
  assert.is.not(issueCertificate(serverOptions({serial: Buffer.from([2])})), issueCertificate(serverOptions()))
  const a = issueCertificate(serverOptions({serial: undefined}))
  const b = issueCertificate(serverOptions({serial: undefined}))
  assert.is.not(certificateInfo(a).serial, certificateInfo(b).serial, 'default serials are random')
  assert.is(certificateInfo(a).serial.length, 32)
  const seeded = (): string => issueCertificate(serverOptions({serial: undefined, random: seededRandom('unit-1', 'server-cert')}))
  assert.is(seeded(), seeded())
})

test('serials are written as positive integers', async () => {
  const pem = issueCertificate(serverOptions({serial: Buffer.from('0000ff01', 'hex')}))
  assert.is(certificateInfo(pem).serial, 'FF01')
  assert.is(new X509Certificate(pem).serialNumber, 'FF01')
  assert.throws(() => issueCertificate(serverOptions({serial: Buffer.alloc(3)})), isBadInput)
  assert.throws(() => issueCertificate(serverOptions({serial: Buffer.alloc(21, 1)})), isBadInput)
})

test('validity past 2049 is written as GeneralizedTime and read back', async () => {
  const pem = issueCertificate(serverOptions({days: 365 * 40}))
  assert.is(certificateInfo(pem).notAfter, '2065-02-19T12:00:00.000Z')
  assert.is(new Date(new X509Certificate(pem).validTo).toISOString(), '2065-02-19T12:00:00.000Z')
  const der = new X509Certificate(pem).raw
  assert.ok(der.includes(Buffer.from('20650219120000Z')), 'GeneralizedTime')
})

test('certificateMatchesKey and verifyCertificateSignedBy tell pairs and chains apart', async () => {
  const serverPem = issueCertificate(serverOptions())
  assert.ok(certificateMatchesKey(serverPem, serverKey))
  assert.ok(certificateMatchesKey(serverPem, publicKeyOf(serverKey)))
  assert.not.ok(certificateMatchesKey(serverPem, caKey))
  assert.not.ok(certificateMatchesKey('garbage', serverKey))
  const otherCa = issueCertificate({subject: {commonName: 'xway Lab Root CA', organization: 'xway lab', country: 'GB'}, subjectKey: otherKey, notBefore, days: 10, isCa: true})
  assert.not.ok(verifyCertificateSignedBy(serverPem, otherCa), 'same name, other key')
  assert.not.ok(verifyCertificateSignedBy(caPem, serverPem))
  assert.not.ok(verifyCertificateSignedBy('garbage', caPem))
})

test('splitPemBundle returns every certificate block and nothing else', async () => {
  const serverPem = issueCertificate(serverOptions())
  const bundle = `# trust store\n${caPem}\n${privateKeyPem(otherKey)}${serverPem.replace(/\n/g, '\r\n')}`
  const blocks = splitPemBundle(bundle)
  assert.is(blocks.length, 2)
  assert.is(blocks[0], caPem)
  assert.is(blocks[1], serverPem)
  assert.equal(splitPemBundle('nothing here'), [])
})

test('refuses what it cannot issue or read, with BadInputError', async () => {
  const ecKey = generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey
  const cases: Array<[string, () => unknown]> = [
    ['self-signed from a public key', () => issueCertificate({...serverOptions(), issuer: undefined})],
    ['EC subject key', () => issueCertificate(serverOptions({subjectKey: ecKey}))],
    ['issuer key of another certificate', () => issueCertificate(serverOptions({issuer: {certPem: caPem, key: otherKey}}))],
    ['issuer that is not a CA', () => issueCertificate(serverOptions({issuer: {certPem: issueCertificate(serverOptions()), key: serverKey}}))],
    ['no common name', () => issueCertificate(serverOptions({subject: {commonName: ' '}}))],
    ['bad country', () => issueCertificate(serverOptions({subject: {commonName: 'x', country: 'GBR'}}))],
    ['bad IP address', () => issueCertificate(serverOptions({ipAddresses: ['300.1.1.1']}))],
    ['bad DNS name', () => issueCertificate(serverOptions({dnsNames: ['exp c1']}))],
    ['no days', () => issueCertificate(serverOptions({days: 0}))],
    ['invalid date', () => issueCertificate(serverOptions({notBefore: new Date('nope')}))],
    ['info of garbage', () => certificateInfo('hello')],
    ['info of a damaged certificate', () => certificateInfo(caPem.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA'))],
  ]
  for (const [name, run] of cases) assert.throws(run, isBadInput, name)
})

test('issuing many certificates with distinct serials gives distinct, valid certificates', async () => {
  const pems = new Set<string>()
  for (let i = 0; i < 50; i++) pems.add(issueCertificate(serverOptions({serial: Buffer.from([1, i])})))
  assert.is(pems.size, 50)
})

test.run()
