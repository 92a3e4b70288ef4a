// Hostile backups: flipped bytes, truncation, another format version, and hand-made
// containers whose inner archive escapes (../, absolute paths, links, devices) or lies about
// its content. Every one is refused with exit 4 and leaves the unit byte-for-byte unchanged.
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {HEADER_LENGTH, TAG_LENGTH} from '../../src/backup/container.js'
import {P} from '../support/paths.js'
import {cleanup, tempDir} from '../support/run.js'
import {
  copyOf, craftBackup, fileEntry, hashAll, manifestFor, runJson, seal, tarBytes, template, retypeTarEntry,
} from '../e2e/backup-helpers.js'

const dir = tempDir('xway-backup-hostile-')
let unit = ''
let good = ''
let goodBytes = Buffer.alloc(0)
let before = ''
const CHUNK = 64 * 1024

test.before(() => {
  const t = template(dir, 't-unit')
  // an incompressible file in a backup area, so that the container has several chunks
  writeFileSync(join(t, P.configDir, 'bulk.bin'), randomBytes(150 * 1024))
  good = join(dir, 'good.enc')
  const r = runJson(['backup', 'create', t, '-o', good])
  assert.is(r.code, 0, r.stdout)
  goodBytes = readFileSync(good)
  assert.ok(goodBytes.length > HEADER_LENGTH + 2 * (CHUNK + TAG_LENGTH), 'three chunks or more')
  unit = copyOf(t, dir)
  writeFileSync(join(unit, P.configDir, 'bulk.bin'), 'changed since the backup\n')
  before = hashAll(unit)
})

function refused(file: string, what: string, message?: RegExp | string): void {
  const r = runJson(['backup', 'restore', unit, file, '--yes'])
  assert.is(r.code, 4, `${what}: ${r.stdout}${r.stderr}`)
  assert.is(r.json.error.code, 'bad-input', what)
  if (message) assert.match(r.json.error.message, message, what)
  assert.is(hashAll(unit), before, `${what}: the unit changed`)
}

function variant(name: string, bytes: Buffer): string {
  const file = join(dir, name)
  writeFileSync(file, bytes)
  return file
}

test('the untouched backup restores (the control case)', async () => {
  const control = copyOf(unit, dir)
  const r = runJson(['backup', 'restore', control, good, '--yes'])
  assert.is(r.code, 0, r.stdout)
})

test('one flipped byte anywhere (header fields, ciphertext, tags, the last byte) is exit 4 and changes nothing', async () => {
  const last = goodBytes.length - 1
  const offsets = {
    magic: 0, version: 9, iterations: 14, chunkSize: 18, salt: 30, noncePrefix: 55, keyCheck: 70,
    firstCiphertext: HEADER_LENGTH + 5, firstTag: HEADER_LENGTH + CHUNK + 3, secondChunk: HEADER_LENGTH + CHUNK + TAG_LENGTH + 1000,
    lastByte: last,
  }
  for (const [what, offset] of Object.entries(offsets)) {
    const bytes = Buffer.from(goodBytes)
    bytes[offset] ^= 0x01
    refused(variant(`flip-${what}.enc`, bytes), `flip at ${offset} (${what})`)
  }
  const inspect = runJson(['backup', 'inspect', join(dir, 'flip-lastByte.enc')])
  assert.is(inspect.code, 4, 'inspect reads the whole file before printing')
  assert.not.ok(inspect.json.serial)
})

test('truncation at any point (empty, in the header, at and between chunk boundaries, one byte short) is exit 4 and changes nothing', async () => {
  const points = [0, 5, HEADER_LENGTH - 1, HEADER_LENGTH, HEADER_LENGTH + 10, HEADER_LENGTH + CHUNK + TAG_LENGTH, HEADER_LENGTH + 2 * (CHUNK + TAG_LENGTH), goodBytes.length - 1]
  for (const at of points) refused(variant(`cut-${at}.enc`, goodBytes.subarray(0, at)), `truncated at ${at} of ${goodBytes.length}`)
  refused(variant('cut-boundary.enc', goodBytes.subarray(0, HEADER_LENGTH + CHUNK + TAG_LENGTH)), 'cut at a chunk boundary', /truncated/)
  refused(variant('appended.enc', Buffer.concat([goodBytes, Buffer.from('x')])), 'a byte appended')
})

test('another format version: of the container (header) and of the manifest inside a sound container', async () => {
  const v2 = Buffer.from(goodBytes)
  v2.writeUInt16BE(2, 8)
  refused(variant('container-v2.enc', v2), 'container version 2', /backup format version 2 is not supported/)
  const files = {[P.config]: '{}\n'}
  const m = manifestFor(files, {formatVersion: 2})
  refused(await craftBackup(join(dir, 'manifest-v2.enc'), m, [fileEntry(P.config, files[P.config])]), 'manifest version 2', /manifest format version 2 is not supported/)
})

