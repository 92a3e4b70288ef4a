import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {releaseKey} from '../../src/lifecycle/software.js'
import {P} from '../support/paths.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, unitHash, writeProfile, xway, xwayJson} from '../support/run.js'

const test = suite('upgrade')
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
  templates.legacy = makeUnit(dir, {name: 't-legacy', profile: join(PROFILES, 'x14.0.2.yaml')})
  templates.x142 = makeUnit(dir, {name: 't-x142', profile: join(PROFILES, 'expressway-c.yaml')})
  templates.vcsFips = makeUnit(dir, {
    name: 't-vcs-fips',
    profile: writeProfile(dir, `apiVersion: xway/v1
kind: Unit
software: X14.0.2
brand: vcs
fips: true
optionKeys: [116341C00-1-0A1B2C3D, 116341J00-1-4E5F6A7B, 116341W10-1-11112222]
`, 'vcs-fips.yaml'),
  })
  templates.expFips = makeUnit(dir, {
    name: 't-exp-fips',
    profile: writeProfile(dir, `apiVersion: xway/v1
kind: Unit
software: X14.0.2
fips: true
optionKeys: [116341J00-1-4E5F6A7B]
`, 'exp-fips.yaml'),
  })
})

test('X14.0.2 → X14.2.0 on an Expressway: PAK keys dropped but C00, smart licensing on with the evaluation starting, payload and release key of X14.2.0', async () => {
  const unit = copyOf('legacy')
  const r = xway(['upgrade', unit, '--to', 'X14.2.0', '--json'], {env})
  assert.is(r.code, 0, r.stdout + r.stderr)
  const json = JSON.parse(r.stdout)
  assert.is(json.from, 'X14.0.2')
  assert.is(json.to, 'X14.2.0')
  assert.equal(json.optionKeys, {kept: ['116341C00-1-0A1B2C3D'], dropped: ['116341E00-1-8C9D0E1F']})
  assert.equal(json.licensing, {mode: 'smart', turnedOn: true, registrationKept: false, evaluationStartedAt: '2026-03-01T00:00:00.000Z'})
  // the seed's advice, in --json and on stderr
  assert.ok(json.warnings.some((w: string) => w.includes('This will help while reverting to a previous image')), json.warnings.join('\n'))
  assert.match(r.stderr, /This will help while reverting to a previous image/)

  const after = (await inspect(unit))
  assert.is(after.softwareVersion, 'X14.2.0')
  assert.is(after.licensing.mode, 'smart')
  assert.is(after.licensing.evaluation.startedAt, '2026-03-01T00:00:00.000Z')
  assert.equal(after.optionKeys.map((k: {feature: string}) => k.feature), ['C00'])
  const rk = `${releaseKey(after.hardware.serial, 'X14.2.0')}\n`
  assert.is(readFileSync(join(unit, P.releaseKey), 'utf8'), rk)
  assert.is(readFileSync(join(unit, P.payloadRk), 'utf8'), rk)
  assert.is.not(rk, `${releaseKey(after.hardware.serial, 'X14.0.2')}\n`)
  // the factory payload is X14.2.0's software image, the very bytes a unit built on X14.2.0 carries
  assert.ok(readFileSync(join(unit, P.payloadImage)).equals(readFileSync(join(templates.x142, P.payloadImage))))
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"upgrade"/)
  assert.ok((await verifies(unit)))
})

test('smart licensing on and registered before: the registration is kept, no evaluation starts, no warning', async () => {
  const unit = copyOf('legacy')
  const lic = JSON.parse(readFileSync(join(unit, P.licensing), 'utf8'))
  lic.mode = 'smart'
  lic.registration = {...lic.registration, state: 'registered', smartAccount: 'lab', virtualAccount: 'va', exportControlled: 'Allowed', registeredAt: '2026-02-01T00:00:00.000Z', serial: 'X'}
  lic.authorization = {...lic.authorization, lastSuccessAt: '2026-02-01T00:00:00.000Z', result: 'authorized'}
  writeFileSync(join(unit, P.licensing), JSON.stringify(lic, null, 2) + '\n')
  const r = xwayJson(['upgrade', unit, '--to', 'X14.2.0'], {env})
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.licensing, {mode: 'smart', turnedOn: false, registrationKept: true, evaluationStartedAt: null})
  assert.not.ok(r.json.warnings.some((w: string) => w.includes('reverting')))
  const after = (await inspect(unit))
  assert.is(after.licensing.registration.status, 'Registered')
  assert.is(after.licensing.registration.virtualAccount, 'va')
})

test('the same version is nothing to do (exit 0, unchanged); a downgrade is refused (exit 3, unchanged)', async () => {
  const unit = copyOf('x142')
  const before = hash(unit)
  const same = xwayJson(['upgrade', unit, '--to', 'X14.2.0'], {env})
  assert.is(same.code, 0)
  assert.is(same.json.changed, false)
  assert.is(hash(unit), before)
  const down = xwayJson(['upgrade', unit, '--to', 'X14.0.2'], {env})
  assert.is(down.code, 3, down.stdout)
  assert.match(down.json.error.message, /Downgrade/)
  assert.is(hash(unit), before)
})

test('an unknown version is bad input (exit 4) listing the versions available; unchanged', async () => {
  const unit = copyOf('legacy')
  const before = hash(unit)
  const r = xwayJson(['upgrade', unit, '--to', 'X15.9.9'], {env})
  assert.is(r.code, 4, r.stdout)
  assert.match(r.json.error.message, /X14\.0\.2, X14\.2\.0/)
  assert.is(hash(unit), before)
})

test('a FIPS VCS: keeps its option keys and legacy licensing, SIP Advanced SipTlsDhKeySize becomes "2048", no smart licensing warning', async () => {
  const unit = copyOf('vcsFips')
  const r = xwayJson(['upgrade', unit, '--to', 'X14.2.0'], {env})
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.optionKeys.dropped, [])
  assert.equal(r.json.fips, {enabled: true, sipTlsDhKeySize: '2048'})
  assert.equal(r.json.warnings, [])
  const config = JSON.parse(readFileSync(join(unit, P.config), 'utf8'))
  assert.is(config.SIP.Advanced.SipTlsDhKeySize, '2048')
  const after = (await inspect(unit))
  assert.equal(after.licensing, {mode: 'legacy'})
  assert.is(after.optionKeys.length, 3)
  assert.is(after.fips.enabled, true)
  assert.ok((await verifies(unit)))
})

test('a standard Expressway in FIPS 140 mode is refused the upgrade to X14.2 (exit 3, unchanged)', async () => {
  const unit = copyOf('expFips')
  const before = hash(unit)
  const r = xwayJson(['upgrade', unit, '--to', 'X14.2.0'], {env})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /FIPS140-2 cryptographic mode is not available under export control/)
  assert.is(hash(unit), before)
})

test.after(() => cleanup())
test.run()
