import {spawnSync} from 'node:child_process'
import {existsSync, linkSync, mkdirSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {type RawEntry, rawTarGz, UNIT_BASE} from '../support/hostile-tar.js'
import {cleanup, copyUnit, makeUnit, tempDir, unitHash, xwayJson} from '../support/run.js'

let template = ''
let dir = ''
test.before(() => {
  dir = tempDir()
  template = makeUnit(dir, {seed: 'pack-refusals'})
})

/** Packing is refused (exit 4) with nothing written at -o and the unit unchanged; returns the message. */
function refusedPack(unit: string): string {
  const before = unitHash(unit)
  const out = join(dir, 'out', `${readdirSync(dir).length}.tar.gz`)
  const r = xwayJson(['image', 'pack', unit, '-o', out])
  assert.is(r.code, 4, r.stdout)
  assert.not.ok(existsSync(out), 'nothing at -o')
  assert.not.ok(existsSync(`${out}.part`), 'no partial archive')
  assert.is(unitHash(unit), before, 'the unit is byte-for-byte unchanged')
  return r.json.error.message
}

/** What unpack says of an archive holding the same entries. */
function unpackMessage(entries: RawEntry[]): string {
  const archive = join(dir, `same-${readdirSync(dir).length}.tar.gz`)
  writeFileSync(archive, rawTarGz([...UNIT_BASE, ...entries]))
  const target = join(dir, `never-${readdirSync(dir).length}`)
  const r = xwayJson(['image', 'unpack', archive, target])
  assert.is(r.code, 4, r.stdout)
  assert.not.ok(existsSync(target))
  return r.json.error.message
}

test('pack refuses an absolute link, with the words unpack uses for the same entry', () => {
  const unit = copyUnit(template)
  symlinkSync('/etc/passwd', join(unit, 'tandberg/passwd'))
  const message = refusedPack(unit)
  assert.match(message, /"tandberg\/passwd" is a link leaving the unit \(-> \/etc\/passwd, an absolute target\)/)
  assert.is(message, unpackMessage([{name: 'tandberg/passwd', type: '2', link: '/etc/passwd'}]))
})

test('pack refuses a link leaving the unit, with the words unpack uses', () => {
  const unit = copyUnit(template)
  symlinkSync('../../../../outside', join(unit, 'mnt/harddisk/log/up'))
  const message = refusedPack(unit)
  assert.match(message, /"mnt\/harddisk\/log\/up" is a link leaving the unit \(-> \.\.\/\.\.\/\.\.\/\.\.\/outside\)/)
  assert.is(message, unpackMessage([{name: 'mnt/harddisk/log/up', type: '2', link: '../../../../outside'}]))
})

test('pack refuses a link that leads out through other inside links, as unpack does', () => {
  const unit = copyUnit(template)
  // each link alone looks inside; together c leads out (c -> q/.., q -> a/b, a/b -> ..)
  mkdirSync(join(unit, 'tandberg/a'))
  symlinkSync('..', join(unit, 'tandberg/a/b'))
  symlinkSync('q/../..', join(unit, 'tandberg/c'))
  symlinkSync('a/b', join(unit, 'tandberg/q'))
  const message = refusedPack(unit)
  assert.match(message, /"tandberg\/c" is a link leaving the unit \(-> q\/\.\.\/\.\.\)/)
  assert.is(message, unpackMessage([
    {name: 'tandberg/a/', type: '5'}, {name: 'tandberg/a/b', type: '2', link: '..'},
    {name: 'tandberg/c', type: '2', link: 'q/../..'}, {name: 'tandberg/q', type: '2', link: 'a/b'},
  ]))
})

test('pack refuses a FIFO, with the words unpack uses', () => {
  const unit = copyUnit(template)
  assert.is(spawnSync('mkfifo', [join(unit, 'mnt/harddisk/log/pipe')]).status, 0)
  const message = refusedPack(unit)
  assert.match(message, /"mnt\/harddisk\/log\/pipe" is a FIFO/)
  assert.is(message, unpackMessage([{name: 'mnt/harddisk/log/pipe', type: '6'}]))
})

test('pack refuses a hard-linked file (its content may live outside), with the words unpack uses', () => {
  const unit = copyUnit(template)
  const outside = join(dir, `outside-${readdirSync(dir).length}`)
  writeFileSync(outside, 'not part of the unit')
  linkSync(outside, join(unit, 'mnt/harddisk/log/borrowed'))
  const message = refusedPack(unit)
  assert.match(message, /"mnt\/harddisk\/log\/borrowed" is a hard link/)
  assert.is(message, unpackMessage([{name: 'mnt/harddisk/log/borrowed', type: '1', link: 'info/product_info.xml'}]))
})

test('pack refuses a socket', async () => {
  const unit = copyUnit(template)
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(join(unit, 'mnt/harddisk/log/sock'), resolve))
  try {
    assert.match(refusedPack(unit), /"mnt\/harddisk\/log\/sock" is a socket: refused, since a unit holds only real folders/)
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
})

test('pack refuses -o inside the unit (exit 2), directly or through a linked folder, writing nothing', () => {
  const unit = copyUnit(template)
  const before = unitHash(unit)
  const viaLink = join(dir, `into-unit-${readdirSync(dir).length}`)
  symlinkSync(join(unit, 'mnt/harddisk'), viaLink)
  for (const out of [join(unit, 'self.tar.gz'), join(unit, 'mnt/harddisk/log/new/self.tar.gz'), join(viaLink, 'self.tar.gz'), join(viaLink, 'new/deeper/self.tar.gz'), unit]) {
    const r = xwayJson(['image', 'pack', unit, '-o', out])
    assert.is(r.code, 2, `${out}: ${r.stdout}`)
    assert.match(r.json.error.message, /lies inside the unit being packed/)
    assert.is(unitHash(unit), before, out)
  }
  assert.not.ok(existsSync(join(unit, 'mnt/harddisk/log/new')))
  assert.not.ok(existsSync(join(unit, 'mnt/harddisk/new')))
})

test.after(() => cleanup())
test.run()
