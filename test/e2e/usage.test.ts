import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, unitHash, writeProfile, xwayJson} from '../support/run.js'

const test = suite('usage')
// units are built at 2026-01-01 (makeUnit), so the 90-day evaluation ends 2026-04-01
const IN_EVALUATION = {XWAY_NOW: '2026-02-01T00:00:00Z'}
const EXPIRED = {XWAY_NOW: '2026-05-01T00:00:00Z'}
const env = IN_EVALUATION
const hash = unitHash
const alarmKeys = (unit: string) => (JSON.parse(readFileSync(join(unit, P.alarms), 'utf8')).alarms as Array<{key: string}>).map((a) => a.key)

let dir: string
const templates: Record<string, string> = {}

const copyOf = (name: string) => copyUnit(templates[name])

const set = (unit: string, ...flags: string[]) => xwayJson(['usage', 'set', unit, ...flags], {env})
const admit = (unit: string, kind: string, e: NodeJS.ProcessEnv = env) => xwayJson(['usage', 'admit', unit, `--${kind}`], {env: e})

test.before(() => {
  dir = tempDir()
  templates.expC = makeUnit(dir, {name: 't-exp-c', profile: join(PROFILES, 'expressway-c.yaml')})
  templates.vcs = makeUnit(dir, {name: 't-vcs', profile: join(PROFILES, 'vcs.yaml')})
  templates.select = makeUnit(dir, {name: 't-select', profile: writeProfile(dir, 'apiVersion: xway/v1\nkind: Unit\nsoftware: X14.2.0\nedition: select\n', 'select.yaml')})
})

test('set records the counts given, leaves the others, and follows the thresholds: approaching from 2250, reached at 2500, alarms raised and cleared', async () => {
  const unit = copyOf('expC')
  let r = set(unit, '--calls', '2000', '--desktop', '249')
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.usage, {calls: 2000, desktop: 249, room: 0, webrtc: false, exportControl: {limit: 2500, state: 'ok'}})
  assert.equal(alarmKeys(unit), [])
  r = set(unit, '--room', '1')
  assert.equal(r.json.usage, {calls: 2000, desktop: 249, room: 1, webrtc: false, exportControl: {limit: 2500, state: 'approaching'}})
  assert.equal(alarmKeys(unit), ['export-control-approaching'])
  r = set(unit, '--calls', '2250')
  assert.is(r.json.usage.exportControl.state, 'reached')
  assert.equal(alarmKeys(unit), ['export-control-reached'])
  // hysteresis: 2500 → 2480 stays reached; 2475 too; 2474 is below the lower watermark
  r = set(unit, '--calls', '2230')
  assert.is(r.json.usage.exportControl.state, 'reached')
  r = set(unit, '--calls', '2225')
  assert.is(r.json.usage.exportControl.state, 'reached')
  r = set(unit, '--calls', '2224')
  assert.is(r.json.usage.exportControl.state, 'approaching')
  assert.equal(alarmKeys(unit), ['export-control-approaching'])
  const inspected = xwayJson(['image', 'inspect', unit], {env}).json
  assert.equal(inspected.usage.exportControl, {limit: 2500, state: 'approaching'})
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"usage set"/)
  r = set(unit, '--calls', '0', '--desktop', '0', '--room', '0')
  assert.is(r.json.usage.exportControl.state, 'ok')
  assert.equal(alarmKeys(unit), [])
})

test('admit counts a session (exit 0); once reached it refuses (exit 3, unchanged) until the total is below 2475', async () => {
  const unit = copyOf('expC')
  set(unit, '--calls', '2499')
  let r = admit(unit, 'call')
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json, {unit, usage: {calls: 2500, desktop: 0, room: 0, webrtc: false, exportControl: {limit: 2500, state: 'reached'}}, admitted: true, kind: 'call'})
  assert.equal(alarmKeys(unit), ['export-control-reached'])
  const before = hash(unit)
  r = admit(unit, 'desktop')
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /Export control/)
  assert.match(r.json.error.message, /below 2475/)
  assert.is(hash(unit), before)
  set(unit, '--calls', '2475')
  assert.is(admit(unit, 'room').code, 3)
  set(unit, '--calls', '2474')
  r = admit(unit, 'room')
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.usage.exportControl, {limit: 2500, state: 'approaching'})
})

