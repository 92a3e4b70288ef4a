// The encrypted backup container (SPEC 4 "Backup and restore"): a streaming, chunked
// AES-256-GCM format keyed by PBKDF2-HMAC-SHA256. docs/backup-format.md describes it byte
// by byte, so that another tool can read a backup without this code.
//
// Why chunked: a single GCM tag at the end would make the reader either buffer the whole
// backup or hand out plaintext before it is authenticated. Chunks of 64 KiB, each sealed
// with its index and a final-flag in the associated data, keep memory flat while
// detecting truncation, reordering, duplication and any changed byte.
import {
  createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, pbkdf2, randomBytes, timingSafeEqual,
} from 'node:crypto'
import {type FileHandle, open, rename, unlink} from 'node:fs/promises'
import {dirname} from 'node:path'
import {performance} from 'node:perf_hooks'
import {type Readable, Transform, type TransformCallback, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {BadInputError, FailedError, UsageError, XwayError} from '../errors.js'

export const BACKUP_FORMAT_VERSION = 1
export const BACKUP_MAGIC = 'XWAYBKUP'
export const KDF_PBKDF2_HMAC_SHA256 = 1
export const CIPHER_AES_256_GCM_CHUNKED = 1
export const SALT_LENGTH = 32
export const NONCE_PREFIX_LENGTH = 8
export const KEY_CHECK_LENGTH = 32
export const TAG_LENGTH = 16
/** magic 8, version 2, kdf 1, cipher 1, iterations 4, chunk size 4, salt 32, nonce prefix 8, key check 32 */
export const HEADER_LENGTH = 92
export const DEFAULT_CHUNK_SIZE = 64 * 1024
export const MIN_CHUNK_SIZE = 16
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024
// Bounds a reader enforces before deriving: a damaged or hostile header must not make
// xway spend minutes in PBKDF2 or allocate gigabytes for one chunk.
export const MIN_ITERATIONS = 1000
export const MAX_ITERATIONS = 10_000_000
/** The chunk counter is the last 32 bits of the GCM nonce. */
export const MAX_CHUNKS = 2 ** 32

const MAGIC = Buffer.from(BACKUP_MAGIC, 'ascii')
const KEY_CHECK_OFFSET = HEADER_LENGTH - KEY_CHECK_LENGTH
const INFO_ENCRYPTION = Buffer.from('xway backup v1 encryption key', 'ascii')
const INFO_KEY_CHECK = Buffer.from('xway backup v1 key check key', 'ascii')

const WRONG_PASSWORD = 'wrong password, or not a backup for this password'
const PASSWORD_ACTIONS = [
  'Check the backup password (--password-file, XWAY_BACKUP_PASSWORD or the prompt).',
  'If the password is right, the backup header is damaged: use another copy of the backup.',
]
const DAMAGED_ACTIONS = ['The backup file is damaged, truncated or was changed after it was written: use another copy of it.']

export interface ContainerOptions {
  /** PBKDF2-HMAC-SHA256 iterations; the caller takes it from its crypto policy (default policy: 200000). */
  iterations: number
  /** Plaintext bytes per chunk, MIN_CHUNK_SIZE..MAX_CHUNK_SIZE (default 64 KiB). */
  chunkSize?: number
  /** Source of the salt and nonce prefix; tests only. A repeating source reuses keys and nonces. */
  random?: (n: number) => Buffer
}

/** How long key derivation took, for the benchmark (SPEC 8): set on both stream directions. */
export interface KdfTiming {
  kdfMs: number
}

export interface BackupHeaderInfo {
  formatVersion: number
  iterations: number
  chunkSize: number
}

export type EncryptStream = Transform & KdfTiming
export type DecryptStream = Transform & KdfTiming & {
  /** The header, once the password has been checked against it. */
  header: BackupHeaderInfo | undefined
}

interface Keys {
  encryption: Buffer
  headerDigest: Buffer
  noncePrefix: Buffer
}

interface ParsedHeader extends BackupHeaderInfo {
  salt: Buffer
  noncePrefix: Buffer
  keyCheck: Buffer
}

// ---------------------------------------------------------------------------------------
// Header

function serializeHeader(iterations: number, chunkSize: number, salt: Buffer, noncePrefix: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH)
  MAGIC.copy(header, 0)
  header.writeUInt16BE(BACKUP_FORMAT_VERSION, 8)
  header.writeUInt8(KDF_PBKDF2_HMAC_SHA256, 10)
  header.writeUInt8(CIPHER_AES_256_GCM_CHUNKED, 11)
  header.writeUInt32BE(iterations, 12)
  header.writeUInt32BE(chunkSize, 16)
  salt.copy(header, 20)
  noncePrefix.copy(header, 52)
  return header
}

