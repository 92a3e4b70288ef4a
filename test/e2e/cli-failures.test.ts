// One failure contract: with --json every failure prints {"error":{code, message, actions, data}},
// data being what a script needs (verify's problems, the result the command would have printed),
// left out when there is none; system errors reach the user as sentences, never as errno codes.
import {chmodSync, mkdirSync, readdirSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {ownTempDir} from './license-server-helpers.js'
import {at, expect, makeLicenseServer, ok, profileFor, status, treeHash, unitFrom, type LicenseServer} from './licensing-helpers.js'
import {copyUnit, makeUnit, xway, xwayJson} from '../support/run.js'

const test = suite('cli failures')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; profile: string; plain: string}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-cli-failures-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 10})
  await ctx.server.start()
  ctx.profile = profileFor(ctx.tmp.path, ctx.server)
  ctx.plain = makeUnit(ctx.tmp.path, {name: 'plain'})
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test('image verify --json: an unsound unit exits 1 with the problems as data [{path, area, problem}]', () => {
  const unit = copyUnit(ctx.plain)
  chmodSync(join(unit, P.serverKey), 0o644)
  unlinkSync(join(unit, P.systemKey))
  const r = xwayJson(['image', 'verify', unit])
  assert.is(r.code, 1, r.stdout)
  assert.equal(Object.keys(r.json), ['error'])
  assert.equal(Object.keys(r.json.error), ['code', 'message', 'actions', 'data'])
  assert.is(r.json.error.code, 'failed')
  const problems = r.json.error.data as Array<{path: string; area: string | null; problem: string}>
  assert.is(problems.length, r.json.error.actions.length)
  for (const p of problems) assert.equal(Object.keys(p), ['path', 'area', 'problem'])
  const key = problems.find((p) => p.path === P.serverKey)
  assert.ok(key, JSON.stringify(problems))
  assert.is(key!.area, 'certs')
  assert.match(key!.problem, /0600/)
  assert.equal(problems.find((p) => p.path === P.systemKey)?.area, 'bootstrap-key')
  // a sound unit: its result, no error
  const sound = xwayJson(['image', 'verify', ctx.plain])
  assert.is(sound.code, 0)
  assert.is(sound.json.ok, true)
})

test('an error without data has no data field', () => {
  const r = xwayJson(['image', 'inspect', join(ctx.tmp.path, 'no-such-unit')])
  assert.is(r.code, 4)
  assert.equal(Object.keys(r.json.error), ['code', 'message', 'actions'])
})

test('usage admit refused: exit 3, the usage it found as data, unit unchanged', () => {
  const unit = copyUnit(ctx.plain)
  assert.is(xwayJson(['usage', 'set', unit, '--room', '2500']).code, 0)
  const before = treeHash(unit)
  const r = xwayJson(['usage', 'admit', unit, '--call'])
  assert.is(r.code, 3, r.stdout)
  assert.is(r.json.error.code, 'refused')
  assert.match(r.json.error.message, /^Export control/)
  assert.equal(r.json.error.data, {
    unit, admitted: false, kind: 'call',
    usage: {calls: 0, desktop: 0, room: 2500, webrtc: false, exportControl: {limit: 2500, state: 'reached'}},
  })
  assert.is(treeHash(unit), before)
})

test('licensing register --token-file registers with the token of the file\'s first line; the token shows nowhere', () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'token-file')
  const token = ctx.server.token()
  const file = join(ctx.tmp.path, 'token.txt')
  writeFileSync(file, `${token}\n`, {mode: 0o600})
  const r = xwayJson(['licensing', 'register', unit, '--token-file', file], {env: {XWAY_NOW: at(0)}})
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.is(r.json.licensing.registration.status, 'Registered')
  assert.not.ok(r.stdout.includes(token) || r.stderr.includes(token))
  const human = xway(['licensing', 'status', unit], {env: {XWAY_NOW: at(0)}})
  assert.not.ok(human.stdout.includes(token))
  ok(['licensing', 'deregister', unit], at(1))
})

test('licensing register refused by the server: exit 4, the licensing status after it as data', () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'bad-token')
  const r = expect(4, ['licensing', 'register', unit, '--token', 'NoSuchTokenAtAll123'], at(1))
  assert.is(r.error.code, 'bad-input')
  assert.is(r.error.data.unit, unit)
  assert.is(r.error.data.licensing.registration.status, 'Unregistered: Registration Failed')
  assert.equal(r.error.data.licensing, status(unit, at(1)))
})

test('licensing register and sync with the server down: exit 6, Registration Pending as data', async () => {
  const unit = unitFrom(ctx.tmp.path, ctx.profile, 'down')
  await ctx.server.stop()
  try {
    const r = expect(6, ['licensing', 'register', unit, '--token', 'AnyTokenTheServerNeverSees1'], at(1))
    assert.is(r.error.code, 'unreachable')
    assert.is(r.error.data.licensing.registration.status, 'Unregistered: Registration Pending')
    assert.is(r.error.data.licensing.registration.nextAttemptAt, at(1, 15))
    const s = expect(6, ['licensing', 'sync', unit], at(1, 16))
    assert.is(s.error.code, 'unreachable')
    assert.is(s.error.data.unit, unit)
    assert.is(s.error.data.licensing.registration.nextAttemptAt, at(1, 31))
    assert.not.ok(JSON.stringify(s).includes('AnyTokenTheServerNeverSees1'), 'the pending token is not shown')
  } finally {
    await ctx.server.start()
  }
})

test('a usage error carries no data (nothing was tried)', () => {
  const r = xwayJson(['licensing', 'register', ctx.plain, '--token', ''])
  assert.is(r.code, 2)
  assert.not.ok('data' in r.json.error)
})

test('system errors are sentences: a path under a file, a folder where a file goes; no errno code, no stack', () => {
  const unit = copyUnit(ctx.plain)
  const file = join(ctx.tmp.path, 'a-file')
  writeFileSync(file, 'x')
  const under = xwayJson(['image', 'pack', unit, '-o', join(file, 'x.tar.gz')])
  assert.is(under.code, 4, under.stdout)
  assert.match(under.json.error.message, /^Cannot [a-z ]+ .*a-file\/x\.tar\.gz.*: a part of the path is a file, not a folder\.$/)
  const folder = join(ctx.tmp.path, 'a-folder.tar.gz')
  mkdirSync(folder)
  const human = xway(['image', 'unpack', folder, join(ctx.tmp.path, 'unpacked')])
  assert.is(human.code, 4, human.stderr)
  assert.match(human.stderr, /^Error: .*a-folder\.tar\.gz is not a file\./m)
  for (const out of [under.stdout, human.stderr]) {
    assert.not.match(out, /\bE(NOENT|NOTDIR|ISDIR|EXIST|PERM|ACCES|NOSPC)\b|ABORT_ERR|\n\s+at /)
  }
  assert.equal(readdirSync(folder), [])
})

test.run()
