import {mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {extractTar, extractTarGz, type PackEntry, tarGzStream, tarStream} from '../../src/unit/tar.js'
import {seededPrng, testSeed} from '../support/random.js'
import {cleanup, tempDir} from '../support/run.js'

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

const longName = `${'deep/'.repeat(30)}file-with-a-name-longer-than-one-hundred-characters.log`
const entries: PackEntry[] = [
  {rel: 'a', kind: 'dir', mode: 0o755, size: 0},
  {rel: 'a/secret.key', kind: 'file', mode: 0o600, size: 6, data: Buffer.from('secret')},
  {rel: longName, kind: 'file', mode: 0o644, size: 5, data: Buffer.from('hello')},
  {rel: 'a/link', kind: 'symlink', mode: 0o777, size: 0, linkTarget: 'secret.key'},
]

test('tar round trip keeps long paths (pax), modes and inside links', async () => {
  const dest = tempDir()
  const got = await extractTarGz(tarGzStream(entries), dest)
  assert.equal(got.map((e) => e.rel), ['a', 'a/secret.key', longName, 'a/link'])
  assert.is(readFileSync(join(dest, longName), 'utf8'), 'hello')
  assert.is(statSync(join(dest, 'a/secret.key')).mode & 0o777, 0o600)
  assert.is(readlinkSync(join(dest, 'a/link')), 'secret.key')
})

test('the same entries give the same bytes (reproducible)', async () => {
  const a = await collect(tarGzStream(entries))
  const b = await collect(tarGzStream(entries))
  assert.ok(a.equals(b))
})

test('archives past a size or entry budget are refused (archive bombs)', async () => {
  const big: PackEntry[] = [{rel: 'big', kind: 'file', mode: 0o644, size: 4096, data: Buffer.alloc(4096)}]
  const dest = tempDir()
  try {
    await extractTar(tarStream(big), dest, {maxBytes: 1024})
    assert.unreachable()
  } catch (error) {
    assert.match((error as Error).message, /more than 1024 bytes/)
    assert.is((error as {exitCode: number}).exitCode, 4)
  }
  const many: PackEntry[] = Array.from({length: 20}, (_, i) => ({rel: `f${i}`, kind: 'file' as const, mode: 0o644, size: 1, data: Buffer.from('x')}))
  const dest2 = tempDir()
  mkdirSync(dest2, {recursive: true})
  try {
    await extractTar(tarStream(many), dest2, {maxEntries: 10})
    assert.unreachable()
  } catch (error) {
    assert.match((error as Error).message, /more than 10 entries/)
  }
})

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await promise
  } catch (error) {
    assert.match((error as Error).message, message)
    return
  }
  assert.unreachable('expected a rejection')
}

/** The same bytes cut at the given sizes: headers and data straddle chunk boundaries. */
function* cut(buf: Buffer, sizes: () => number): Generator<Buffer> {
  for (let pos = 0; pos < buf.length;) {
    const n = Math.max(1, sizes())
    yield buf.subarray(pos, pos + n)
    pos += n
  }
}

test('extraction gives the same tree whatever the chunking of the stream', async () => {
  const many: PackEntry[] = [
    ...entries,
    {rel: 'b', kind: 'dir', mode: 0o700, size: 0},
    ...Array.from({length: 40}, (_, i) => ({rel: `b/f${i}`, kind: 'file' as const, mode: 0o640, size: i * 37, data: Buffer.alloc(i * 37, i)})),
    {rel: 'b/empty', kind: 'file', mode: 0o600, size: 0, data: Buffer.alloc(0)},
  ]
  const tar = await collect(tarStream(many))
  const reference = tempDir()
  await extractTar(Readable.from([tar]), reference)
  const expected = hashTree(reference)
  const seed = testSeed()
  const random = seededPrng(seed)
  for (const sizes of [() => 1, () => 511, () => 513, () => 1 + Math.floor(random() * 3000)]) {
    const dest = tempDir()
    await extractTar(Readable.from(cut(tar, sizes)), dest)
    assert.is(hashTree(dest), expected, `seed ${seed}`)
  }
})