/** Checks what can be checked on a prefix of the file: magic, then format version. */
function checkPreamble(prefix: Buffer, atEnd: boolean): void {
  const n = Math.min(prefix.length, MAGIC.length)
  if (!prefix.subarray(0, n).equals(MAGIC.subarray(0, n))) {
    throw new BadInputError(`not an xway backup: the file does not start with ${BACKUP_MAGIC}`, {
      actions: ['Give a file written by `xway backup create` (named …_backup.tar.gz.enc).'],
    })
  }

  if (prefix.length >= 10) {
    const version = prefix.readUInt16BE(8)
    if (version !== BACKUP_FORMAT_VERSION) {
      throw new BadInputError(
        `backup format version ${version} is not supported; this xway reads version ${BACKUP_FORMAT_VERSION}`,
        {actions: ['Use the xway release that wrote this backup, or a newer one.']},
      )
    }
  }

  if (atEnd && prefix.length < HEADER_LENGTH) {
    throw new BadInputError(
      prefix.length === 0
        ? 'not an xway backup: the file is empty'
        : `backup is truncated: it ends inside its ${HEADER_LENGTH}-byte header (${prefix.length} bytes)`,
      {actions: DAMAGED_ACTIONS},
    )
  }
}

function parseHeader(header: Buffer): ParsedHeader {
  checkPreamble(header, true)
  const kdf = header.readUInt8(10)
  if (kdf !== KDF_PBKDF2_HMAC_SHA256) {
    throw new BadInputError(
      `backup header names key derivation ${kdf}; this xway knows only ${KDF_PBKDF2_HMAC_SHA256} (PBKDF2-HMAC-SHA256): the header is damaged`,
      {actions: DAMAGED_ACTIONS},
    )
  }

  const cipher = header.readUInt8(11)
  if (cipher !== CIPHER_AES_256_GCM_CHUNKED) {
    throw new BadInputError(
      `backup header names cipher ${cipher}; this xway knows only ${CIPHER_AES_256_GCM_CHUNKED} (chunked AES-256-GCM): the header is damaged`,
      {actions: DAMAGED_ACTIONS},
    )
  }

  const iterations = header.readUInt32BE(12)
  if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new BadInputError(
      `backup header is damaged: its PBKDF2 iteration count ${iterations} is outside ${MIN_ITERATIONS}..${MAX_ITERATIONS}`,
      {actions: DAMAGED_ACTIONS},
    )
  }

  const chunkSize = header.readUInt32BE(16)
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new BadInputError(
      `backup header is damaged: its chunk size ${chunkSize} is outside ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`,
      {actions: DAMAGED_ACTIONS},
    )
  }

  return {
    formatVersion: BACKUP_FORMAT_VERSION,
    iterations,
    chunkSize,
    salt: Buffer.from(header.subarray(20, 20 + SALT_LENGTH)),
    noncePrefix: Buffer.from(header.subarray(52, 52 + NONCE_PREFIX_LENGTH)),
    keyCheck: Buffer.from(header.subarray(KEY_CHECK_OFFSET, HEADER_LENGTH)),
  }
}

// ---------------------------------------------------------------------------------------
// Keys

function passwordBytes(password: string): Buffer {
  if (typeof password !== 'string' || password.length === 0) {
    throw new UsageError('the backup password is empty', {
      actions: ['Give a password with --password-file, XWAY_BACKUP_PASSWORD or at the prompt.'],
    })
  }

  // NFC, so that the same password typed on another system derives the same key.
  return Buffer.from(password.normalize('NFC'), 'utf8')
}

async function deriveMasterKey(password: Buffer, salt: Buffer, iterations: number): Promise<{master: Buffer; kdfMs: number}> {
  const started = performance.now()
  const master = await new Promise<Buffer>((resolve, reject) => {
    pbkdf2(password, salt, iterations, 32, 'sha256', (error, key) => (error ? reject(error) : resolve(key)))
  })
  return {master, kdfMs: performance.now() - started}
}

function subKey(master: Buffer, info: Buffer): Buffer {
  // HKDF-SHA256 with an empty salt: the master key is already salted by PBKDF2.
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), info, 32))
}

function keyCheckValue(master: Buffer, headerWithoutCheck: Buffer): Buffer {
  return createHmac('sha256', subKey(master, INFO_KEY_CHECK)).update(headerWithoutCheck).digest()
}

