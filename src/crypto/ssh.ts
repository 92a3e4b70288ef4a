import {createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject} from 'node:crypto'
import {BadInputError} from '../errors.js'
import type {SshKeyType} from './policy.js'

// OpenSSH key formats, written by hand over node:crypto's JWK exports:
//   public key blob   RFC 4253 6.6 (ssh-rsa), RFC 5656 3.1 (ecdsa-sha2-*), RFC 8709 4 (ssh-ed25519)
//   private key file  openssh-key-v1 (OpenSSH PROTOCOL.key), unencrypted ("none" cipher):
//                     unit files are 0600 and a host key has no passphrase on the appliance.

const MAX_KEY_TEXT = 64 * 1024
const AUTH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1')
const PRIVATE_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----'
const PRIVATE_END = '-----END OPENSSH PRIVATE KEY-----'

const EC_BY_CURVE: Record<string, {ssh: string; name: string; bits: number; bytes: number}> = {
  'P-256': {ssh: 'ecdsa-sha2-nistp256', name: 'nistp256', bits: 256, bytes: 32},
  'P-384': {ssh: 'ecdsa-sha2-nistp384', name: 'nistp384', bits: 384, bytes: 48},
  'P-521': {ssh: 'ecdsa-sha2-nistp521', name: 'nistp521', bits: 521, bytes: 66},
}
const EC_BY_NAME: Record<string, {jwk: string; bits: number; bytes: number}> = {
  nistp256: {jwk: 'P-256', bits: 256, bytes: 32},
  nistp384: {jwk: 'P-384', bits: 384, bytes: 48},
  nistp521: {jwk: 'P-521', bits: 521, bytes: 66},
}

/** An openssh-key-v1 private key file ("-----BEGIN OPENSSH PRIVATE KEY-----"), as ssh-keygen writes it. */
export function openSshPrivateKey(key: KeyObject, comment: string): string {
  if (key.type !== 'private') throw new BadInputError('An OpenSSH private key file needs a private key, and this is a public key.')
  checkComment(comment)
  const publicBlob = publicKeyBlob(key)
  const jwk = key.export({format: 'jwk'})
  const fields: Buffer[] = []
  switch (key.asymmetricKeyType) {
    case 'rsa':
      fields.push(sshString('ssh-rsa'), mpint(jwkBytes(jwk.n)), mpint(jwkBytes(jwk.e)), mpint(jwkBytes(jwk.d)),
        mpint(jwkBytes(jwk.qi)), mpint(jwkBytes(jwk.p)), mpint(jwkBytes(jwk.q)))
      break
    case 'ec': {
      const curve = ecCurve(jwk)
      fields.push(sshString(curve.ssh), sshString(curve.name), sshString(ecPoint(jwk, curve.bytes)), mpint(jwkBytes(jwk.d)))
      break
    }
    case 'ed25519': {
      const publicKey = jwkBytes(jwk.x)
      fields.push(sshString('ssh-ed25519'), sshString(publicKey), sshString(Buffer.concat([jwkBytes(jwk.d), publicKey])))
      break
    }
    default:
      throw unsupported(key)
  }
  // The check integer only lets a reader detect a wrong passphrase; deriving it from the key
  // instead of drawing it at random makes seeded units reproducible byte for byte.
  const checkint = createHash('sha256').update('xway-openssh-checkint\0').update(publicBlob).digest().subarray(0, 4)
  const body = [checkint, checkint, ...fields, sshString(comment)]
  let length = body.reduce((sum, part) => sum + part.length, 0)
  const padding: number[] = []
  for (let byte = 1; length % 8 !== 0; byte++, length++) padding.push(byte)
  body.push(Buffer.from(padding))
  const file = Buffer.concat([
    AUTH_MAGIC,
    sshString('none'), sshString('none'), sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(publicBlob),
    sshString(Buffer.concat(body)),
  ])
  const base64 = file.toString('base64')
  const lines: string[] = []
  for (let i = 0; i < base64.length; i += 70) lines.push(base64.slice(i, i + 70))
  return `${PRIVATE_BEGIN}\n${lines.join('\n')}\n${PRIVATE_END}\n`
}

/** One line, "ssh-ed25519 AAAA… comment\n", as in a .pub file or authorized_keys. */
export function openSshPublicKey(key: KeyObject, comment: string): string {
  checkComment(comment)
  const blob = publicKeyBlob(key)
  return `${sshTypeName(blob)} ${blob.toString('base64')}${comment === '' ? '' : ' ' + comment}\n`
}

/** "SHA256:…", as `ssh-keygen -l` prints it. */
export function openSshFingerprint(key: KeyObject): string {
  return fingerprintOf(publicKeyBlob(key))
}

