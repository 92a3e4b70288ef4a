import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {availableVersions, packSoftwareImage, releaseKey} from '../../src/lifecycle/software.js'
import {extractTarGz} from '../../src/unit/tar.js'
import {cleanup, makeUnit, ROOT, tempDir} from '../support/run.js'

test('X14.0.2 and X14.2.0 are shipped', async () => {
  assert.equal(availableVersions(), ['X14.0.2', 'X14.2.0'])
})

test('each software image packs byte-for-byte the same, and the build script writes those bytes', async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts/build-images.js'), '--check'], {stdio: 'ignore'})
  for (const version of availableVersions()) {
    const a = await packSoftwareImage(version)
    const b = await packSoftwareImage(version)
    assert.ok(a.equals(b), version)
    assert.ok(readFileSync(join(ROOT, 'dist/images', version, 'tandberg-image.tar.gz')).equals(a), version)
    const dest = tempDir()
    const entries = await extractTarGz(Readable.from([a]), dest)
    const files = entries.filter((e) => e.kind === 'file').map((e) => e.rel)
    assert.ok(files.includes('image.json') && files.includes('info/product_info.xml') && files.includes('tandberg/persistent/users/passwd.json'))
    assert.is(JSON.parse(readFileSync(join(dest, 'image.json'), 'utf8')).version, version)
  }
})

test('a unit carries its version\'s payload and the release key of its serial', async () => {
  const unit = makeUnit(tempDir())
  const payload = readFileSync(join(unit, 'mnt/harddisk/factory-reset/tandberg-image.tar.gz'))
  assert.ok(payload.equals(await packSoftwareImage('X14.2.0')))
  const serial = /<serial>([^<]+)</.exec(readFileSync(join(unit, 'info/product_info.xml'), 'utf8'))![1]
  assert.is(readFileSync(join(unit, 'mnt/harddisk/factory-reset/rk'), 'utf8').trim(), releaseKey(serial, 'X14.2.0'))
  assert.match(releaseKey(serial, 'X14.2.0'), /^\d{16}$/)
  assert.is.not(releaseKey(serial, 'X14.0.2'), releaseKey(serial, 'X14.2.0'))
})

test.after.each(() => cleanup())
test.run()