test('WebRTC on: limit 2244, reached holds down to 2221, admission resumes at 2220', async () => {
  const unit = copyOf('expC')
  let r = set(unit, '--webrtc', 'on', '--calls', '2244')
  assert.equal(r.json.usage.exportControl, {limit: 2244, state: 'reached'})
  set(unit, '--calls', '2221')
  const before = hash(unit)
  assert.is(admit(unit, 'call').code, 3)
  assert.is(hash(unit), before)
  r = set(unit, '--calls', '2220')
  assert.is(r.json.usage.exportControl.state, 'approaching')
  assert.is(admit(unit, 'call').code, 0)
  // WebRTC off: back to 2500; 2221 is then below the approaching threshold of 2250
  r = set(unit, '--webrtc', 'off')
  assert.equal(r.json.usage.exportControl, {limit: 2500, state: 'ok'})
})

test('Select has no limit (null): 3000 sessions stay ok and admission goes on', async () => {
  const unit = copyOf('select')
  const r = set(unit, '--calls', '3000')
  assert.equal(r.json.usage.exportControl, {limit: null, state: 'ok'})
  assert.is(admit(unit, 'desktop').code, 0)
  assert.equal(alarmKeys(unit), [])
})

test('VCS is included: the 2500 limit applies', async () => {
  const unit = copyOf('vcs')
  set(unit, '--room', '2500')
  const r = admit(unit, 'call')
  assert.is(r.code, 3)
  // VCS has no smart licensing, so no Unauthorized state after 90 days
  set(unit, '--room', '0')
  assert.is(admit(unit, 'desktop', EXPIRED).code, 0)
})

test('evaluation expired and not registered: new registrations refused as Unauthorized (exit 3, unchanged); calls still admitted; usage set never refuses', async () => {
  const unit = copyOf('expC')
  assert.is(admit(unit, 'desktop', IN_EVALUATION).code, 0)
  const before = hash(unit)
  for (const kind of ['desktop', 'room']) {
    const r = admit(unit, kind, EXPIRED)
    assert.is(r.code, 3, r.stdout)
    assert.match(r.json.error.message, /^Unauthorized/)
    assert.match(r.json.error.actions.join(' '), /xway licensing register/)
  }
  assert.is(hash(unit), before)
  assert.is(admit(unit, 'call', EXPIRED).code, 0)
  assert.is(xwayJson(['usage', 'set', unit, '--desktop', '5'], {env: EXPIRED}).code, 0)
})

test('a registered unit admits registrations after the evaluation has expired', async () => {
  const unit = copyOf('expC')
  const lic = JSON.parse(readFileSync(join(unit, P.licensing), 'utf8'))
  lic.registration = {...lic.registration, state: 'registered', registeredAt: '2026-04-15T00:00:00.000Z', smartAccount: 'lab', virtualAccount: 'va'}
  writeFileSync(join(unit, P.licensing), JSON.stringify(lic, null, 2) + '\n')
  assert.is(admit(unit, 'room', EXPIRED).code, 0)
})

test('bad usage: negative counts, no kind or two kinds to admit (exit 2, unchanged)', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  assert.is(set(unit, '--calls', '-1').code, 2)
  assert.is(set(unit, '--webrtc', 'maybe').code, 2)
  assert.is(xwayJson(['usage', 'admit', unit], {env}).code, 2)
  assert.is(xwayJson(['usage', 'admit', unit, '--call', '--room'], {env}).code, 2)
  assert.is(hash(unit), before)
})

test.after(() => cleanup())
test.run()
