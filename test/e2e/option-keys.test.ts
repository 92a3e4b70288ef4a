import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, unitHash, writeProfile, xwayJson} from '../support/run.js'

const test = suite('option-keys')
const env = {XWAY_NOW: '2026-03-01T00:00:00Z'}
const hash = unitHash
const keysOf = (unit: string) => JSON.parse(readFileSync(join(unit, P.optionKeys), 'utf8')).keys as string[]

let dir: string
const templates: Record<string, string> = {}

const copyOf = (name: string) => copyUnit(templates[name])

test.before(() => {
  dir = tempDir()
  templates.vcs = makeUnit(dir, {name: 't-vcs', profile: join(PROFILES, 'vcs.yaml')})
  templates.expC = makeUnit(dir, {name: 't-exp-c', profile: join(PROFILES, 'expressway-c.yaml')})
  templates.legacy = makeUnit(dir, {name: 't-legacy', profile: join(PROFILES, 'x14.0.2.yaml')})
  templates.select = makeUnit(dir, {name: 't-select', profile: writeProfile(dir, 'apiVersion: xway/v1\nkind: Unit\nsoftware: X14.2.0\nedition: select\n', 'select.yaml')})
})

test('list: {unit, optionKeys: [{key, feature, name}]}', async () => {
  const unit = copyOf('vcs')
  const r = xwayJson(['option-keys', 'list', unit], {env})
  assert.is(r.code, 0)
  assert.equal(r.json, {
    unit,
    optionKeys: [
      {key: '116341C00-1-0A1B2C3D', feature: 'C00', name: 'Microsoft Interoperability'},
      {key: '116341J00-1-4E5F6A7B', feature: 'J00', name: 'Advanced Account Security'},
    ],
  })
})

test('add on a standard Expressway X14.2 is refused (exit 3, unchanged); C00 with its own message', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  const c00 = xwayJson(['option-keys', 'add', unit, '116341C00-1-0A1B2C3D'], {env})
  assert.is(c00.code, 3, c00.stdout)
  assert.match(c00.json.error.message, /Microsoft Interoperability option key cannot be added from X14\.2/)
  const e00 = xwayJson(['option-keys', 'add', unit, '116341L00-1-0A1B2C3D'], {env})
  assert.is(e00.code, 3)
  assert.match(e00.json.error.message, /Option keys cannot be added on an Expressway X14\.2/)
  assert.is(hash(unit), before)
})

test('add is accepted on VCS, Expressway Select and Expressway before X14.2, and recorded in the audit log', async () => {
  for (const name of ['vcs', 'select', 'legacy']) {
    const unit = copyOf(name)
    const r = xwayJson(['option-keys', 'add', unit, '116341g00-1-abcd1234'], {env})
    assert.is(r.code, 0, `${name}: ${r.stdout}`)
    assert.is(r.json.changed, true)
    assert.is(r.json.key, '116341G00-1-ABCD1234')
    assert.ok(keysOf(unit).includes('116341G00-1-ABCD1234'), name)
    assert.ok(r.json.optionKeys.some((k: {feature: string; name: string}) => k.feature === 'G00' && k.name === 'Interworking'))
    assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"option-keys add"/)
  }
})

test('adding a key already installed changes nothing (exit 0, changed: false)', async () => {
  const unit = copyOf('vcs')
  const before = hash(unit)
  const r = xwayJson(['option-keys', 'add', unit, '116341C00-1-0A1B2C3D'], {env})
  assert.is(r.code, 0)
  assert.is(r.json.changed, false)
  assert.is(hash(unit), before)
})

test('a key that does not match the pattern is bad input (exit 4, unchanged); a VCS-only key on an Expressway is refused (exit 3)', async () => {
  const unit = copyOf('legacy')
  const before = hash(unit)
  for (const bad of ['116341C00-1-ABC', '123456C00-1-ABCD1234', 'hello', '116341Z00-1-ABCD1234']) {
    const r = xwayJson(['option-keys', 'add', unit, bad], {env})
    assert.is(r.code, 4, `${bad}: ${r.stdout}`)
    assert.match(r.json.error.message, /116341<feature>-<m>-<8 characters>/)
  }
  assert.is(xwayJson(['option-keys', 'add', unit, '116341W10-1-ABCD1234'], {env}).code, 3)
  assert.is(hash(unit), before)
})

test('remove: a key not installed is bad input (exit 4, unchanged); an installed one goes', async () => {
  const unit = copyOf('vcs')
  const before = hash(unit)
  const missing = xwayJson(['option-keys', 'remove', unit, '116341G00-1-ABCD1234'], {env})
  assert.is(missing.code, 4, missing.stdout)
  assert.match(missing.json.error.message, /not installed/)
  assert.is(hash(unit), before)
  const r = xwayJson(['option-keys', 'remove', unit, '116341C00-1-0A1B2C3D'], {env})
  assert.is(r.code, 0, r.stdout)
  assert.equal(keysOf(unit), ['116341J00-1-4E5F6A7B'])
})

test('J00 cannot be removed while FIPS 140 mode is on (exit 3, unchanged), and can after fips leave', async () => {
  const unit = copyOf('vcs')
  assert.is(xwayJson(['fips', 'enter', unit], {env}).code, 0)
  const before = hash(unit)
  const r = xwayJson(['option-keys', 'remove', unit, '116341J00-1-4E5F6A7B'], {env})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /FIPS/)
  assert.is(hash(unit), before)
  assert.is(xwayJson(['fips', 'leave', unit], {env}).code, 0)
  assert.is(xwayJson(['option-keys', 'remove', unit, '116341J00-1-4E5F6A7B'], {env}).code, 0)
})

test.after(() => cleanup())
test.run()
