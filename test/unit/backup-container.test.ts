import {randomBytes} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {mkdtemp, readdir, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {test} from 'uvu'
import * as assert from 'uvu/assert'

import {
  BACKUP_FORMAT_VERSION, createDecryptStream, createEncryptStream, DEFAULT_CHUNK_SIZE, encryptFile, HEADER_LENGTH,
  readHeader, TAG_LENGTH,
} from '../../src/backup/container.js'
import {BadInputError, FailedError, UsageError} from '../../src/errors.js'

const PASSWORD = 'Corr3ct h0rse-battery staple ÄÖ ✓'
const ITERATIONS = 1000

/** Feeds a buffer in slices of the given size (0: one piece), so buffering across writes is exercised. */
function source(data: Buffer, slice = 0): Readable {
  const pieces: Buffer[] = []
  if (slice <= 0) pieces.push(data)
  else for (let i = 0; i < data.length; i += slice) pieces.push(data.subarray(i, i + slice))
  return Readable.from(pieces, {objectMode: false})
}

async function collect(readable: Readable): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const chunk of readable) out.push(chunk as Buffer)
  return Buffer.concat(out)
}

async function encrypt(plaintext: Buffer, options: {chunkSize?: number; slice?: number; password?: string} = {}): Promise<Buffer> {
  const encryptor = await createEncryptStream(options.password ?? PASSWORD, {iterations: ITERATIONS, chunkSize: options.chunkSize})
  const out: Buffer[] = []
  await pipeline(source(plaintext, options.slice), encryptor, new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk)
      cb()
    },
  }))
  return Buffer.concat(out)
}

/** Decrypts; on failure returns the error and whatever plaintext was emitted before it. */
async function decrypt(container: Buffer, options: {password?: string; slice?: number} = {}): Promise<{plaintext: Buffer; error?: Error}> {
  const out: Buffer[] = []
  try {
    await pipeline(source(container, options.slice), createDecryptStream(options.password ?? PASSWORD), new Writable({
      write(chunk: Buffer, _e, cb) {
        out.push(chunk)
        cb()
      },
    }))
    return {plaintext: Buffer.concat(out)}
  } catch (error) {
    return {plaintext: Buffer.concat(out), error: error as Error}
  }
}

async function assertRefused(container: Buffer, what: string, pattern?: RegExp, password = PASSWORD): Promise<{plaintext: Buffer; error: Error}> {
  const {plaintext, error} = await decrypt(container, {password})
  assert.ok(error, `${what}: accepted`)
  assert.instance(error, BadInputError, `${what}: ${error}`)
  assert.is((error as BadInputError).exitCode, 4)
  for (const secret of [PASSWORD, password]) assert.not.ok(error!.message.includes(secret), `${what}: password in message`)
  if (pattern) assert.match(error!.message, pattern, what)
  return {plaintext, error: error!}
}

function expectedSize(plaintextLength: number, chunkSize: number): number {
  const chunks = Math.max(1, Math.ceil(plaintextLength / chunkSize))
  return HEADER_LENGTH + plaintextLength + chunks * TAG_LENGTH
}

test('round-trips an empty plaintext as one empty final chunk', async () => {
  const container = await encrypt(Buffer.alloc(0))
  assert.is(container.length, HEADER_LENGTH + TAG_LENGTH)
  const {plaintext, error} = await decrypt(container)
  assert.is(error, undefined)
  assert.is(plaintext.length, 0)
})

test('round-trips 1 byte, exactly one chunk, one chunk and a byte', async () => {
  for (const size of [1, DEFAULT_CHUNK_SIZE - 1, DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE + 1, 2 * DEFAULT_CHUNK_SIZE]) {
    const data = randomBytes(size)
    const container = await encrypt(data)
    assert.is(container.length, expectedSize(size, DEFAULT_CHUNK_SIZE), `size of ${size}`)
    const {plaintext, error} = await decrypt(container)
    assert.is(error, undefined, `${size}: ${error}`)
    assert.ok(plaintext.equals(data), `${size} bytes`)
  }
})

