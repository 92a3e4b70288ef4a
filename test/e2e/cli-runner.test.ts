// The tests' own runner (test/support/run.ts): a command run in process answers exactly as the
// spawned binary does, and nothing of one run (environment, exit code, stdin) reaches the next.
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup, makeUnit, tempDir, unitHash, xway, xwayJson} from '../support/run.js'

const dir = tempDir()
const unit = makeUnit(dir)
const NOW = {XWAY_NOW: '2026-03-01T00:00:00Z'}

// each file's first call of a command spawns; run every case once first so that the next runs are in process
function both(args: string[], options: Parameters<typeof xway>[1] = {}) {
  const spawned = xway(args, {...options, spawn: true})
  xway(args, options)
  const inProcess = xway(args, options)
  return {spawned, inProcess}
}

const cases: Array<[string, string[], Parameters<typeof xway>[1]]> = [
  ['a JSON result', ['image', 'inspect', unit, '--json'], {env: NOW}],
  ['human output and a warning', ['licensing', 'status', unit], {env: NOW}],
  ['a refusal (exit 3)', ['option-keys', 'add', unit, '116341C00-1-ABCD1234', '--json'], {}],
  ['a bad flag (exit 2)', ['usage', 'set', unit, '--calls', 'x'], {}],
  ['an unknown flag', ['image', 'inspect', unit, '--nope'], {}],
  ['a unit that is not there (exit 4)', ['image', 'inspect', `${dir}/none`, '--json'], {}],
  ['answers on stdin', ['factory-reset', unit, '--dry-run'], {input: ''}],
]
for (const [what, args, options] of cases) {
  test(`in process as spawned: ${what}`, () => {
    const {spawned, inProcess} = both(args, options)
    assert.is(inProcess.code, spawned.code)
    assert.is(inProcess.stdout, spawned.stdout)
    assert.is(inProcess.stderr, spawned.stderr)
  })
}

test('nothing of one run reaches the next: environment, exit code, stdin', () => {
  const backup = (name: string, env: NodeJS.ProcessEnv) => xwayJson(['backup', 'create', unit, '-o', `${dir}/${name}.enc`], {env})
  backup('first', {XWAY_BACKUP_PASSWORD: 'pw-of-one-run'})
  assert.is(backup('with', {XWAY_BACKUP_PASSWORD: 'pw-of-one-run'}).code, 0)
  const without = backup('without', {XWAY_BACKUP_PASSWORD: ''})
  assert.is(without.code, 2, 'the password of the run before is gone')
  assert.match(without.json.error.message, /no backup password/)
  // a failure, then a success: exit 0
  assert.is(xwayJson(['image', 'verify', `${dir}/none`]).code, 1)
  assert.is(xwayJson(['image', 'verify', unit]).code, 0)
  // piped answers are read by their own run only
  const before = unitHash(unit)
  const answered = xway(['factory-reset', unit], {input: 'NO\n'.repeat(12), env: NOW})
  assert.is(answered.code, 0, answered.stderr)
  assert.match(answered.stdout, /Factory reset cancelled; nothing changed/)
  const unanswered = xway(['factory-reset', unit], {env: NOW})
  assert.is(unanswered.code, 2, unanswered.stderr)
  assert.match(unanswered.stderr, /stdin ended/)
  assert.is(unitHash(unit), before)
})

test.after(() => cleanup())

test.run()
