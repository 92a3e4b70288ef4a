import {createPublicKey, sign, verify} from 'node:crypto'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError} from '../../src/errors.js'
import {
  generateEcdsaKey, generateEd25519Key, generateRsaKey, keyDescription, privateKeyPem, publicKeyPem,
} from '../../src/crypto/keys.js'
import {seededRandom, type RandomSource} from '../../src/crypto/random.js'

const message = Buffer.from('xway')

function works(key: ReturnType<typeof generateRsaKey>): boolean {
  const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256'
  return verify(algorithm, message, createPublicKey(key), sign(algorithm, message, key))
}

test('a seeded RSA-3072 key is the same for the same seed', async () => {
  const a = generateRsaKey(3072, seededRandom('unit-1', 'ssh-rsa'))
  const b = generateRsaKey(3072, seededRandom('unit-1', 'ssh-rsa'))
  assert.is(privateKeyPem(a), privateKeyPem(b))
  assert.equal(keyDescription(a), {type: 'rsa', bits: 3072})
  assert.is(a.asymmetricKeyDetails?.publicExponent, 65537n)
  assert.ok(works(a))
})

test('seeded RSA keys differ across seeds and labels, and each is a working key', async () => {
  const keys = [
    generateRsaKey(2048, seededRandom('unit-1', 'server')),
    generateRsaKey(2048, seededRandom('unit-2', 'server')),
    generateRsaKey(2048, seededRandom('unit-1', 'agent')),
  ]
  assert.is(new Set(keys.map(publicKeyPem)).size, 3)
  for (const key of keys) {
    assert.equal(keyDescription(key), {type: 'rsa', bits: 2048})
    assert.ok(works(key))
  }
})

test('odd RSA sizes still give a modulus of exactly that many bits', async () => {
  assert.equal(keyDescription(generateRsaKey(1025, seededRandom('odd', 'rsa'))), {type: 'rsa', bits: 1025})
})

test('unseeded RSA comes from node:crypto and differs every time', async () => {
  const a = generateRsaKey(1024)
  const b = generateRsaKey(1024)
  assert.is.not(publicKeyPem(a), publicKeyPem(b))
  assert.equal(keyDescription(a), {type: 'rsa', bits: 1024})
})

test('refuses RSA sizes outside 1024..16384', async () => {
  assert.throws(() => generateRsaKey(512), (e: unknown) => e instanceof BadInputError)
  assert.throws(() => generateRsaKey(2048.5), (e: unknown) => e instanceof BadInputError)
})

test('seeded ECDSA keys are reproducible per seed, on P-256 and P-384', async () => {
  for (const [curve, bits] of [['P-256', 256], ['P-384', 384]] as const) {
    const a = generateEcdsaKey(curve, seededRandom('unit-1', 'ssh-ecdsa'))
    const b = generateEcdsaKey(curve, seededRandom('unit-1', 'ssh-ecdsa'))
    const c = generateEcdsaKey(curve, seededRandom('unit-2', 'ssh-ecdsa'))
    assert.is(privateKeyPem(a), privateKeyPem(b))
    assert.is.not(privateKeyPem(a), privateKeyPem(c))
    assert.equal(keyDescription(a), {type: 'ecdsa', bits})
    assert.ok(works(a))
  }
  assert.equal(keyDescription(generateEcdsaKey('P-256')), {type: 'ecdsa', bits: 256})
})

test('an all-zero or all-ones stream still gives a valid ECDSA scalar', async () => {
  const constant = (byte: number): RandomSource => ({bytes: (n) => Buffer.alloc(n, byte)})
  assert.ok(works(generateEcdsaKey('P-256', constant(0))))
  assert.ok(works(generateEcdsaKey('P-384', constant(0xff))))
})

test('a seeded Ed25519 key is the seed bytes themselves (RFC 8032 test 1)', async () => {
  const secret = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')
  const key = generateEd25519Key({bytes: (n) => secret.subarray(0, n)})
  const publicRaw = createPublicKey(key).export({format: 'jwk'}).x
  assert.is(Buffer.from(publicRaw!, 'base64url').toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
  assert.equal(keyDescription(key), {type: 'ed25519', bits: 256})
  const a = generateEd25519Key(seededRandom('unit-1', 'ssh-ed25519'))
  assert.is(privateKeyPem(a), privateKeyPem(generateEd25519Key(seededRandom('unit-1', 'ssh-ed25519'))))
  assert.is.not(privateKeyPem(a), privateKeyPem(generateEd25519Key(seededRandom('unit-2', 'ssh-ed25519'))))
  assert.ok(works(a))
})

test('PEM exports: PKCS#8 for private keys, SPKI for public halves', async () => {
  const key = generateEd25519Key(seededRandom('pem', 'k'))
  assert.match(privateKeyPem(key), /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
  assert.match(publicKeyPem(key), /^-----BEGIN PUBLIC KEY-----\n/)
  assert.is(publicKeyPem(createPublicKey(key)), publicKeyPem(key))
  assert.throws(() => privateKeyPem(createPublicKey(key)), (e: unknown) => e instanceof BadInputError)
})

test.run()