test('round-trips a few MB of random data in many chunks, however the bytes are sliced', async () => {
  const data = randomBytes(3 * 1024 * 1024 + 12_345)
  for (const slice of [0, 1000, 65_536, 100_003]) {
    const container = await encrypt(data, {slice})
    assert.is(container.length, expectedSize(data.length, DEFAULT_CHUNK_SIZE))
    for (const readSlice of [0, 7919, 65_552]) {
      const {plaintext, error} = await decrypt(container, {slice: readSlice})
      assert.is(error, undefined, String(error))
      assert.ok(plaintext.equals(data), `write slices ${slice}, read slices ${readSlice}`)
    }
  }
})

test('round-trips with small chunks fed one byte at a time', async () => {
  const data = randomBytes(1000)
  const container = await encrypt(data, {chunkSize: 64, slice: 1})
  assert.is(container.length, expectedSize(1000, 64))
  const {plaintext, error} = await decrypt(container, {slice: 1})
  assert.is(error, undefined)
  assert.ok(plaintext.equals(data))
})

test('two encryptions of the same data differ (random salt and nonce prefix)', async () => {
  const data = Buffer.from('same configuration')
  const a = await encrypt(data)
  const b = await encrypt(data)
  assert.not.ok(a.equals(b))
  assert.not.ok(a.subarray(20, 60).equals(b.subarray(20, 60)))
})

test('refuses a wrong password before decrypting anything, without naming either password', async () => {
  const data = randomBytes(200_000)
  const container = await encrypt(data)
  const {plaintext, error} = await assertRefused(container, 'wrong password', undefined, 'hunter2-wrong-guess')
  assert.is(error.message, 'wrong password, or not a backup for this password')
  assert.not.ok(JSON.stringify({message: error.message, actions: (error as BadInputError).actions}).includes('hunter2'))
  assert.is(plaintext.length, 0)
  // A password that differs only in case, or by a prefix, is just as wrong.
  await assertRefused(container, 'case', /^wrong password/, PASSWORD.toUpperCase())
  await assertRefused(container, 'prefix', /^wrong password/, PASSWORD.slice(0, -1))
})

test('opens a backup with the same password typed in another Unicode normalization (NFC)', async () => {
  const data = Buffer.from('x')
  const container = await encrypt(data, {password: 'Caf\u00E9 pass'})
  const {plaintext, error} = await decrypt(container, {password: 'Cafe\u0301 pass'})
  assert.is(error, undefined)
  assert.ok(plaintext.equals(data))
})

test('refuses one flipped bit or byte at every position (header, chunks, tags), never emitting the changed chunk', async () => {
  const chunkSize = 256
  const data = randomBytes(1000) // chunks of 256, 256, 256, 232
  const container = await encrypt(data, {chunkSize})
  const sealed = chunkSize + TAG_LENGTH
  for (let position = 0; position < container.length; position++) {
    for (const mask of position % 97 === 0 ? [0x01, 0xFF] : [0x01]) {
      const tampered = Buffer.from(container)
      tampered[position] ^= mask
      // eslint-disable-next-line no-await-in-loop
      const {plaintext} = await assertRefused(tampered, `byte ${position} ^ ${mask}`)
      const chunk = position < HEADER_LENGTH ? 0 : Math.floor((position - HEADER_LENGTH) / sealed)
      assert.ok(plaintext.length <= chunk * chunkSize, `byte ${position}: plaintext of the changed chunk emitted`)
      assert.ok(plaintext.equals(data.subarray(0, plaintext.length)), `byte ${position}: emitted something else`)
    }
  }
})

test('a changed header byte is refused as a wrong password, damaged header, or other version', async () => {
  const container = await encrypt(Buffer.from('data'))
  const flip = (position: number, mask = 1) => {
    const copy = Buffer.from(container)
    copy[position] ^= mask
    return copy
  }

  await assertRefused(flip(0), 'magic', /^not an xway backup/)
  await assertRefused(flip(9), 'version', /^backup format version 0 is not supported; this xway reads version 1$/)
  await assertRefused(flip(10), 'kdf id', /key derivation/)
  await assertRefused(flip(12), 'iterations high byte', /iteration count 16778216/)
  await assertRefused(flip(15), 'iterations low byte', /^wrong password, or not a backup for this password$/)
  await assertRefused(flip(17), 'chunk size', /chunk size|wrong password/)
  await assertRefused(flip(30), 'salt', /^wrong password/)
  await assertRefused(flip(55), 'nonce prefix', /^wrong password/)
  await assertRefused(flip(70), 'key check', /^wrong password/)
})

