import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup, tempDir, xwayJson} from '../support/run.js'

/** A raw ustar header, so that tests can craft what no honest packer writes. */
function header(name: string, type: string, size = 0, linkname = ''): Buffer {
  const h = Buffer.alloc(512)
  h.write(name, 0, 100)
  h.write('0000644\0', 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  h.write(size.toString(8).padStart(11, '0') + '\0', 124)
  h.write('00000000000\0', 136)
  h.write('        ', 148)
  h.write(type, 156)
  h.write(linkname, 157, 100)
  h.write('ustar\u000000', 257, 'binary')
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  return h
}

function archive(entries: Array<{name: string; type: string; data?: string; link?: string}>): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '')
    parts.push(header(e.name, e.type, data.length, e.link ?? ''))
    if (data.length > 0) parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return gzipSync(Buffer.concat(parts))
}

const base = [
  {name: 'info/', type: '5'},
  {name: 'info/product_info.xml', type: '0', data: '<product_info><brand>Expressway</brand></product_info>'},
]

const hostile: Array<[string, Array<{name: string; type: string; data?: string; link?: string}>, RegExp]> = [
  ['a path with ..', [...base, {name: '../escaped.txt', type: '0', data: 'x'}], /"\.\."/],
  ['a nested path with ..', [...base, {name: 'info/../../escaped.txt', type: '0', data: 'x'}], /"\.\."/],
  ['an absolute path', [...base, {name: '/tmp/xway-absolute-escape.txt', type: '0', data: 'x'}], /absolute path/],
  ['a symlink to /', [...base, {name: 'rootlink', type: '2', link: '/'}], /link leaving the unit/],
  ['a symlink climbing out', [...base, {name: 'info/up', type: '2', link: '../../..'}], /link leaving the unit/],
  ['a write through an earlier inside link that points out', [...base, {name: 'l', type: '2', link: 'info'}, {name: 'l/../../x', type: '0', data: 'x'}], /"\.\."/],
  ['a hard link', [...base, {name: 'hard', type: '1', link: '/etc/passwd'}], /hard link/],
  ['a character device', [...base, {name: 'dev-null', type: '3'}], /device/],
  ['a block device', [...base, {name: 'sda', type: '4'}], /device/],
  ['a FIFO', [...base, {name: 'fifo', type: '6'}], /FIFO/],
]

for (const [what, entries, message] of hostile) {
  test(`image unpack refuses an archive with ${what} (exit 4) and creates nothing`, async () => {
    const dir = tempDir()
    const file = join(dir, 'evil.tar.gz')
    writeFileSync(file, archive(entries))
    const unit = join(dir, 'unit')
    const r = xwayJson(['image', 'unpack', file, unit])
    assert.is(r.code, 4, r.stdout)
    assert.match(r.json.error.message, message)
    assert.not.ok(existsSync(unit))
    assert.equal(readdirSync(dir).sort(), ['evil.tar.gz'])
    assert.not.ok(existsSync('/tmp/xway-absolute-escape.txt'))
    assert.not.ok(existsSync(join(dir, '..', 'escaped.txt')))
  })
}

test('image unpack refuses a truncated archive and a non-archive (exit 4)', async () => {
  const dir = tempDir()
  const good = archive(base)
  writeFileSync(join(dir, 'cut.tar.gz'), good.subarray(0, good.length - 12))
  writeFileSync(join(dir, 'text.tar.gz'), 'not an archive')
  for (const f of ['cut.tar.gz', 'text.tar.gz']) {
    const r = xwayJson(['image', 'unpack', join(dir, f), join(dir, 'unit')])
    assert.is(r.code, 4, `${f}: ${r.stdout}`)
    assert.not.ok(existsSync(join(dir, 'unit')))
  }
})

test('image unpack refuses an archive that holds no unit (exit 4)', async () => {
  const dir = tempDir()
  writeFileSync(join(dir, 'a.tar.gz'), archive([{name: 'hello.txt', type: '0', data: 'hi'}]))
  const r = xwayJson(['image', 'unpack', join(dir, 'a.tar.gz'), join(dir, 'unit')])
  assert.is(r.code, 4)
  assert.match(r.json.error.message, /does not hold a unit/)
})

test.after.each(() => cleanup())
test.run()