function nonceFor(prefix: Buffer, index: number): Buffer {
  const nonce = Buffer.alloc(12)
  prefix.copy(nonce, 0)
  nonce.writeUInt32BE(index, 8)
  return nonce
}

function aadFor(headerDigest: Buffer, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(headerDigest.length + 5)
  headerDigest.copy(aad, 0)
  aad.writeUInt32BE(index, headerDigest.length)
  aad.writeUInt8(final ? 1 : 0, headerDigest.length + 4)
  return aad
}

// ---------------------------------------------------------------------------------------
// A queue of buffers that hands out exact byte counts without re-concatenating the whole.

class ByteQueue {
  private parts: Buffer[] = []
  length = 0

  push(buffer: Buffer): void {
    if (buffer.length === 0) return
    this.parts.push(buffer)
    this.length += buffer.length
  }

  peek(n: number): Buffer {
    return this.copyOut(Math.min(n, this.length), false)
  }

  take(n: number): Buffer {
    return this.copyOut(n, true)
  }

  private copyOut(n: number, consume: boolean): Buffer {
    if (n > this.length) throw new Error(`ByteQueue: ${n} bytes asked, ${this.length} held`)
    const first = this.parts[0]
    if (consume && first !== undefined && first.length === n) {
      this.parts.shift()
      this.length -= n
      return first
    }

    const out = Buffer.allocUnsafe(n)
    let copied = 0
    let i = 0
    while (copied < n) {
      const part = this.parts[i]
      const wanted = Math.min(part.length, n - copied)
      part.copy(out, copied, 0, wanted)
      copied += wanted
      if (consume) {
        if (wanted === part.length) {
          this.parts.shift()
        } else {
          this.parts[0] = part.subarray(wanted)
        }
      } else {
        i++
      }
    }

    if (consume) this.length -= n
    return out
  }
}

// ---------------------------------------------------------------------------------------
// Encryption

function checkOptions(options: ContainerOptions): {iterations: number; chunkSize: number; random: (n: number) => Buffer} {
  const {iterations} = options
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  if (!Number.isInteger(iterations) || iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
    throw new UsageError(`backup PBKDF2 iterations must be an integer in ${MIN_ITERATIONS}..${MAX_ITERATIONS} (got ${iterations})`)
  }

  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new UsageError(`backup chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} (got ${chunkSize})`)
  }

  return {iterations, chunkSize, random: options.random ?? randomBytes}
}

function randomField(random: (n: number) => Buffer, n: number): Buffer {
  const bytes = random(n)
  if (!Buffer.isBuffer(bytes) || bytes.length !== n) throw new FailedError(`the random source gave no ${n} bytes`)
  return Buffer.from(bytes)
}

class ContainerEncryptor extends Transform implements KdfTiming {
  private readonly queue = new ByteQueue()
  private headerPending = true
  private index = 0

  constructor(
    private readonly header: Buffer,
    private readonly keys: Keys,
    private readonly chunkSize: number,
    public kdfMs: number,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.pushHeader()
      this.queue.push(chunk)
      // Hold back at least one byte: the last chunk is sealed as final, and only the end
      // of the input says which chunk that is.
      while (this.queue.length > this.chunkSize) this.seal(this.queue.take(this.chunkSize), false)
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.pushHeader()
      // An empty plaintext still has one (empty) final chunk.
      this.seal(this.queue.take(this.queue.length), true)
      callback()
    } catch (error) {
      callback(error as Error)
    }
  }

  private pushHeader(): void {
    if (!this.headerPending) return
    this.headerPending = false
    this.push(this.header)
  }

  private seal(plaintext: Buffer, final: boolean): void {
    if (this.index >= MAX_CHUNKS) {
      throw new FailedError(`the backup is too large: more than ${MAX_CHUNKS} chunks of ${this.chunkSize} bytes`)
    }

    const cipher = createCipheriv('aes-256-gcm', this.keys.encryption, nonceFor(this.keys.noncePrefix, this.index), {
      authTagLength: TAG_LENGTH,
    })
    cipher.setAAD(aadFor(this.keys.headerDigest, this.index, final))
    const ciphertext = cipher.update(plaintext)
    const rest = cipher.final()
    if (ciphertext.length > 0) this.push(ciphertext)
    if (rest.length > 0) this.push(rest)
    this.push(cipher.getAuthTag())
    this.index++
  }
}

/**
 * Plaintext in, container bytes out. Derives the key once, here (async PBKDF2), so the
 * stream itself only seals chunks.
 */
