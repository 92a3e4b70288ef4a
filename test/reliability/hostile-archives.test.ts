import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {paxBody, type RawEntry, rawHeader, rawTar, rawTarGz, setChecksum, UNIT_BASE} from '../support/hostile-tar.js'
import {cleanup, tempDir, xwayJson} from '../support/run.js'
import {gzipSync} from 'node:zlib'

const base = UNIT_BASE

// Each archive is checked to be refused for the reason given, not for an earlier one: the
// message names the entry and the rule that refused it.
const hostile: Array<[string, RawEntry[], RegExp]> = [
  ['a path with ..', [...base, {name: '../escaped.txt', type: '0', data: 'x'}], /"\.\."/],
  ['a nested path with ..', [...base, {name: 'info/../../escaped.txt', type: '0', data: 'x'}], /"\.\."/],
  ['an absolute path', [...base, {name: '/tmp/xway-absolute-escape.txt', type: '0', data: 'x'}], /absolute path/],
  ['a symlink to /', [...base, {name: 'rootlink', type: '2', link: '/'}], /"rootlink" is a link leaving the unit \(-> \/, an absolute target\)/],
  ['a symlink climbing out', [...base, {name: 'info/up', type: '2', link: '../../..'}], /"info\/up" is a link leaving the unit/],
  // a/b -> .. stays inside (it is the root), so a/b/tandberg really lands at the root, and from
  // there ../outside leaves: a lexical check of "a/b/../outside" would have let it through
  ['a chain of inside links leading a later link out', [...base, {name: 'a/', type: '5'}, {name: 'a/b', type: '2', link: '..'}, {name: 'a/b/tandberg', type: '2', link: '../outside'}, {name: 'a/b/tandberg/keep.txt', type: '0', data: 'overwritten'}], /"a\/b\/tandberg" is a link leaving the unit \(-> \.\.\/outside\)/],
  // c -> q/.. is inside when it comes (q does not exist yet); q -> a/b (a/b -> ..) then makes c
  // lead out of the unit; the write through c must be refused as a write through a link
  ['a write through an earlier inside link that points out', [...base, {name: 'c', type: '2', link: 'q/..'}, {name: 'a/', type: '5'}, {name: 'a/b', type: '2', link: '..'}, {name: 'q', type: '2', link: 'a/b'}, {name: 'c/escaped.txt', type: '0', data: 'x'}], /"c\/escaped\.txt" lies under a link \("c"\)/],
  ['an inside link made to lead out by a later link', [...base, {name: 'c', type: '2', link: 'q/..'}, {name: 'a/', type: '5'}, {name: 'a/b', type: '2', link: '..'}, {name: 'q', type: '2', link: 'a/b'}], /"c" is a link leaving the unit \(-> q\/\.\.\)/],
  ['a write through a link that stays inside', [...base, {name: 'l', type: '2', link: 'info'}, {name: 'l/x.txt', type: '0', data: 'x'}], /"l\/x\.txt" lies under a link \("l"\)/],
  ['a link that replaces an earlier folder', [...base, {name: 'd/', type: '5'}, {name: 'd', type: '2', link: 'info'}], /"d" appears twice/],
  ['a file that replaces an earlier link', [...base, {name: 'l', type: '2', link: 'info/product_info.xml'}, {name: 'l', type: '0', data: 'x'}], /"l" appears twice/],
  ['links that loop', [...base, {name: 'a', type: '2', link: 'b'}, {name: 'b', type: '2', link: 'a'}], /does not resolve within 40 links/],
  ['a hard link', [...base, {name: 'hard', type: '1', link: '/etc/passwd'}], /"hard" is a hard link/],
  ['a character device', [...base, {name: 'dev-null', type: '3'}], /"dev-null" is a device/],
  ['a block device', [...base, {name: 'sda', type: '4'}], /"sda" is a device/],
  ['a FIFO', [...base, {name: 'fifo', type: '6'}], /"fifo" is a FIFO/],
  ['a sparse file', [...base, {name: 'sparse', type: 'S'}], /"sparse" is of a type no unit holds \(tar type "S"\)/],
  ['an oversized extended header', [...base, {name: 'PaxHeader', type: 'x', data: Buffer.alloc(2 << 20, 0x41)}, {name: 'x', type: '0'}], /extended header of 2097152 bytes/],
  ['a malformed extended header', [...base, {name: 'PaxHeader', type: 'x', data: '99999 path=x\n'}, {name: 'x', type: '0'}], /extended header record overruns/],
  ['a folder with content', [...base, {name: 'd/', type: '5', data: 'hidden'}], /"?d"? is not a file but has 6 bytes/],
]

