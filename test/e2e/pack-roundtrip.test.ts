import {copyFileSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup, makeUnit, PROFILES, ROOT, tempDir, unitHash, xwayJson} from '../support/run.js'

const FIXTURES = join(ROOT, 'test', 'fixtures', 'profiles')
const ENV = {XWAY_NOW: '2026-01-01T00:00:00Z', XWAY_ROOT_PASSWORD: 'Root-pass-1', XWAY_PROXY_PASSWORD: 'proxy-secret'}

/**
 * A fixture profile copied with a real lab CA where it names a trust anchor (the fixture's own is a
 * placeholder), without registering at build: no license server runs here.
 */
function fixtureProfile(dir: string, rel: string, anchors: string[], ca: string): string {
  const out = join(dir, 'profiles', rel)
  mkdirSync(join(out, '..'), {recursive: true})
  writeFileSync(out, readFileSync(join(FIXTURES, rel), 'utf8').replace(/^\s*register:.*$/m, ''))
  for (const a of anchors) {
    mkdirSync(join(out, '..', a, '..'), {recursive: true})
    copyFileSync(ca, join(out, '..', a))
  }
  return out
}

function roundTrip(unit: string, dir: string, name: string): {archive: string; copy: string} {
  const archive = join(dir, `${name}.tar.gz`)
  const packed = xwayJson(['image', 'pack', unit, '-o', archive])
  assert.is(packed.code, 0, packed.stdout)
  const copy = join(dir, `${name}-copy`)
  const unpacked = xwayJson(['image', 'unpack', archive, copy])
  assert.is(unpacked.code, 0, unpacked.stdout)
  assert.is(unitHash(copy), unitHash(unit), `${name}: files, modes, links and contents survive pack and unpack`)
  assert.is(unpacked.json.files, packed.json.files)
  return {archive, copy}
}

test('pack then unpack gives back every bundled and fixture unit, byte for byte', () => {
  const dir = tempDir()
  const server = xwayJson(['license-server', 'init', join(dir, 'server')])
  assert.is(server.code, 0, server.stdout)
  const profiles = [
    ...readdirSync(PROFILES).filter((f) => f.endsWith('.yaml') && !f.endsWith('-lab.yaml')).map((f) => join(PROFILES, f)),
    fixtureProfile(dir, 'full.yaml', ['lab/ca.pem'], server.json.caPath),
    fixtureProfile(dir, 'lab/base.yaml', ['ca.pem'], server.json.caPath),
  ]
  assert.ok(profiles.length >= 7, profiles.join(', '))
  for (const [i, profile] of profiles.entries()) {
    const name = `u${i}`
    const unit = makeUnit(dir, {profile, name, seed: `round-trip-${i}`, env: ENV})
    roundTrip(unit, dir, name)
  }
})

test('pack then unpack keeps inside links, folder modes, empty and large files, long paths', () => {
  const dir = tempDir()
  const unit = makeUnit(dir, {seed: 'rich'})
  const log = join(unit, 'mnt/harddisk/log')
  writeFileSync(join(log, 'messages.log'), 'x'.repeat(3 * 1024 * 1024 + 17))
  writeFileSync(join(log, 'empty.log'), '')
  symlinkSync('messages.log', join(log, 'current'))
  symlinkSync('../../../tandberg/persistent', join(log, 'persistent-link'))
  const deep = join(log, 'deep/'.repeat(25))
  mkdirSync(deep, {recursive: true})
  writeFileSync(join(deep, 'a-name-long-enough-to-need-an-extended-header.log'), 'deep\n')
  mkdirSync(join(unit, 'tandberg/private'), {mode: 0o700})
  chmodSync(join(unit, 'tandberg/private'), 0o700)
  writeFileSync(join(unit, 'tandberg/private/group-readable'), 'g', {mode: 0o640})
  const {archive, copy} = roundTrip(unit, dir, 'rich')
  const verify = xwayJson(['image', 'verify', copy])
  assert.is(verify.code, 0, verify.stdout)
  // reproducible: the same unit packs to the same bytes
  const again = join(dir, 'again.tar.gz')
  assert.is(xwayJson(['image', 'pack', copy, '-o', again]).code, 0)
  assert.ok(readFileSync(again).equals(readFileSync(archive)), 'the unpacked copy packs to the same bytes')
})

test.after.each(() => cleanup())
test.run()