export async function createEncryptStream(password: string, options: ContainerOptions): Promise<EncryptStream> {
  const secret = passwordBytes(password)
  const {iterations, chunkSize, random} = checkOptions(options)
  const salt = randomField(random, SALT_LENGTH)
  const noncePrefix = randomField(random, NONCE_PREFIX_LENGTH)
  const header = serializeHeader(iterations, chunkSize, salt, noncePrefix)
  const {master, kdfMs} = await deriveMasterKey(secret, salt, iterations)
  keyCheckValue(master, header.subarray(0, KEY_CHECK_OFFSET)).copy(header, KEY_CHECK_OFFSET)
  const keys: Keys = {
    encryption: subKey(master, INFO_ENCRYPTION),
    headerDigest: createHash('sha256').update(header).digest(),
    noncePrefix,
  }
  master.fill(0)
  return new ContainerEncryptor(header, keys, chunkSize, kdfMs)
}

// ---------------------------------------------------------------------------------------
// Decryption

class ContainerDecryptor extends Transform implements KdfTiming {
  kdfMs = 0
  header: BackupHeaderInfo | undefined
  private readonly queue = new ByteQueue()
  private keys: Keys | undefined
  private chunkSize = 0
  private index = 0

  constructor(private readonly secret: Buffer) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.queue.push(chunk)
    this.advance(false).then(() => callback(), (error: Error) => callback(error))
  }

  override _flush(callback: TransformCallback): void {
    this.advance(true).then(() => callback(), (error: Error) => callback(error))
  }

  private async advance(atEnd: boolean): Promise<void> {
    if (this.keys === undefined) {
      checkPreamble(this.queue.peek(HEADER_LENGTH), atEnd)
      if (this.queue.length < HEADER_LENGTH) return
      await this.open(this.queue.take(HEADER_LENGTH))
    }

    // A full chunk is known not to be the last only once a byte of the next one is here.
    const sealed = this.chunkSize + TAG_LENGTH
    while (this.queue.length > sealed) this.push(this.openChunk(this.queue.take(sealed), false))
    if (atEnd) this.finish()
  }

  private async open(header: Buffer): Promise<void> {
    const parsed = parseHeader(header)
    const {master, kdfMs} = await deriveMasterKey(this.secret, parsed.salt, parsed.iterations)
    this.kdfMs = kdfMs
    this.secret.fill(0)
    const expected = keyCheckValue(master, header.subarray(0, KEY_CHECK_OFFSET))
    if (!timingSafeEqual(expected, parsed.keyCheck)) {
      master.fill(0)
      throw new BadInputError(WRONG_PASSWORD, {actions: PASSWORD_ACTIONS})
    }

    this.keys = {
      encryption: subKey(master, INFO_ENCRYPTION),
      headerDigest: createHash('sha256').update(header).digest(),
      noncePrefix: parsed.noncePrefix,
    }
    master.fill(0)
    this.chunkSize = parsed.chunkSize
    this.header = {formatVersion: parsed.formatVersion, iterations: parsed.iterations, chunkSize: parsed.chunkSize}
  }

  private finish(): void {
    const rest = this.queue.length
    if (rest < TAG_LENGTH) {
      throw new BadInputError(
        rest === 0 && this.index === 0
          ? 'backup is truncated: it ends right after its header, before its first chunk'
          : `backup is truncated: it ends inside chunk ${this.index}`,
        {actions: DAMAGED_ACTIONS},
      )
    }

    const sealed = this.queue.take(rest)
    const plaintext = this.tryOpen(sealed, this.index, true)
    if (plaintext === undefined) {
      // A whole chunk sealed as not-final, then nothing: the file was cut at a chunk boundary.
      if (rest === this.chunkSize + TAG_LENGTH && this.tryOpen(sealed, this.index, false) !== undefined) {
        throw new BadInputError(
          `backup is truncated: it ends after chunk ${this.index}, before its final chunk`,
          {actions: DAMAGED_ACTIONS},
        )
      }

      throw this.damaged()
    }

    // One encoding per plaintext: the final chunk is empty only when the whole plaintext is.
    if (plaintext.length === 0 && this.index > 0) {
      throw new BadInputError(`backup is malformed: an empty final chunk follows chunk ${this.index - 1}`, {
        actions: DAMAGED_ACTIONS,
      })
    }

    this.index++
    if (plaintext.length > 0) this.push(plaintext)
  }

  private openChunk(sealed: Buffer, final: boolean): Buffer {
    if (this.index >= MAX_CHUNKS) {
      throw new BadInputError(`backup is malformed: more than ${MAX_CHUNKS} chunks`, {actions: DAMAGED_ACTIONS})
    }

    const plaintext = this.tryOpen(sealed, this.index, final)
    if (plaintext === undefined) throw this.damaged()
    this.index++
    return plaintext
  }

  /** The plaintext of an authenticated chunk, or undefined: nothing unauthenticated leaves here. */
  private tryOpen(sealed: Buffer, index: number, final: boolean): Buffer | undefined {
    const keys = this.keys!
    const decipher = createDecipheriv('aes-256-gcm', keys.encryption, nonceFor(keys.noncePrefix, index), {
      authTagLength: TAG_LENGTH,
    })
    decipher.setAAD(aadFor(keys.headerDigest, index, final))
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH))
    const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH))
    try {
      const rest = decipher.final()
      return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest])
    } catch {
      plaintext.fill(0)
      return undefined
    }
  }

  private damaged(): BadInputError {
    return new BadInputError(
      `backup is damaged, truncated or was tampered with: chunk ${this.index} does not authenticate`,
      {actions: DAMAGED_ACTIONS},
    )
  }
}