/** dir holds the archive and, beside the unit-to-be, a folder that hostile links aim at. */
function scene(archive: Buffer): {dir: string; file: string; unit: string; outside: string; before: string} {
  const dir = tempDir()
  const file = join(dir, 'evil.tar.gz')
  writeFileSync(file, archive)
  const outside = join(dir, 'outside')
  mkdirSync(join(outside, 'tandberg'), {recursive: true})
  writeFileSync(join(outside, 'keep.txt'), 'outside the unit\n')
  writeFileSync(join(outside, 'tandberg', 'keep.txt'), 'outside too\n')
  return {dir, file, unit: join(dir, 'unit'), outside, before: hashTree(outside)}
}

function assertNothingWritten(s: ReturnType<typeof scene>): void {
  assert.not.ok(existsSync(s.unit))
  assert.equal(readdirSync(s.dir).sort(), ['evil.tar.gz', 'outside'])
  assert.is(hashTree(s.outside), s.before, 'the folder outside the unit is byte-for-byte unchanged')
  assert.not.ok(existsSync('/tmp/xway-absolute-escape.txt'))
}

for (const [what, entries, message] of hostile) {
  test(`image unpack refuses an archive with ${what} (exit 4) and writes nothing outside`, async () => {
    const s = scene(rawTarGz(entries))
    const r = xwayJson(['image', 'unpack', s.file, s.unit])
    assert.is(r.code, 4, r.stdout)
    assert.match(r.json.error.message, message)
    assertNothingWritten(s)
  })
}

test('image unpack refuses malformed headers (exit 4): checksum, numbers, names, pax sizes', async () => {
  const spoiled = (mutate: (h: Buffer) => void, fix = true): Buffer => {
    const tar = rawTar([...base, {name: 'x.txt', type: '0', data: 'x'}])
    const h = tar.subarray(1024 + 512, 1024 + 1024)
    mutate(h)
    if (fix) setChecksum(h)
    return gzipSync(tar)
  }
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a wrong checksum', spoiled((h) => { h[0] = 0x79 }, false), /header checksum mismatch at byte 1536/],
    ['a size that is not octal', spoiled((h) => h.write('0000000009x\0', 124)), /size field is not an octal number/],
    ['a negative base-256 size', spoiled((h) => h.fill(0xff, 124, 136)), /size field is negative/],
    ['a name that is not UTF-8', spoiled((h) => { h[0] = 0xff; h[1] = 0xfe }), /entry name is not valid UTF-8/],
    ['a pax size that is not a number', gzipSync(rawTar([...base, {name: 'PaxHeader', type: 'x', data: paxBody({size: '-12'})}, {name: 'x.txt', type: '0'}])), /invalid size/],
    ['no end-of-archive marker', rawTarGz(base, {end: false}), /no end-of-archive marker/],
    ['an end inside an entry', gzipSync(Buffer.concat([rawTar(base, {end: false}), rawHeader({name: 'big', type: '0'}, 4096)])), /ends inside an entry/],
  ]
  for (const [what, archive, message] of cases) {
    const s = scene(archive)
    const r = xwayJson(['image', 'unpack', s.file, s.unit])
    assert.is(r.code, 4, `${what}: ${r.stdout}`)
    assert.match(r.json.error.message, message, what)
    assertNothingWritten(s)
  }
})

test('image unpack refuses a truncated archive and a non-archive (exit 4)', async () => {
  const dir = tempDir()
  const good = rawTarGz(base)
  writeFileSync(join(dir, 'cut.tar.gz'), good.subarray(0, good.length - 12))
  writeFileSync(join(dir, 'text.tar.gz'), 'not an archive')
  for (const f of ['cut.tar.gz', 'text.tar.gz']) {
    const r = xwayJson(['image', 'unpack', join(dir, f), join(dir, 'unit')])
    assert.is(r.code, 4, `${f}: ${r.stdout}`)
    assert.not.ok(existsSync(join(dir, 'unit')))
    assert.not.match(r.json.error.message, /\bE[A-Z]{3,}\b/, 'no errno codes')
  }
})

test('image unpack refuses an archive that holds no unit (exit 4)', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'a.tar.gz'), rawTarGz([{name: 'hello.txt', type: '0', data: 'hi'}]))
  const r = xwayJson(['image', 'unpack', join(dir, 'a.tar.gz'), join(dir, 'unit')])
  assert.is(r.code, 4)
  assert.match(r.json.error.message, /does not hold a unit/)
  assert.equal(readdirSync(dir), ['a.tar.gz'])
})

test('image unpack keeps inside links as links, and writes nothing beside the unit', async () => {
  const s = scene(rawTarGz([...base, {name: 'a/', type: '5'}, {name: 'a/b', type: '2', link: '..'}, {name: 'a/c', type: '2', link: '../info/product_info.xml'}]))
  const r = xwayJson(['image', 'unpack', s.file, s.unit])
  assert.is(r.code, 0, r.stdout)
  assert.equal(readdirSync(s.dir).sort(), ['evil.tar.gz', 'outside', 'unit'])
  assert.is(hashTree(s.outside), s.before)
})

test.after.each(() => cleanup())
test.run()