test('hand-made archives that escape are refused: ../, absolute paths, a symlink to /, writing through a link, a device, a hard link', async () => {
  const evil = join(tempDir(), `xway-evil-${process.pid}`)
  const m = manifestFor({[P.config]: '{}\n'})
  const cases: Array<[string, Parameters<typeof craftBackup>[2]]> = [
    ['dotdot', [fileEntry('../x', 'escaped\n')]],
    ['dotdot-deep', [fileEntry('tandberg/persistent/config/../../../../../x', 'escaped\n')]],
    ['absolute', [fileEntry(`${evil}/x`, 'escaped\n')]],
    ['etc', [fileEntry('/etc/xway-evil-x', 'escaped\n')]],
    ['symlink-root', [{rel: 'tandberg/persistent/config', kind: 'symlink', mode: 0o777, size: 0, linkTarget: '/'}]],
    ['symlink-then-write', [
      {rel: 'tandberg/persistent/certs', kind: 'symlink', mode: 0o777, size: 0, linkTarget: '../../../../../..' + evil},
      fileEntry('tandberg/persistent/certs/x', 'escaped\n'),
    ]],
  ]
  for (const [name, entries] of cases) refused(await craftBackup(join(dir, `${name}.enc`), m, entries), name, /refused/)
  assert.not.ok(existsSync(evil))
  assert.not.ok(existsSync('/etc/xway-evil-x'))

  const withDevice = retypeTarEntry(await tarBytes([fileEntry('manifest.json', JSON.stringify(m)), fileEntry('tandberg/persistent/config/dev', '')]), 'tandberg/persistent/config/dev', '3')
  refused(await seal(gzipSync(withDevice), join(dir, 'device.enc')), 'device', /device/)
  const hardLink = retypeTarEntry(await tarBytes([fileEntry('manifest.json', JSON.stringify(m)), fileEntry('tandberg/persistent/config/hl', '')]), 'tandberg/persistent/config/hl', '1')
  refused(await seal(gzipSync(hardLink), join(dir, 'hardlink.enc')), 'hard link', /hard link/)
  assert.is(runJson(['backup', 'inspect', join(dir, 'dotdot.enc')]).code, 4)
})

test('hand-made archives that lie are refused: a file outside the backup areas, a file the manifest does not list, a wrong SHA-256, a symlink inside, the manifest not first, not gzip', async () => {
  const config = '{"changed": true}\n'
  const product = '<product_info><brand>VCS</brand></product_info>\n'
  // info/product_info.xml (brand) is in no backup area: a restore must never write it
  const outside = manifestFor({[P.config]: config, [P.productInfo]: product}, {areas: ['config']})
  refused(await craftBackup(join(dir, 'outside.enc'), outside, [fileEntry(P.config, config), fileEntry(P.productInfo, product)]), 'outside the areas', /outside the areas/)
  const brandArea = manifestFor({[P.productInfo]: product}, {areas: ['brand']})
  refused(await craftBackup(join(dir, 'brand-area.enc'), brandArea, [fileEntry(P.productInfo, product)]), 'the brand area', /not one that backups carry/)
  const listed = manifestFor({[P.config]: config})
  refused(await craftBackup(join(dir, 'unlisted.enc'), listed, [fileEntry(P.config, config), fileEntry(`${P.configDir}/extra.json`, '{}')]), 'unlisted file', /does not list/)
  refused(await craftBackup(join(dir, 'sha.enc'), listed, [fileEntry(P.config, '{"other": 1}\n'.padEnd(config.length))]), 'wrong SHA-256', /SHA-256|bytes/)
  refused(await craftBackup(join(dir, 'missing.enc'), listed, []), 'listed file missing', /missing/)
  refused(await craftBackup(join(dir, 'inner-link.enc'), listed, [fileEntry(P.config, config), {rel: `${P.configDir}/link`, kind: 'symlink', mode: 0o777, size: 0, linkTarget: 'xconfiguration.json'}]), 'symlink inside', /symbolic link/)
  const notFirst = await tarBytes([fileEntry(P.config, config), fileEntry('manifest.json', JSON.stringify(listed))])
  refused(await seal(gzipSync(notFirst), join(dir, 'not-first.enc')), 'manifest not first', /first entry/)
  refused(await seal(Buffer.from('plain text, not gzip'), join(dir, 'not-gzip.enc')), 'not gzip', /not a valid .tar.gz/)
  const smuggledIterations = manifestFor({[P.config]: config}, {}, 2000)
  refused(await craftBackup(join(dir, 'iterations.enc'), smuggledIterations, [fileEntry(P.config, config)]), 'manifest/container mismatch', /iterations/)
})

test('a hand-made backup that is sound restores exactly what it lists (the crafting is right)', async () => {
  const target = copyOf(unit, dir)
  const config = '{"crafted": true}\n'
  const m = manifestFor({[P.config]: config}, {serial: 'CRAFTED1', directories: [P.configDir]})
  const file = await craftBackup(join(dir, 'sound.enc'), m, [{rel: P.configDir, kind: 'dir', mode: 0o755, size: 0}, fileEntry(P.config, config)])
  const r = runJson(['backup', 'restore', target, file, '--yes'])
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.restored, ['config'])
  assert.is(readFileSync(join(target, P.config), 'utf8'), config)
  assert.not.ok(existsSync(join(target, P.configDir, 'bulk.bin')))
})

test.after(() => cleanup())
test.run()
