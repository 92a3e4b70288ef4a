import {mkdirSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {extractTar, extractTarGz, type PackEntry, tarGzStream, tarStream} from '../../src/unit/tar.js'
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

test.after.each(() => cleanup())
test.run()