test('refuses truncation at every length: inside the header, at chunk boundaries, mid-chunk, last byte dropped', async () => {
  const chunkSize = 256
  const data = randomBytes(1000)
  const container = await encrypt(data, {chunkSize})
  const sealed = chunkSize + TAG_LENGTH
  for (let length = 0; length < container.length; length++) {
    // eslint-disable-next-line no-await-in-loop
    await assertRefused(container.subarray(0, length), `cut at ${length}`)
  }

  await assertRefused(Buffer.alloc(0), 'empty', /^not an xway backup: the file is empty$/)
  await assertRefused(container.subarray(0, 50), 'inside header', /^backup is truncated: it ends inside its 92-byte header/)
  await assertRefused(container.subarray(0, HEADER_LENGTH), 'after header', /before its first chunk/)
  for (const chunks of [1, 2, 3]) {
    // eslint-disable-next-line no-await-in-loop
    await assertRefused(container.subarray(0, HEADER_LENGTH + chunks * sealed), `after chunk ${chunks}`,
      new RegExp(`^backup is truncated: it ends after chunk ${chunks - 1}, before its final chunk$`))
  }

  await assertRefused(container.subarray(0, HEADER_LENGTH + sealed + 100), 'mid-chunk', /damaged, truncated/)
  await assertRefused(container.subarray(0, HEADER_LENGTH + sealed + 5), 'inside a tag-sized tail', /truncated: it ends inside chunk 1/)
  await assertRefused(container.subarray(0, container.length - 1), 'last byte dropped', /damaged, truncated/)
})

test('refuses swapped, duplicated, dropped and appended chunks', async () => {
  const chunkSize = 256
  const data = randomBytes(1000)
  const container = await encrypt(data, {chunkSize})
  const sealed = chunkSize + TAG_LENGTH
  const header = container.subarray(0, HEADER_LENGTH)
  const chunks = [0, 1, 2, 3].map((i) => container.subarray(HEADER_LENGTH + i * sealed, HEADER_LENGTH + (i + 1) * sealed))
  const build = (order: number[], extra: Buffer[] = []) => Buffer.concat([header, ...order.map((i) => chunks[i]), ...extra])

  assert.ok(build([0, 1, 2, 3]).equals(container))
  const swapped = await assertRefused(build([0, 2, 1, 3]), 'swapped 1 and 2')
  assert.ok(swapped.plaintext.length <= chunkSize)
  await assertRefused(build([1, 0, 2, 3]), 'swapped 0 and 1')
  await assertRefused(build([0, 1, 1, 2, 3]), 'duplicated 1')
  await assertRefused(build([0, 2, 3]), 'dropped 1')
  await assertRefused(build([0, 1, 3]), 'dropped 2, final follows')
  await assertRefused(build([0, 1, 2, 3, 3]), 'final duplicated')
  await assertRefused(build([0, 1, 2, 3], [Buffer.from('trailing')]), 'trailing bytes')
  await assertRefused(build([0, 1, 2, 3], [Buffer.alloc(1)]), 'one trailing byte')

  // A chunk from another backup (same password) does not fit: the key and header digest differ.
  const other = await encrypt(data, {chunkSize})
  const foreign = other.subarray(HEADER_LENGTH + sealed, HEADER_LENGTH + 2 * sealed)
  await assertRefused(Buffer.concat([header, chunks[0], foreign, chunks[2], chunks[3]]), 'foreign chunk')
  // Nor does its header with our body.
  await assertRefused(Buffer.concat([other.subarray(0, HEADER_LENGTH), ...chunks]), 'foreign header')
})

