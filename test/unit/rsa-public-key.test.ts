import {createHash, generateKeyPairSync, X509Certificate} from 'node:crypto'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {rsaPublicKeyFromPem, rsaPublicKeyFromSpki, spkiPem} from '../../src/crypto/rsa-public-key.js'
import {issueCertificate} from '../../src/crypto/x509.js'
import {identityOfCertificate} from '../../src/licensing/transport-security.js'

// The license server reads an agent's RSA public key without OpenSSL's decoders: what it makes
// of a key must be exactly what OpenSSL makes of it, and what OpenSSL would refuse it refuses.

const keys = [2048, 2049, 3072, 4096].map((modulusLength) => generateKeyPairSync('rsa', {modulusLength}).publicKey)

test('the canonical SPKI, PEM, key identifier and size are those node:crypto gives, for several sizes and both PEM forms', () => {
  for (const key of keys) {
    const openssl = {
      pem: key.export({type: 'spki', format: 'pem'}) as string,
      der: key.export({type: 'spki', format: 'der'}),
      pkcs1: key.export({type: 'pkcs1', format: 'der'}),
      bits: key.asymmetricKeyDetails!.modulusLength!,
    }
    const mine = rsaPublicKeyFromPem(openssl.pem)
    assert.is(mine.pem, openssl.pem)
    assert.ok(mine.spki.equals(openssl.der))
    assert.ok(mine.keyId.equals(createHash('sha1').update(openssl.pkcs1).digest()))
    assert.is(mine.bits, openssl.bits)
    // CRLF line ends and a PKCS#1 "RSA PUBLIC KEY" give the same key
    assert.is(rsaPublicKeyFromPem(openssl.pem.replace(/\n/g, '\r\n')).pem, openssl.pem)
    assert.is(rsaPublicKeyFromPem(key.export({type: 'pkcs1', format: 'pem'}) as string).pem, openssl.pem)
    assert.is(spkiPem(openssl.der), openssl.pem)
  }
})

/** DER of an RSA SPKI built by hand from its parts (lengths under 128 bytes are not needed: long form always). */
function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  const n = body.length
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), length, body])
}
const RSA_OID = Buffer.from('2a864886f70d010101', 'hex')
const NULL = Buffer.from([5, 0])
function spki(parts: {oid?: Buffer; params?: Buffer | null; n: Buffer; e: Buffer; unused?: number}): Buffer {
  const algorithm = tlv(0x30, tlv(0x06, parts.oid ?? RSA_OID), ...(parts.params === null ? [] : [parts.params ?? NULL]))
  return tlv(0x30, algorithm, tlv(0x03, Buffer.from([parts.unused ?? 0]), tlv(0x30, tlv(0x02, parts.n), tlv(0x02, parts.e))))
}

test('a key whose encoding is not canonical is read as its canonical SPKI (absent NULL, padded integers)', () => {
  const key = keys[0]!
  const jwk = key.export({format: 'jwk'})
  const n = Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n!, 'base64url')])
  const e = Buffer.from(jwk.e!, 'base64url')
  const expected = key.export({type: 'spki', format: 'pem'}) as string
  assert.is(rsaPublicKeyFromSpki(spki({n, e, params: null})).pem, expected)
  assert.is(rsaPublicKeyFromSpki(spki({n: Buffer.concat([Buffer.from([0, 0]), n]), e: Buffer.concat([Buffer.from([0]), e])})).pem, expected)
})

test('what is not an RSA public key is refused: other algorithms, bad numbers, extra bytes, broken PEM', () => {
  const jwk = keys[0]!.export({format: 'jwk'})
  const n = Buffer.concat([Buffer.from([0]), Buffer.from(jwk.n!, 'base64url')])
  const e = Buffer.from(jwk.e!, 'base64url')
  const refused = (der: Buffer, why: RegExp) => assert.throws(() => rsaPublicKeyFromSpki(der), why)
  refused(spki({n, e, oid: Buffer.from('2a8648ce3d0201', 'hex')}), /not rsaEncryption/)
  refused(spki({n, e, params: tlv(0x02, Buffer.from([1]))}), /NULL parameters/)
  refused(spki({n, e, unused: 3}), /whole bytes/)
  refused(spki({n: Buffer.from(jwk.n!, 'base64url'), e}), /negative/)
  refused(spki({n: Buffer.from([0, 0]), e}), /zero/)
  refused(Buffer.concat([spki({n, e}), Buffer.from([0])]), /Malformed DER/)
  refused(spki({n, e}).subarray(0, 100), /Malformed DER/)
  const ec = generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey
  assert.throws(() => rsaPublicKeyFromPem(ec.export({type: 'spki', format: 'pem'}) as string), /not rsaEncryption/)
  assert.throws(() => rsaPublicKeyFromPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), /Not an RSA public key/)
  assert.throws(() => rsaPublicKeyFromPem('hello'), /not a PEM public key/)
  refused(spki({n, e: Buffer.from([])}), /not an INTEGER/)
})

test('the identity a client certificate speaks for: its UDI and key, as X509Certificate reads them; none without clientAuth or a UDI', () => {
  const ca = generateKeyPairSync('rsa', {modulusLength: 2048})
  const caPem = issueCertificate({subject: {commonName: 'CA', organization: 'xway lab'}, subjectKey: ca.privateKey, notBefore: new Date(Date.now() - 86_400_000), days: 10, isCa: true})
  const issue = (commonName: string, extKeyUsage: Array<'clientAuth' | 'serverAuth'>) => new X509Certificate(issueCertificate({
    subject: {commonName, organization: 'Acme'}, subjectKey: keys[1]!, issuer: {certPem: caPem, key: ca.privateKey}, notBefore: new Date(), days: 1, extKeyUsage,
  }))
  const cert = issue('PID:EXPWY-VE-M-K9,SN:0A1B2C3D', ['clientAuth'])
  assert.equal(identityOfCertificate(cert.raw), {udi: 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D', publicKey: cert.publicKey.export({type: 'spki', format: 'pem'})})
  assert.is(identityOfCertificate(issue('PID:EXPWY-VE-M-K9,SN:0A1B2C3D', ['serverAuth']).raw), null)
  assert.is(identityOfCertificate(issue('not a udi', ['clientAuth']).raw), null)
  assert.is(identityOfCertificate(Buffer.from('not DER')), null)
})

test.run()