/**
 * Container bytes in, plaintext out. Emits a BadInputError on a wrong password (before any
 * decryption), a file that is not a backup, another format version, tampering or truncation.
 * Only authenticated chunks are emitted; a consumer must still treat the stream as failed
 * (and discard what it received) when it errors, since truncation shows only at the end.
 */
export function createDecryptStream(password: string): DecryptStream {
  return new ContainerDecryptor(passwordBytes(password))
}

// ---------------------------------------------------------------------------------------
// Files

async function openPart(partPath: string): Promise<FileHandle> {
  try {
    return await open(partPath, 'wx', 0o600)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    // A .part of an interrupted earlier run: never a finished backup, safe to replace.
    await unlink(partPath)
    return open(partPath, 'wx', 0o600)
  }
}

async function syncDirectory(path: string): Promise<void> {
  let handle: FileHandle | undefined
  try {
    handle = await open(path, 'r')
    await handle.sync()
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself has happened.
  } finally {
    await handle?.close().catch(() => {})
  }
}

function fileSink(handle: FileHandle, counter: {bytes: number}): Writable {
  return new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      handle.write(chunk).then(() => {
        counter.bytes += chunk.length
        callback()
      }, callback)
    },
    writev(chunks, callback) {
      const buffers = chunks.map((c) => c.chunk as Buffer)
      handle.writev(buffers).then(({bytesWritten}) => {
        counter.bytes += bytesWritten
        callback()
      }, callback)
    },
  })
}

/**
 * Encrypts input into outPath: written to outPath + '.part' (mode 0600), fsynced, then
 * renamed into place. On failure nothing is left behind.
 */
export async function encryptFile(
  input: Readable,
  outPath: string,
  password: string,
  options: ContainerOptions,
): Promise<{bytes: number; kdfMs: number}> {
  const encryptor = await createEncryptStream(password, options)
  const partPath = `${outPath}.part`
  const counter = {bytes: 0}
  let handle: FileHandle | undefined
  let created = false
  try {
    handle = await openPart(partPath)
    created = true
    await handle.chmod(0o600)
    await pipeline(input, encryptor, fileSink(handle, counter))
    await handle.sync()
    await handle.close()
    handle = undefined
    await rename(partPath, outPath)
    created = false
    await syncDirectory(dirname(outPath))
    return {bytes: counter.bytes, kdfMs: encryptor.kdfMs}
  } catch (error) {
    input.destroy()
    await handle?.close().catch(() => {})
    if (created) await unlink(partPath).catch(() => {})
    if (error instanceof XwayError) throw error
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new FailedError(`could not write the backup ${outPath}: ${reason}`, {cause: error})
  }
}

/** The header of a backup, without the password (nothing in it is secret or authenticated yet). */
export async function readHeader(path: string): Promise<BackupHeaderInfo> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw new BadInputError(`cannot read the backup ${path}: ${reason}`, {cause: error})
  }

  try {
    const buffer = Buffer.alloc(HEADER_LENGTH)
    let filled = 0
    while (filled < HEADER_LENGTH) {
      // eslint-disable-next-line no-await-in-loop
      const {bytesRead} = await handle.read(buffer, filled, HEADER_LENGTH - filled, filled)
      if (bytesRead === 0) break
      filled += bytesRead
    }

    const {formatVersion, iterations, chunkSize} = parseHeader(buffer.subarray(0, filled))
    return {formatVersion, iterations, chunkSize}
  } finally {
    await handle.close()
  }
}