test('refuses another format version with the documented message', async () => {
  const container = await encrypt(Buffer.from('data'))
  const v2 = Buffer.from(container)
  v2.writeUInt16BE(2, 8)
  const {error} = await assertRefused(v2, 'version 2')
  assert.is(error.message, 'backup format version 2 is not supported; this xway reads version 1')
  // Recognised from the first 10 bytes, without waiting for the rest.
  await assertRefused(v2.subarray(0, 10), 'version 2, short', /^backup format version 2 is not supported/)
})

test('refuses data that is not a backup', async () => {
  await assertRefused(Buffer.from('PK\u0003\u0004 a zip file, not a backup at all'), 'zip', /^not an xway backup/)
  await assertRefused(randomBytes(5000), 'random', /^not an xway backup/)
  await assertRefused(Buffer.from('XWAY'), 'magic prefix only', /truncated: it ends inside its 92-byte header/)
})

test('refuses an empty password and out-of-range parameters as usage errors', async () => {
  try {
    await createEncryptStream('', {iterations: ITERATIONS})
    assert.unreachable()
  } catch (error) {
    assert.instance(error, UsageError)
  }

  assert.throws(() => createDecryptStream(''), (error: unknown) => error instanceof UsageError)
  for (const options of [{iterations: 999}, {iterations: 1.5}, {iterations: 20_000_000}, {iterations: ITERATIONS, chunkSize: 8}, {iterations: ITERATIONS, chunkSize: 32 * 1024 * 1024}]) {
    try {
      // eslint-disable-next-line no-await-in-loop
      await createEncryptStream(PASSWORD, options)
      assert.unreachable(JSON.stringify(options))
    } catch (error) {
      assert.instance(error, UsageError, JSON.stringify(options))
    }
  }
})

test('reports the key derivation time on both sides and the header after authentication', async () => {
  const encryptor = await createEncryptStream(PASSWORD, {iterations: 20_000, chunkSize: 4096})
  assert.type(encryptor.kdfMs, 'number')
  assert.ok(encryptor.kdfMs > 0)
  const decryptor = createDecryptStream(PASSWORD)
  assert.is(decryptor.header, undefined)
  const out = collect(decryptor)
  await pipeline(source(Buffer.from('abc')), encryptor, decryptor)
  assert.is((await out).toString(), 'abc')
  assert.ok(decryptor.kdfMs > 0)
  assert.equal(decryptor.header, {formatVersion: 1, iterations: 20_000, chunkSize: 4096})
})

test('matches the known-answer vector of docs/backup-format.md', async () => {
  let counter = 0
  const random = (n: number) => {
    const bytes = Buffer.alloc(n)
    for (let i = 0; i < n; i++) bytes[i] = (counter++) & 0xFF
    return bytes
  }

  const encryptor = await createEncryptStream('correct horse', {iterations: 1000, chunkSize: 16, random})
  const out = collect(encryptor)
  encryptor.end(Buffer.from('hello, expressway!'))
  const hex = (await out).toString('hex')
  const doc = await readFile(new URL('../../docs/backup-format.md', import.meta.url), 'utf8')
  const vector = /<!-- vector -->\s*```\s*([0-9a-f\s]+?)```/.exec(doc)?.[1].replaceAll(/\s/g, '')
  assert.ok(vector, 'the vector is in docs/backup-format.md')
  assert.is(hex, vector)
  const {plaintext, error} = await decrypt(Buffer.from(hex, 'hex'), {password: 'correct horse'})
  assert.is(error, undefined)
  assert.is(plaintext.toString(), 'hello, expressway!')
})

test('respects back-pressure: an unread decryptor stops the source', async () => {
  let pulled = 0
  const chunk = randomBytes(64 * 1024)
  const endless = new Readable({
    read() {
      pulled += chunk.length
      this.push(chunk)
    },
  })
  const encryptor = await createEncryptStream(PASSWORD, {iterations: ITERATIONS})
  const decryptor = createDecryptStream(PASSWORD)
  endless.pipe(encryptor).pipe(decryptor) // nobody reads the decryptor
  await new Promise((resolve) => {
    setTimeout(resolve, 300)
  })
  assert.ok(pulled < 4 * 1024 * 1024, `pulled ${pulled} bytes with no reader`)
  endless.destroy()
  encryptor.destroy()
  decryptor.destroy()
})

