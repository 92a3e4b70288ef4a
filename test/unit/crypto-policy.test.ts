import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {DEFAULT_POLICY, FIPS_POLICY, policyFor} from '../../src/crypto/policy.js'

test('policyFor picks the FIPS policy in FIPS mode', async () => {
  assert.is(policyFor(true), FIPS_POLICY)
  assert.is(policyFor(false), DEFAULT_POLICY)
  assert.is(FIPS_POLICY.name, 'fips')
  assert.is(DEFAULT_POLICY.name, 'default')
})

test('host keys: RSA 3072, ECDSA 256 and Ed25519 by default; no Ed25519 in FIPS mode', async () => {
  assert.equal(DEFAULT_POLICY.sshHostKeys, [{type: 'rsa', bits: 3072}, {type: 'ecdsa', bits: 256}, {type: 'ed25519', bits: 256}])
  assert.equal(FIPS_POLICY.sshHostKeys, [{type: 'rsa', bits: 3072}, {type: 'ecdsa', bits: 256}])
  for (const policy of [DEFAULT_POLICY, FIPS_POLICY]) {
    for (const key of policy.sshHostKeys) assert.ok(policy.allowsSshKey(key), `${policy.name} allows its own ${key.type}`)
  }
})

test('FIPS refuses ed25519, DSA, RSA below 3072 and P-521 ssh keys', async () => {
  assert.not.ok(FIPS_POLICY.allowsSshKey({type: 'ed25519', bits: 256}))
  assert.not.ok(FIPS_POLICY.allowsSshKey({type: 'dsa', bits: 1024}))
  assert.not.ok(FIPS_POLICY.allowsSshKey({type: 'rsa', bits: 2048}))
  assert.not.ok(FIPS_POLICY.allowsSshKey({type: 'ecdsa', bits: 521}))
  assert.ok(FIPS_POLICY.allowsSshKey({type: 'rsa', bits: 3072}))
  assert.ok(FIPS_POLICY.allowsSshKey({type: 'rsa', bits: 4096}))
  assert.ok(FIPS_POLICY.allowsSshKey({type: 'ecdsa', bits: 256}))
  assert.ok(FIPS_POLICY.allowsSshKey({type: 'ecdsa', bits: 384}))
})

test('the default policy allows ed25519 and RSA 2048 but never DSA', async () => {
  assert.ok(DEFAULT_POLICY.allowsSshKey({type: 'ed25519', bits: 256}))
  assert.ok(DEFAULT_POLICY.allowsSshKey({type: 'rsa', bits: 2048}))
  assert.not.ok(DEFAULT_POLICY.allowsSshKey({type: 'rsa', bits: 1024}))
  assert.not.ok(DEFAULT_POLICY.allowsSshKey({type: 'dsa', bits: 1024}))
})

test('server keys: RSA 2048 or more with SHA-256 or stronger signatures', async () => {
  for (const policy of [DEFAULT_POLICY, FIPS_POLICY]) {
    assert.is(policy.serverKeyBits, 2048)
    assert.ok(policy.allowsServerKey({bits: 2048, signatureHash: 'sha256'}))
    assert.ok(policy.allowsServerKey({bits: 4096, signatureHash: 'SHA384'}))
    assert.not.ok(policy.allowsServerKey({bits: 1024, signatureHash: 'sha256'}))
    assert.not.ok(policy.allowsServerKey({bits: 2048, signatureHash: 'sha1'}))
  }
})

test('ciphers, KDF and password hashes are FIPS-approved in both policies', async () => {
  for (const policy of [DEFAULT_POLICY, FIPS_POLICY]) {
    assert.is(policy.cipher, 'aes-256-gcm')
    assert.is(policy.kdf.name, 'pbkdf2')
    assert.is(policy.kdf.hash, 'sha256')
    assert.is(policy.passwordHash, 'sha512-crypt')
    assert.is(policy.signatureHash, 'sha256')
  }
  assert.ok(FIPS_POLICY.kdf.iterations >= DEFAULT_POLICY.kdf.iterations)
  assert.ok(DEFAULT_POLICY.kdf.iterations >= 100_000)
})

test('policies cannot be changed by a caller', async () => {
  assert.throws(() => { (DEFAULT_POLICY.sshHostKeys as unknown[]).push({type: 'dsa', bits: 1024}) })
  assert.throws(() => { (FIPS_POLICY as {name: string}).name = 'default' })
})

test.run()
