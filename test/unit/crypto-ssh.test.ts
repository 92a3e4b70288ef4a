import {execFileSync, spawnSync} from 'node:child_process'
import {createHash, createPublicKey, type KeyObject} from 'node:crypto'
import {chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError} from '../../src/errors.js'
import {generateEcdsaKey, generateEd25519Key, generateRsaKey, privateKeyPem, publicKeyPem} from '../../src/crypto/keys.js'
import {FIPS_POLICY} from '../../src/crypto/policy.js'
import {seededRandom} from '../../src/crypto/random.js'
import {
  openSshFingerprint, openSshPrivateKey, openSshPublicKey, parseOpenSshPrivateKey, parseOpenSshPublicKey, sshKeyPairMatches,
} from '../../src/crypto/ssh.js'

const KEYS: Array<{name: string; key: KeyObject; type: string; bits: number}> = [
  {name: 'rsa', key: generateRsaKey(3072, seededRandom('ssh-test', 'rsa')), type: 'rsa', bits: 3072},
  {name: 'ecdsa', key: generateEcdsaKey('P-256', seededRandom('ssh-test', 'ecdsa')), type: 'ecdsa', bits: 256},
  {name: 'ecdsa384', key: generateEcdsaKey('P-384', seededRandom('ssh-test', 'ecdsa384')), type: 'ecdsa', bits: 384},
  {name: 'ed25519', key: generateEd25519Key(seededRandom('ssh-test', 'ed25519')), type: 'ed25519', bits: 256},
]
const COMMENT = 'root@exp-c1'
const HAS_SSH_KEYGEN = spawnSync('ssh-keygen', ['-?'], {stdio: 'ignore'}).error === undefined

function isBadInput(error: unknown): boolean {
  return error instanceof BadInputError
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value
  const length = Buffer.alloc(4)
  length.writeUInt32BE(bytes.length)
  return Buffer.concat([length, bytes])
}

function unarmor(text: string): Buffer {
  return Buffer.from(text.split('\n').filter((line) => line && !line.startsWith('-----')).join(''), 'base64')
}

