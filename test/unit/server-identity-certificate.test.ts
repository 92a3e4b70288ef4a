import {spawnSync} from 'node:child_process'
import {generateKeyPairSync, randomBytes, X509Certificate} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {issueCertificate} from '../../src/crypto/x509.js'
import {identityOfCertificate} from '../../src/licensing/transport-security.js'
import {splitPemBundle} from '../../src/crypto/x509.js'
import {identityAuthority, identityIssuer, issueIdentityCertificate} from '../../src/server/identity-certificate.js'

// The server's direct builder of identity certificates makes exactly the bytes that
// crypto/x509.ts (node-forge) makes for the same input, over varied names, serials and dates.

const ca = generateKeyPairSync('rsa', {modulusLength: 2048})
const caPem = issueCertificate({subject: {commonName: 'xway lab license server CA', organization: 'xway lab'}, subjectKey: ca.privateKey, notBefore: new Date(Date.now() - 86_400_000), days: 7300, isCa: true})
const issuer = identityIssuer(caPem, ca.privateKey)
const subjects = [generateKeyPairSync('rsa', {modulusLength: 2048}), generateKeyPairSync('rsa', {modulusLength: 3072})]

const cases: Array<{udi: string; org: string; serial: Buffer; notBefore: Date; days: number}> = [
  {udi: 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D', org: 'Acme', serial: Buffer.from('40' + '11'.repeat(15), 'hex'), notBefore: new Date('2026-01-01T00:00:00Z'), days: 3650},
  {udi: 'PID:EXPWY-VE-L-K9,SN:' + 'Z'.repeat(40), org: 'Société Générale & Fils (Zürich) 東京', serial: Buffer.from('7f' + 'ff'.repeat(15), 'hex'), notBefore: new Date('2049-12-31T23:59:59.999Z'), days: 1},
  {udi: 'PID:X,SN:1', org: 'O'.repeat(64), serial: Buffer.from('01', 'hex'), notBefore: new Date('2026-06-15T12:34:56.789Z'), days: 10 * 365},
  {udi: 'PID:EXPWY-VE-S-K9,SN:ABC', org: 'a', serial: Buffer.from('00ff', 'hex'), notBefore: new Date('2051-02-03T04:05:06Z'), days: 30},
]

test('identity certificates are byte for byte those node-forge builds, for varied names, serials, keys and dates', () => {
  for (const [i, c] of cases.entries()) {
    const subjectKey = subjects[i % subjects.length]!.publicKey
    const mine = issueIdentityCertificate(issuer, {commonName: c.udi, organization: c.org, subjectKey, serial: c.serial, notBefore: c.notBefore, days: c.days})
    const forge = issueCertificate({
      subject: {commonName: c.udi, organization: c.org}, subjectKey, issuer: {certPem: caPem, key: ca.privateKey},
      notBefore: c.notBefore, days: c.days, serial: c.serial, extKeyUsage: ['clientAuth'],
    })
    assert.is(mine, forge, `case ${i}`)
  }
  for (let i = 0; i < 20; i++) {
    const serial = randomBytes(16)
    serial[0] = (serial[0]! & 0x7f) | 0x40
    const notBefore = new Date(Date.now() - 86_400_000 + i * 1234)
    const udi = `PID:EXPWY-VE-M-K9,SN:R${i}${'9'.repeat(i)}`
    const mine = issueIdentityCertificate(issuer, {commonName: udi, organization: `Acct ${i}`, subjectKey: subjects[0]!.publicKey, serial, notBefore, days: 3650})
    const forge = issueCertificate({subject: {commonName: udi, organization: `Acct ${i}`}, subjectKey: subjects[0]!.publicKey, issuer: {certPem: caPem, key: ca.privateKey}, notBefore, days: 3650, serial, extKeyUsage: ['clientAuth']})
    assert.is(mine, forge, `random case ${i}`)
  }
})

test('an identity certificate verifies against the lab CA and names its instance for TLS client authentication', () => {
  const pem = issueIdentityCertificate(issuer, {commonName: 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D', organization: 'Acme', subjectKey: subjects[0]!.publicKey, serial: randomBytes(16), notBefore: new Date(), days: 10})
  const cert = new X509Certificate(pem)
  assert.ok(cert.verify(new X509Certificate(caPem).publicKey))
  assert.ok(cert.checkIssued(new X509Certificate(caPem)))
  assert.equal(identityOfCertificate(cert.raw)?.udi, 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D')
})

test('a server process issues through its own ECDSA identity CA, which the lab CA certified; openssl verifies the chain for TLS client use', () => {
  const authority = identityAuthority({caPem, caKey: ca.privateKey}, {notBefore: new Date(Date.now() - 86_400_000), days: 3650})
  const bundle = issueIdentityCertificate(authority, {
    commonName: 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D', organization: 'Acme', subjectKey: subjects[0]!.publicKey, serial: randomBytes(16), notBefore: new Date(Date.now() - 86_400_000), days: 365,
  })
  const [leafPem, intermediatePem, ...rest] = splitPemBundle(bundle)
  assert.equal(rest, [], 'the certificate and the identity CA, no more')
  const leaf = new X509Certificate(leafPem!)
  const intermediate = new X509Certificate(intermediatePem!)
  const root = new X509Certificate(caPem)
  assert.ok(intermediate.ca, 'the identity CA is a CA')
  assert.is(intermediate.publicKey.asymmetricKeyType, 'ec')
  assert.ok(intermediate.checkIssued(root) && intermediate.verify(root.publicKey), 'certified by the lab CA')
  assert.ok(leaf.checkIssued(intermediate) && leaf.verify(intermediate.publicKey), 'the identity certificate is signed by the identity CA')
  assert.not.ok(leaf.verify(root.publicKey))
  assert.equal(identityOfCertificate(leaf.raw)?.udi, 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D')

  const dir = mkdtempSync(join(tmpdir(), 'xway-identity-'))
  try {
    writeFileSync(join(dir, 'ca.pem'), caPem)
    writeFileSync(join(dir, 'intermediate.pem'), intermediatePem!)
    writeFileSync(join(dir, 'leaf.pem'), leafPem!)
    const verify = (purpose: string) => spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), '-untrusted', join(dir, 'intermediate.pem'), '-purpose', purpose, join(dir, 'leaf.pem')], {encoding: 'utf8'})
    const client = verify('sslclient')
    assert.is(client.status, 0, client.stdout + client.stderr)
    assert.match(client.stdout, /leaf\.pem: OK/)
    // for a client only: it cannot pose as a server
    assert.is.not(verify('sslserver').status, 0)
    // and it needs its identity CA: the lab CA alone did not sign it
    const alone = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'leaf.pem')], {encoding: 'utf8'})
    assert.is.not(alone.status, 0)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test.run()