export interface OpenSshPublicKeyInfo {
  type: SshKeyType
  bits: number
  fingerprint: string
  comment: string
}

/** Reads one public key line (type, base64 blob, optional comment); BadInputError if malformed. */
export function parseOpenSshPublicKey(line: string): OpenSshPublicKeyInfo {
  if (line.length > MAX_KEY_TEXT) throw new BadInputError('The ssh public key is too long to be one.')
  const match = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:[ \t]+([^\r\n]*?))?\s*$/.exec(line)
  if (!match) throw new BadInputError('Not an OpenSSH public key line: expected "<type> <base64> [comment]".')
  const [, typeName, base64, comment = ''] = match
  const blob = Buffer.from(base64, 'base64')
  if (blob.toString('base64') !== base64) throw new BadInputError('The ssh public key is not valid base64.')
  const parsed = parsePublicBlob(blob)
  if (parsed.typeName !== typeName) {
    throw new BadInputError(`The ssh public key says "${typeName}" but its data holds a ${parsed.typeName} key.`)
  }
  return {type: parsed.type, bits: parsed.bits, fingerprint: fingerprintOf(blob), comment}
}

/** Reads an unencrypted openssh-key-v1 file; BadInputError on anything malformed or encrypted. */
export function parseOpenSshPrivateKey(text: string): KeyObject {
  if (text.length > MAX_KEY_TEXT) throw new BadInputError('The ssh private key file is too long to be one.')
  const begin = text.indexOf(PRIVATE_BEGIN)
  const end = text.indexOf(PRIVATE_END)
  if (begin < 0 || end < begin) throw new BadInputError(`Not an OpenSSH private key: no "${PRIVATE_BEGIN}" block.`)
  const base64 = text.slice(begin + PRIVATE_BEGIN.length, end).replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
    throw new BadInputError('The OpenSSH private key is not valid base64.')
  }
  const data = Buffer.from(base64, 'base64')
  try {
    return readPrivateKeyFile(data)
  } catch (error) {
    if (error instanceof BadInputError) throw error
    throw new BadInputError('The OpenSSH private key is malformed.', {cause: error})
  }
}

/**
 * Whether the public key line is the public half of the private key file (comments
 * ignored). False, not an error, when either is malformed: a broken pair does not match.
 */
export function sshKeyPairMatches(privateText: string, publicLine: string): boolean {
  try {
    const key = parseOpenSshPrivateKey(privateText)
    const match = /^\s*(\S+)\s+([A-Za-z0-9+/]+={0,2})/.exec(publicLine)
    if (!match) return false
    parseOpenSshPublicKey(publicLine)
    return Buffer.from(match[2], 'base64').equals(publicKeyBlob(key))
  } catch {
    return false
  }
}

// ---- writing ----

function publicKeyBlob(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  if (publicKey.type !== 'public') throw new BadInputError('A symmetric key is not an ssh key.')
  const jwk = publicKey.export({format: 'jwk'})
  switch (publicKey.asymmetricKeyType) {
    case 'rsa':
      return Buffer.concat([sshString('ssh-rsa'), mpint(jwkBytes(jwk.e)), mpint(jwkBytes(jwk.n))])
    case 'ec': {
      const curve = ecCurve(jwk)
      return Buffer.concat([sshString(curve.ssh), sshString(curve.name), sshString(ecPoint(jwk, curve.bytes))])
    }
    case 'ed25519':
      return Buffer.concat([sshString('ssh-ed25519'), sshString(jwkBytes(jwk.x))])
    default:
      throw unsupported(publicKey)
  }
}

function sshTypeName(blob: Buffer): string {
  return new Reader(blob).string().toString('latin1')
}

function ecCurve(jwk: JsonWebKey): {ssh: string; name: string; bytes: number} {
  const curve = EC_BY_CURVE[jwk.crv ?? '']
  if (curve === undefined) throw new BadInputError(`ECDSA curve ${jwk.crv} has no OpenSSH key type: use P-256 or P-384.`)
  return curve
}

function ecPoint(jwk: JsonWebKey, bytes: number): Buffer {
  return Buffer.concat([Buffer.from([4]), padTo(jwkBytes(jwk.x), bytes), padTo(jwkBytes(jwk.y), bytes)])
}

function unsupported(key: KeyObject): BadInputError {
  return new BadInputError(`Unsupported ssh key type ${key.asymmetricKeyType}: xway writes RSA, ECDSA and Ed25519 ssh keys.`)
}

function checkComment(comment: string): void {
  if (/[\r\n\0]/.test(comment)) throw new BadInputError('An ssh key comment must be one line.')
}

