import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, unitHash, writeProfile, xwayJson} from '../support/run.js'

const test = suite('convert')
const NOW = '2026-03-01T00:00:00Z'
const env = {XWAY_NOW: NOW}
const hash = unitHash

let dir: string
const templates: Record<string, string> = {}

const copyOf = (name: string) => copyUnit(templates[name])

const inspect = (unit: string) => xwayJson(['image', 'inspect', unit], {env}).json
const verifies = (unit: string) => xwayJson(['image', 'verify', unit]).code === 0

test.before(() => {
  dir = tempDir()
  templates.vcs = makeUnit(dir, {name: 't-vcs', profile: join(PROFILES, 'vcs.yaml')})
  templates.expC = makeUnit(dir, {name: 't-exp-c', profile: join(PROFILES, 'expressway-c.yaml')})
  templates.legacy = makeUnit(dir, {name: 't-legacy', profile: join(PROFILES, 'x14.0.2.yaml')})
  templates.vcsFips = makeUnit(dir, {
    name: 't-vcs-fips',
    profile: writeProfile(dir, `apiVersion: xway/v1
kind: Unit
software: X14.2.0
brand: vcs
fips: true
optionKeys: [116341C00-1-0A1B2C3D, 116341J00-1-4E5F6A7B, 116341W10-1-11112222]
`, 'vcs-fips.yaml'),
  })
  templates.vcsSelectFips = makeUnit(dir, {
    name: 't-vcs-select',
    profile: writeProfile(dir, `apiVersion: xway/v1
kind: Unit
software: X14.2.0
brand: vcs
edition: select
fips: true
optionKeys: [116341J00-1-4E5F6A7B, 116341W10-1-11112222]
`, 'vcs-select.yaml'),
  })
})

test('a VCS on X14.2 becomes an Expressway: smart licensing on (Direct, evaluation starts now), option keys removed but C00', async () => {
  const unit = copyOf('vcs')
  const r = xwayJson(['convert', unit, '--type', 'expressway-e'], {env})
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.equal(r.json.from, {brand: 'VCS', type: 'Expressway-C'})
  assert.equal(r.json.to, {brand: 'Expressway', type: 'Expressway-E'})
  assert.is(r.json.changed, true)
  assert.equal(r.json.licensing, {mode: 'smart', turnedOn: true, evaluationStartedAt: '2026-03-01T00:00:00.000Z'})
  assert.equal(r.json.optionKeys, {kept: ['116341C00-1-0A1B2C3D'], dropped: ['116341J00-1-4E5F6A7B']})
  const after = (await inspect(unit))
  assert.is(after.brand, 'Expressway')
  assert.is(after.type, 'Expressway-E')
  assert.is(after.licensing.mode, 'smart')
  assert.is(after.licensing.transport.mode, 'direct')
  assert.is(after.licensing.evaluation.startedAt, '2026-03-01T00:00:00.000Z')
  assert.is(after.licensing.authorization.status, 'Evaluation Mode')
  assert.equal(after.optionKeys.map((k: {feature: string}) => k.feature), ['C00'])
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"convert"/)
  assert.ok((await verifies(unit)))
})

test('once smart licensing is on, --to vcs is refused (exit 3), pointing to factory-reset without -v; the unit is unchanged', async () => {
  for (const name of ['expC', 'vcs']) {
    const unit = copyOf(name)
    if (name === 'vcs') assert.is(xwayJson(['convert', unit, '--type', 'expressway-c'], {env}).code, 0)
    const before = hash(unit)
    const r = xwayJson(['convert', unit, '--to', 'vcs'], {env})
    assert.is(r.code, 3, r.stdout)
    assert.is(r.json.error.code, 'refused')
    assert.match(r.json.error.message, /cannot be changed in Service Select/)
    assert.match(r.json.error.message, /smart licensing is not supported on VCS/)
    assert.match(r.json.error.actions.join(' '), /xway factory-reset .*without -v|without -v.*xway factory-reset/)
    assert.is(hash(unit), before)
  }
})

test('Expressway-C ↔ Expressway-E on an Expressway changes the type only', async () => {
  const unit = copyOf('expC')
  const licensing = readFileSync(join(unit, P.licensing))
  const r = xwayJson(['convert', unit, '--type', 'expressway-e'], {env})
  assert.is(r.code, 0, r.stdout)
  assert.is(r.json.licensing.turnedOn, false)
  assert.is((await inspect(unit)).type, 'Expressway-E')
  assert.ok(readFileSync(join(unit, P.licensing)).equals(licensing), 'licensing untouched')
  assert.is(xwayJson(['convert', unit, '--type', 'expressway-c'], {env}).code, 0)
  assert.is((await inspect(unit)).type, 'Expressway-C')
  assert.ok((await verifies(unit)))
})

test('converting to what the unit already is: nothing to do, exit 0, unit unchanged', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  const r = xwayJson(['convert', unit, '--type', 'expressway-c'], {env})
  assert.is(r.code, 0)
  assert.is(r.json.changed, false)
  assert.is(hash(unit), before)
})

test('a pre-X14.2 Expressway without smart licensing may go back to VCS, keeping its option keys and legacy licensing', async () => {
  const unit = copyOf('legacy')
  const r = xwayJson(['convert', unit, '--to', 'vcs'], {env})
  assert.is(r.code, 0, r.stdout)
  const after = (await inspect(unit))
  assert.is(after.brand, 'VCS')
  assert.equal(after.licensing, {mode: 'legacy'})
  assert.equal(after.optionKeys.map((k: {feature: string}) => k.feature), ['C00', 'E00'])
  assert.ok((await verifies(unit)))
})

test('a VCS in FIPS 140 mode cannot become an export-restricted Expressway X14.2 (exit 3, unchanged)', async () => {
  const unit = copyOf('vcsFips')
  const before = hash(unit)
  const r = xwayJson(['convert', unit, '--type', 'expressway-c'], {env})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /FIPS140-2 cryptographic mode is not available under export control/)
  assert.is(hash(unit), before)
})

test('a Select VCS becomes an Expressway Select keeping its keys (but VCS-only ones) and FIPS 140 mode', async () => {
  const unit = copyOf('vcsSelectFips')
  const r = xwayJson(['convert', unit, '--type', 'expressway-c'], {env})
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.optionKeys, {kept: ['116341J00-1-4E5F6A7B'], dropped: ['116341W10-1-11112222']})
  const after = (await inspect(unit))
  assert.is(after.fips.enabled, true)
  assert.is(after.licensing.mode, 'smart')
  assert.is(after.usage.exportControl.limit, null)
  assert.ok((await verifies(unit)))
})

test('without --type or --to: usage error (exit 2), unit unchanged', async () => {
  const unit = copyOf('vcs')
  const before = hash(unit)
  assert.is(xwayJson(['convert', unit], {env}).code, 2)
  assert.is(xwayJson(['convert', unit, '--type', 'vcs-control'], {env}).code, 2)
  assert.is(hash(unit), before)
})

test.after(() => cleanup())
test.run()