function armor(data: Buffer): string {
  const base64 = data.toString('base64').replace(/(.{70})/g, '$1\n').replace(/\n$/, '')
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${base64}\n-----END OPENSSH PRIVATE KEY-----\n`
}

test('private key files round-trip for RSA, ECDSA P-256/P-384 and Ed25519', async () => {
  for (const {name, key} of KEYS) {
    const text = openSshPrivateKey(key, COMMENT)
    const parsed = parseOpenSshPrivateKey(text)
    assert.is(privateKeyPem(parsed), privateKeyPem(key), name)
    assert.is(openSshPrivateKey(parsed, COMMENT), text, `${name}: writing is deterministic`)
  }
})

test('private key files look like ssh-keygen\'s: armor, 70-column base64, trailing newline', async () => {
  for (const {name, key} of KEYS) {
    const text = openSshPrivateKey(key, COMMENT)
    assert.ok(text.startsWith('-----BEGIN OPENSSH PRIVATE KEY-----\n'), name)
    assert.ok(text.endsWith('\n-----END OPENSSH PRIVATE KEY-----\n'), name)
    const lines = text.trim().split('\n').slice(1, -1)
    assert.ok(lines.slice(0, -1).every((line) => line.length === 70), name)
    assert.ok(lines[lines.length - 1].length <= 70, name)
    assert.ok(unarmor(text).subarray(0, 15).equals(Buffer.from('openssh-key-v1\0')), name)
  }
})

test('public key lines carry type, bits, comment and the ssh-keygen fingerprint', async () => {
  for (const {name, key, type, bits} of KEYS) {
    const line = openSshPublicKey(key, COMMENT)
    assert.match(line, /^(ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ssh-ed25519) AAAA[A-Za-z0-9+/]+=* root@exp-c1\n$/)
    const blob = Buffer.from(line.split(' ')[1], 'base64')
    const fingerprint = 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
    assert.equal(parseOpenSshPublicKey(line), {type: type as 'rsa', bits, fingerprint, comment: COMMENT}, name)
    assert.is(openSshFingerprint(key), fingerprint)
    assert.is(openSshPublicKey(createPublicKey(key), COMMENT), line, `${name}: public KeyObject gives the same line`)
  }
  assert.is(openSshPublicKey(KEYS[3].key, ''), openSshPublicKey(KEYS[3].key, COMMENT).replace(' root@exp-c1', ''))
})

test('reads DSA public keys, so that FIPS mode can find and refuse them', async () => {
  const p = Buffer.concat([Buffer.from([0, 0x80]), Buffer.alloc(127, 7)])
  const blob = Buffer.concat([sshString('ssh-dss'), sshString(p), sshString(Buffer.alloc(20, 1)), sshString(Buffer.from([2])), sshString(Buffer.from([3]))])
  const info = parseOpenSshPublicKey(`ssh-dss ${blob.toString('base64')} old@host`)
  assert.is(info.type, 'dsa')
  assert.is(info.bits, 1024)
  assert.not.ok(FIPS_POLICY.allowsSshKey(info))
})

test('FIPS policy refuses an ed25519 key and an RSA 2048 key read from their public lines', async () => {
  const ed25519 = parseOpenSshPublicKey(openSshPublicKey(KEYS[3].key, ''))
  const rsa2048 = parseOpenSshPublicKey(openSshPublicKey(generateRsaKey(2048, seededRandom('ssh-test', 'rsa2048')), ''))
  assert.is(rsa2048.bits, 2048)
  assert.not.ok(FIPS_POLICY.allowsSshKey(ed25519))
  assert.not.ok(FIPS_POLICY.allowsSshKey(rsa2048))
  assert.ok(FIPS_POLICY.allowsSshKey(parseOpenSshPublicKey(openSshPublicKey(KEYS[0].key, ''))))
  assert.ok(FIPS_POLICY.allowsSshKey(parseOpenSshPublicKey(openSshPublicKey(KEYS[1].key, ''))))
})

test('refuses malformed public key lines with BadInputError', async () => {
  const good = openSshPublicKey(KEYS[3].key, 'c')
  const [type, base64] = good.split(' ')
  const bad = [
    '', 'ssh-ed25519', `ssh-rsa ${base64}`, `${type} ${base64.slice(0, -4)}`, `${type} ${base64}!`,
    `ssh-foo ${Buffer.concat([sshString('ssh-foo'), sshString('x')]).toString('base64')}`,
    `${type} ${Buffer.concat([unarmor(`x\n${base64}\n`), Buffer.from([0])]).toString('base64')}`,
    good + good,
  ]
  for (const line of bad) assert.throws(() => parseOpenSshPublicKey(line), isBadInput, JSON.stringify(line))
})

test('sshKeyPairMatches: true for a pair, false for another key or garbage', async () => {
  const privateText = openSshPrivateKey(KEYS[1].key, COMMENT)
  assert.ok(sshKeyPairMatches(privateText, openSshPublicKey(KEYS[1].key, 'another comment')))
  assert.not.ok(sshKeyPairMatches(privateText, openSshPublicKey(KEYS[2].key, COMMENT)))
  assert.not.ok(sshKeyPairMatches(privateText, 'not a key'))
  assert.not.ok(sshKeyPairMatches('not a key', openSshPublicKey(KEYS[1].key, COMMENT)))
})

test('refuses malformed, encrypted or inconsistent private key files with BadInputError', async () => {
  const text = openSshPrivateKey(KEYS[3].key, COMMENT)
  const data = unarmor(text)
  const publicLength = data.readUInt32BE(39)
  const checkint = 39 + 4 + publicLength + 4
  const otherPublic = unarmor(openSshPrivateKey(KEYS[1].key, COMMENT))
  const otherPublicBlob = otherPublic.subarray(43, 43 + otherPublic.readUInt32BE(39))

  const wrongCheck = Buffer.from(data)
  wrongCheck[checkint + 4] ^= 1
  const badPadding = Buffer.from(data)
  badPadding[badPadding.length - 1] ^= 0x40
  const encrypted = Buffer.concat([data.subarray(0, 15), sshString('aes256-ctr'), sshString('bcrypt'), sshString(Buffer.alloc(24)), data.subarray(35)])
  const swappedPublic = Buffer.concat([data.subarray(0, 39), sshString(otherPublicBlob), data.subarray(43 + publicLength)])

  const cases: Array<[string, string]> = [
    ['no armor', 'hello'],
    ['a PKCS#8 PEM', privateKeyPem(KEYS[3].key)],
    ['truncated', armor(data.subarray(0, data.length - 9))],
    ['bad base64', text.replace(/\n[A-Za-z]/, '\n*')],
    ['check integers differ', armor(wrongCheck)],
    ['bad padding', armor(badPadding)],
    ['encrypted', armor(encrypted)],
    ['public key of another key', armor(swappedPublic)],
  ]
  for (const [name, input] of cases) assert.throws(() => parseOpenSshPrivateKey(input), isBadInput, name)
  try {
    parseOpenSshPrivateKey(armor(encrypted))
  } catch (error) {
    assert.match((error as Error).message, /encrypted/)
  }
})

test('an RSA key file whose private exponent was tampered with is refused', async () => {
  const data = unarmor(openSshPrivateKey(generateRsaKey(1024, seededRandom('ssh-test', 'rsa1024')), ''))
  // The section holds n, e, d in this order after the type: flip a byte in the middle of d.
  const publicLength = data.readUInt32BE(39)
  let offset = 39 + 4 + publicLength + 4 + 8
  const skip = (): number => { const length = data.readUInt32BE(offset); const start = offset + 4; offset = start + length; return start }
  skip() // type
  skip() // n
  skip() // e
  const d = skip()
  const tampered = Buffer.from(data)
  tampered[d + 40] ^= 0x10
  assert.throws(() => parseOpenSshPrivateKey(armor(tampered)), isBadInput)
})

test('any single corrupted byte gives a key or BadInputError, never another error', async () => {
  const data = unarmor(openSshPrivateKey(KEYS[3].key, COMMENT))
  for (let i = 0; i < data.length; i++) {
    const corrupted = Buffer.from(data)
    corrupted[i] ^= 0xa5
    try {
      parseOpenSshPrivateKey(armor(corrupted))
    } catch (error) {
      assert.ok(error instanceof BadInputError, `byte ${i}: ${(error as Error).message}`)
    }
  }
})

const withSshKeygen = HAS_SSH_KEYGEN ? test : test.skip

withSshKeygen('ssh-keygen -y recovers our public key from our private key file, and -l prints our fingerprint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xway-ssh-'))
  try {
    for (const {name, key, bits} of KEYS) {
      const file = join(dir, name)
      writeFileSync(file, openSshPrivateKey(key, COMMENT), {mode: 0o600})
      chmodSync(file, 0o600)
      writeFileSync(file + '.pub', openSshPublicKey(key, COMMENT))
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], {encoding: 'utf8'})
      assert.is(derived.split(' ').slice(0, 2).join(' ').trim(), openSshPublicKey(key, COMMENT).split(' ').slice(0, 2).join(' '), name)
      const info = parseOpenSshPublicKey(openSshPublicKey(key, COMMENT))
      for (const target of [file, file + '.pub']) {
        const [printedBits, fingerprint] = execFileSync('ssh-keygen', ['-l', '-f', target], {encoding: 'utf8'}).split(' ')
        assert.is(fingerprint, info.fingerprint, `${name}: ssh-keygen -lf ${target}`)
        assert.is(Number(printedBits), bits, name)
      }
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

withSshKeygen('reads private keys written by ssh-keygen', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xway-ssh-'))
  try {
    for (const args of [['-t', 'ed25519'], ['-t', 'ecdsa', '-b', '384'], ['-t', 'rsa', '-b', '1024']]) {
      const file = join(dir, args[1] + (args[3] ?? ''))
      execFileSync('ssh-keygen', [...args, '-N', '', '-C', 'made by ssh-keygen', '-q', '-f', file], {stdio: 'ignore'})
      const privateText = readFileSync(file, 'utf8')
      const publicLine = readFileSync(file + '.pub', 'utf8')
      const key = parseOpenSshPrivateKey(privateText)
      assert.is(openSshPublicKey(key, 'made by ssh-keygen'), publicLine, args.join(' '))
      assert.ok(sshKeyPairMatches(privateText, publicLine))
      assert.is(publicKeyPem(parseOpenSshPrivateKey(openSshPrivateKey(key, 'x'))), publicKeyPem(key))
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test.run()
