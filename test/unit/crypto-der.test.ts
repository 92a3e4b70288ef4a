import {X509Certificate} from 'node:crypto'
import {rootCertificates} from 'node:tls'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {DER_TYPE, oidOf, readDer, stringOf, timeOf} from '../../src/crypto/der.js'
import {generateRsaKey} from '../../src/crypto/keys.js'
import {seededRandom} from '../../src/crypto/random.js'
import {certificateInfo, issueCertificate} from '../../src/crypto/x509.js'
import {BadInputError} from '../../src/errors.js'

const key = generateRsaKey(2048, seededRandom('der-test', 'key'))

const node = (tag: number, content: Buffer) => readDer(Buffer.concat([Buffer.from([tag, content.length]), content]))

test('certificateInfo reads what node:crypto reads, without node-forge', () => {
  const pem = issueCertificate({
    subject: {commonName: 'exp-c1, "east" + lab', organization: 'Zürich Ämter', country: 'ch'},
    subjectKey: key, notBefore: new Date('2025-03-01T12:00:00Z'), days: 3650, isCa: true, serial: Buffer.from('00c0ffee', 'hex'),
  })
  const x = new X509Certificate(pem)
  const info = certificateInfo(pem)
  assert.is(info.fingerprint, x.fingerprint256)
  assert.is(info.serial, x.serialNumber.toUpperCase())
  assert.is(info.notBefore, new Date(x.validFrom).toISOString())
  assert.is(info.notAfter, new Date(x.validTo).toISOString())
  assert.is(info.subject, 'CN=exp-c1\\, \\"east\\" \\+ lab, O=Zürich Ämter, C=CH')
  assert.is(info.issuer, info.subject)
  assert.is(info.signatureHash, 'sha256')
  assert.is(info.isCa, true)
  assert.is(info.keyBits, 2048)
})

test('every root certificate Node ships reads as node:crypto reads it (RSA, EC, every string type)', () => {
  assert.ok(rootCertificates.length > 50)
  for (const pem of rootCertificates) {
    const x = new X509Certificate(pem)
    const info = certificateInfo(pem)
    assert.is(info.fingerprint, x.fingerprint256)
    assert.is(info.serial.replace(/^0+/, ''), x.serialNumber.toUpperCase().replace(/^0+/, ''))
    assert.is(info.notBefore, new Date(x.validFrom).toISOString(), x.subject)
    assert.is(info.notAfter, new Date(x.validTo).toISOString(), x.subject)
    // node:crypto lists the subject's attributes one a line, X.500 order; certificateInfo the RFC 4514 way round
    const cn = /^CN=(.*)$/m.exec(x.subject)?.[1]
    if (cn && !/[,+"\\<>;]/.test(cn)) assert.ok(info.subject.startsWith(`CN=${cn}`) || info.subject.includes(`CN=${cn}`), `${info.subject} / ${cn}`)
  }
  const quoVadis = rootCertificates.find((pem) => new X509Certificate(pem).fingerprint256.startsWith('85:A0:DD:7D'))!
  assert.is(certificateInfo(quoVadis).subject, 'CN=QuoVadis Root CA 2, O=QuoVadis Limited, C=BM')
  assert.is(certificateInfo(quoVadis).signatureHash, 'sha1')
})

test('OIDs, times and strings', () => {
  assert.is(oidOf(Buffer.from('2a864886f70d01010b', 'hex')), '1.2.840.113549.1.1.11')
  assert.is(oidOf(Buffer.from('550403', 'hex')), '2.5.4.3')
  assert.is(timeOf(node(DER_TYPE.UTC_TIME, Buffer.from('491231235959Z'))).toISOString(), '2049-12-31T23:59:59.000Z')
  assert.is(timeOf(node(DER_TYPE.UTC_TIME, Buffer.from('500101000000Z'))).toISOString(), '1950-01-01T00:00:00.000Z')
  assert.is(timeOf(node(DER_TYPE.GENERALIZED_TIME, Buffer.from('20500101120000.5+0100'))).toISOString(), '2050-01-01T11:00:00.500Z')
  assert.is(stringOf(node(DER_TYPE.UTF8, Buffer.from('Zürich'))), 'Zürich')
  assert.is(stringOf(node(DER_TYPE.UTF8, Buffer.from([0xff, 0x41]))), '\u00ffA', 'invalid UTF-8 reads as Latin-1')
  assert.is(stringOf(node(DER_TYPE.BMP_STRING, Buffer.from([0, 0x41, 0x04, 0x14]))), 'A\u0414')
  assert.throws(() => timeOf(node(DER_TYPE.UTC_TIME, Buffer.from('yesterday'))), (e: unknown) => e instanceof BadInputError)
})

test('malformed DER is refused: truncated, indefinite length, trailing bytes, runaway length, deep nesting', () => {
  const bad = [
    Buffer.from([0x30]),
    Buffer.from([0x30, 0x80, 0x00, 0x00]),
    Buffer.from([0x02, 0x01, 0x05, 0x00]),
    Buffer.from([0x04, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff]),
    Buffer.from([0x30, 0x05, 0x02, 0x01]),
    Buffer.from([0x1f, 0x81, 0x01, 0x00]),
    Buffer.concat([...Array.from({length: 70}, (_, i) => Buffer.from([0x30, 2 * (70 - i - 1)]))]),
  ]
  for (const b of bad) assert.throws(() => readDer(b), (e: unknown) => e instanceof BadInputError, b.toString('hex'))
  const seq = readDer(Buffer.from('3006020105020106', 'hex'))
  assert.equal(seq.children.map((c) => c.content[0]), [5, 6])
})

test.run()