function jwkBytes(value: string | undefined): Buffer {
  if (value === undefined) throw new BadInputError('The key lacks a component OpenSSH needs.')
  return Buffer.from(value, 'base64url')
}

function padTo(bytes: Buffer, length: number): Buffer {
  if (bytes.length >= length) return bytes
  return Buffer.concat([Buffer.alloc(length - bytes.length), bytes])
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(value)
  return out
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
  return Buffer.concat([uint32(bytes.length), bytes])
}

/** RFC 4251 mpint of a non-negative big-endian magnitude: minimal, with a 0 byte when the top bit is set. */
function mpint(magnitude: Buffer): Buffer {
  let start = 0
  while (start < magnitude.length && magnitude[start] === 0) start++
  let bytes = magnitude.subarray(start)
  if (bytes.length > 0 && bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return sshString(bytes)
}

function fingerprintOf(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')
}

// ---- reading ----

class Reader {
  private offset = 0
  constructor(private readonly data: Buffer, private readonly what = 'ssh key') {}

  uint32(): number {
    if (this.offset + 4 > this.data.length) throw this.truncated()
    const value = this.data.readUInt32BE(this.offset)
    this.offset += 4
    return value
  }

  string(): Buffer {
    const length = this.uint32()
    if (length > this.data.length - this.offset) throw this.truncated()
    const value = this.data.subarray(this.offset, this.offset + length)
    this.offset += length
    return value
  }

  text(): string {
    return this.string().toString('utf8')
  }

  /** A non-negative mpint, as its minimal big-endian magnitude. */
  mpint(): Buffer {
    const value = this.string()
    if (value.length > 0 && value[0] & 0x80) throw new BadInputError(`The ${this.what} holds a negative number.`)
    let start = 0
    while (start < value.length && value[start] === 0) start++
    return value.subarray(start)
  }

  get remaining(): number {
    return this.data.length - this.offset
  }

  rest(): Buffer {
    const value = this.data.subarray(this.offset)
    this.offset = this.data.length
    return value
  }

  end(): void {
    if (this.remaining !== 0) throw new BadInputError(`The ${this.what} has trailing data.`)
  }

  private truncated(): BadInputError {
    return new BadInputError(`The ${this.what} is truncated.`)
  }
}

interface ParsedPublic {
  typeName: string
  type: SshKeyType
  bits: number
}

function parsePublicBlob(blob: Buffer): ParsedPublic {
  const reader = new Reader(blob, 'ssh public key')
  const typeName = reader.text()
  let parsed: ParsedPublic
  switch (typeName) {
    case 'ssh-rsa': {
      const e = reader.mpint()
      const n = reader.mpint()
      if (e.length === 0 || n.length === 0) throw new BadInputError('The ssh-rsa public key has an empty exponent or modulus.')
      parsed = {typeName, type: 'rsa', bits: bitLength(n)}
      break
    }
    case 'ssh-dss': {
      const p = reader.mpint()
      reader.mpint() // q
      reader.mpint() // g
      reader.mpint() // y
      parsed = {typeName, type: 'dsa', bits: bitLength(p)}
      break
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const name = reader.text()
      const curve = EC_BY_NAME[name]
      if (curve === undefined || `ecdsa-sha2-${name}` !== typeName) {
        throw new BadInputError(`The ${typeName} public key names curve "${name}".`)
      }
      const point = reader.string()
      if (point.length !== 1 + 2 * curve.bytes || point[0] !== 4) {
        throw new BadInputError(`The ${typeName} public key holds no uncompressed ${name} point.`)
      }
      parsed = {typeName, type: 'ecdsa', bits: curve.bits}
      break
    }
    case 'ssh-ed25519': {
      if (reader.string().length !== 32) throw new BadInputError('The ssh-ed25519 public key is not 32 bytes.')
      parsed = {typeName, type: 'ed25519', bits: 256}
      break
    }
    default:
      throw new BadInputError(`Unsupported ssh key type "${typeName.slice(0, 40)}": xway reads ssh-rsa, ecdsa-sha2-nistp256/384/521, ssh-ed25519 and ssh-dss.`)
  }
  reader.end()
  return parsed
}

function readPrivateKeyFile(data: Buffer): KeyObject {
  if (data.length < AUTH_MAGIC.length || !data.subarray(0, AUTH_MAGIC.length).equals(AUTH_MAGIC)) {
    throw new BadInputError('Not an openssh-key-v1 private key.')
  }
  const file = new Reader(data.subarray(AUTH_MAGIC.length), 'OpenSSH private key')
  const cipher = file.text()
  const kdf = file.text()
  file.string() // kdf options
  if (cipher !== 'none' || kdf !== 'none') {
    throw new BadInputError(`The OpenSSH private key is encrypted (${cipher}): remove its passphrase first (ssh-keygen -p -N '' -f FILE).`)
  }
  const count = file.uint32()
  if (count !== 1) throw new BadInputError(`The OpenSSH private key file holds ${count} keys; xway reads files of one key.`)
  const publicBlob = file.string()
  const section = file.string()
  file.end()
  parsePublicBlob(publicBlob)
  if (section.length % 8 !== 0) throw new BadInputError('The OpenSSH private key section is not padded to its block size.')

  const reader = new Reader(section, 'OpenSSH private key')
  if (reader.uint32() !== reader.uint32()) throw new BadInputError('The OpenSSH private key check integers differ.')
  const typeName = reader.text()
  let jwk: JsonWebKey
  switch (typeName) {
    case 'ssh-rsa': {
      const n = reader.mpint()
      const e = reader.mpint()
      const d = reader.mpint()
      const qi = reader.mpint()
      const p = reader.mpint()
      const q = reader.mpint()
      const [bd, bp, bq] = [toBigInt(d), toBigInt(p), toBigInt(q)]
      if (bp < 3n || bq < 3n || bd === 0n || toBigInt(n) !== bp * bq) {
        throw new BadInputError('The ssh-rsa private key is inconsistent (n is not p·q).')
      }
      jwk = {
        kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q),
        dp: b64uBig(bd % (bp - 1n)), dq: b64uBig(bd % (bq - 1n)), qi: b64u(qi),
      }
      break
    }
    case 'ecdsa-sha2-nistp256':
    case 'ecdsa-sha2-nistp384':
    case 'ecdsa-sha2-nistp521': {
      const name = reader.text()
      const curve = EC_BY_NAME[name]
      if (curve === undefined || `ecdsa-sha2-${name}` !== typeName) throw new BadInputError(`The ${typeName} private key names curve "${name}".`)
      const point = reader.string()
      const d = reader.mpint()
      if (point.length !== 1 + 2 * curve.bytes || point[0] !== 4 || d.length > curve.bytes) {
        throw new BadInputError(`The ${typeName} private key is malformed.`)
      }
      jwk = {
        kty: 'EC', crv: curve.jwk,
        x: point.subarray(1, 1 + curve.bytes).toString('base64url'),
        y: point.subarray(1 + curve.bytes).toString('base64url'),
        d: padTo(d, curve.bytes).toString('base64url'),
      }
      break
    }
    case 'ssh-ed25519': {
      const publicKey = reader.string()
      const secret = reader.string()
      if (publicKey.length !== 32 || secret.length !== 64 || !secret.subarray(32).equals(publicKey)) {
        throw new BadInputError('The ssh-ed25519 private key is malformed.')
      }
      jwk = {kty: 'OKP', crv: 'Ed25519', x: publicKey.toString('base64url'), d: secret.subarray(0, 32).toString('base64url')}
      break
    }
    case 'ssh-dss':
      throw new BadInputError('DSA ssh keys are not supported (OpenSSH removed them): generate an ECDSA or RSA key instead.')
    default:
      throw new BadInputError(`Unsupported ssh key type "${typeName.slice(0, 40)}" in the private key file.`)
  }
  reader.text() // comment
  const padding = reader.rest()
  if (padding.length >= 8 || padding.some((byte, i) => byte !== i + 1)) {
    throw new BadInputError('The OpenSSH private key padding is malformed.')
  }

  let key: KeyObject
  try {
    key = createPrivateKey({key: jwk, format: 'jwk'})
  } catch (error) {
    throw new BadInputError(`The ${typeName} private key is invalid.`, {cause: error})
  }
  if (!publicKeyBlob(key).equals(publicBlob)) {
    throw new BadInputError('The OpenSSH private key does not match the public key stored with it.')
  }
  if (typeName === 'ssh-rsa') {
    // n = p·q was checked; a wrong d or qi only shows when the key is used.
    const probe = Buffer.from('xway ssh-rsa key check')
    let good = false
    try {
      good = verify('sha256', probe, createPublicKey(key), sign('sha256', probe, key))
    } catch {
      good = false
    }
    if (!good) throw new BadInputError('The ssh-rsa private key is inconsistent (its private exponent does not match).')
  }
  return key
}

function toBigInt(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytes.toString('hex'))
}

function bitLength(magnitude: Buffer): number {
  if (magnitude.length === 0) return 0
  return (magnitude.length - 1) * 8 + (32 - Math.clz32(magnitude[0]))
}

function b64u(bytes: Buffer): string {
  return bytes.toString('base64url')
}

function b64uBig(value: bigint): string {
  let hex = value.toString(16)
  if (hex.length % 2) hex = '0' + hex
  return Buffer.from(hex, 'hex').toString('base64url')
}