test('folders get their archived modes once filled, files theirs whatever the umask', async () => {
  const dest = tempDir()
  const old = process.umask(0o077)
  try {
    await extractTar(tarStream([
      {rel: 'locked', kind: 'dir', mode: 0o500, size: 0},
      {rel: 'locked/inside', kind: 'file', mode: 0o664, size: 2, data: Buffer.from('hi')},
      {rel: 'open', kind: 'dir', mode: 0o775, size: 0},
    ]), dest)
  } finally {
    process.umask(old)
  }
  assert.is(statSync(join(dest, 'locked')).mode & 0o7777, 0o500)
  assert.is(statSync(join(dest, 'open')).mode & 0o7777, 0o775)
  assert.is(statSync(join(dest, 'locked/inside')).mode & 0o7777, 0o664)
  assert.is(readFileSync(join(dest, 'locked/inside'), 'utf8'), 'hi')
})

test('extraction uses real folders already in dest, and refuses a link there', async () => {
  const dest = tempDir()
  mkdirSync(join(dest, 'staged'))
  writeFileSync(join(dest, 'staged', 'other'), 'kept')
  await extractTar(tarStream([{rel: 'staged', kind: 'dir', mode: 0o755, size: 0}, {rel: 'staged/new', kind: 'file', mode: 0o644, size: 1, data: Buffer.from('n')}]), dest)
  assert.equal(readdirSync(join(dest, 'staged')).sort(), ['new', 'other'])

  const outside = tempDir()
  const dest2 = tempDir()
  symlinkSync(outside, join(dest2, 'planted'))
  try {
    await extractTar(tarStream([{rel: 'planted', kind: 'dir', mode: 0o755, size: 0}, {rel: 'planted/x', kind: 'file', mode: 0o644, size: 1, data: Buffer.from('x')}]), dest2)
    assert.unreachable()
  } catch (error) {
    assert.match((error as Error).message, /Could not write planted/)
    assert.not.match((error as Error).message, /EEXIST/)
  }
  assert.equal(readdirSync(outside), [])
})

test('an aborted signal stops the extraction with its reason', async () => {
  const controller = new AbortController()
  const dest = tempDir()
  const reason = new Error('stop here')
  async function* chunks(): AsyncGenerator<Buffer> {
    const tar = await collect(tarStream(entries))
    yield tar.subarray(0, 1024)
    controller.abort(reason)
    yield tar.subarray(1024)
  }
  try {
    await extractTar(chunks(), dest, {signal: controller.signal})
    assert.unreachable()
  } catch (error) {
    assert.is(error, reason)
  }
})

test('packing refuses a file that changed or became a link after it was listed', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'f'), 'four')
  const listed: PackEntry = {rel: 'f', kind: 'file', mode: 0o644, size: 4, source: join(dir, 'f')}
  writeFileSync(join(dir, 'f'), 'longer now')
  await rejects(collect(tarStream([listed])), /f changed while being packed/)
  writeFileSync(join(dir, 'f'), 'two')
  await rejects(collect(tarStream([listed])), /f changed while being packed/)
  writeFileSync(join(dir, 'secret'), 'four')
  symlinkSync(join(dir, 'secret'), join(dir, 'l'))
  await rejects(collect(tarStream([{...listed, rel: 'l', source: join(dir, 'l')}])), /l became a link while being packed/)
})

test('a small file behind a long extended header, and many in a row, come out whole', async () => {
  const dir = tempDir()
  const content = Buffer.alloc(200 * 1024, 7)
  writeFileSync(join(dir, 'content'), content)
  const deepRel = `${'a-folder-name-of-some-length/'.repeat(100)}file`
  const list: PackEntry[] = [
    {rel: deepRel, kind: 'file', mode: 0o644, size: content.length, source: join(dir, 'content')},
    ...Array.from({length: 12}, (_, i) => ({rel: `copy${i}`, kind: 'file' as const, mode: 0o644, size: content.length, source: join(dir, 'content')})),
  ]
  const dest = tempDir()
  const got = await extractTar(Readable.from(cut(await collect(tarStream(list)), () => 65536)), dest)
  assert.is(got.length, 13)
  assert.is(got[0].rel, deepRel)
  for (const e of got) assert.ok(readFileSync(join(dest, e.rel)).equals(content), e.rel)
})

test('large files stream through in pieces and come out whole', async () => {
  const dir = tempDir()
  const big = Buffer.alloc(3 * 1024 * 1024 + 123)
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251
  writeFileSync(join(dir, 'big'), big)
  const dest = tempDir()
  await extractTarGz(tarGzStream([{rel: 'big', kind: 'file', mode: 0o644, size: big.length, source: join(dir, 'big')}]), dest)
  assert.ok(readFileSync(join(dest, 'big')).equals(big))
})

test.after.each(() => cleanup())
test.run()