// ---------------------------------------------------------------------------------------
// Files

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'xway-backup-container-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

test('encryptFile writes a 0600 file atomically, readHeader reads it, and it decrypts from disk', async () => {
  await withTemp(async (dir) => {
    const data = randomBytes(300_000)
    const out = join(dir, 'X14.2.0_0A1B2C3D_20240101_120000_backup.tar.gz.enc')
    const result = await encryptFile(source(data, 10_000), out, PASSWORD, {iterations: ITERATIONS, chunkSize: 32 * 1024})
    const info = await stat(out)
    assert.is(info.mode & 0o777, 0o600)
    assert.is(result.bytes, info.size)
    assert.is(result.bytes, expectedSize(data.length, 32 * 1024))
    assert.type(result.kdfMs, 'number')
    assert.equal(await readdir(dir), ['X14.2.0_0A1B2C3D_20240101_120000_backup.tar.gz.enc'])
    assert.equal(await readHeader(out), {formatVersion: BACKUP_FORMAT_VERSION, iterations: ITERATIONS, chunkSize: 32 * 1024})

    const decryptor = createDecryptStream(PASSWORD)
    const plaintext = collect(decryptor)
    await pipeline(createReadStream(out), decryptor)
    assert.ok((await plaintext).equals(data))

    // The password is nowhere in the file, in any common encoding.
    const bytes = await readFile(out)
    for (const encoding of ['utf8', 'utf16le', 'latin1'] as const) {
      assert.is(bytes.indexOf(Buffer.from(PASSWORD, encoding)), -1, encoding)
    }
  })
})

test('encryptFile replaces a stale .part and leaves nothing behind when the input fails', async () => {
  await withTemp(async (dir) => {
    const out = join(dir, 'b.enc')
    await writeFile(`${out}.part`, 'left over by a killed run')
    await encryptFile(source(Buffer.from('ok')), out, PASSWORD, {iterations: ITERATIONS})
    assert.equal((await readdir(dir)).sort(), ['b.enc'])

    const failing = join(dir, 'failing.enc')
    let sent = 0
    const broken = new Readable({
      read() {
        sent++
        if (sent > 20) this.destroy(new Error('the tar stream broke'))
        else this.push(randomBytes(50_000))
      },
    })
    try {
      await encryptFile(broken, failing, PASSWORD, {iterations: ITERATIONS})
      assert.unreachable()
    } catch (error) {
      assert.instance(error, FailedError)
      assert.not.ok((error as Error).message.includes(PASSWORD))
    }

    assert.equal((await readdir(dir)).sort(), ['b.enc'])
  })
})

test('encryptFile into a missing folder fails without creating anything', async () => {
  await withTemp(async (dir) => {
    try {
      await encryptFile(source(Buffer.from('x')), join(dir, 'missing', 'b.enc'), PASSWORD, {iterations: ITERATIONS})
      assert.unreachable()
    } catch (error) {
      assert.instance(error, FailedError)
      assert.match((error as Error).message, /ENOENT/)
    }

    assert.equal(await readdir(dir), [])
  })
})

test('readHeader refuses what is not a version-1 backup', async () => {
  await withTemp(async (dir) => {
    const container = await encrypt(Buffer.from('data'))
    const v7 = Buffer.from(container)
    v7.writeUInt16BE(7, 8)
    await writeFile(join(dir, 'v7'), v7)
    await writeFile(join(dir, 'short'), container.subarray(0, 40))
    await writeFile(join(dir, 'text'), 'hello')
    const cases: Array<[string, RegExp]> = [
      ['v7', /^backup format version 7 is not supported; this xway reads version 1$/],
      ['short', /truncated/],
      ['text', /^not an xway backup/],
      ['absent', /ENOENT/],
    ]
    for (const [name, pattern] of cases) {
      try {
        // eslint-disable-next-line no-await-in-loop
        await readHeader(join(dir, name))
        assert.unreachable(name)
      } catch (error) {
        assert.instance(error, BadInputError, name)
        assert.match((error as Error).message, pattern, name)
      }
    }
  })
})

test.run()
