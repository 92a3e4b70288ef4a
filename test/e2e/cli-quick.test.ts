// The quick path of `image inspect`, `image verify` and `licensing status` (src/cli/quick.ts,
// no CLI framework) prints exactly what the commands print through oclif, and exits the same:
// for a sound unit, an unsound one and a missing one, with and without --json.
import {spawnSync} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {BIN, cleanup, copyUnit, makeUnit, ROOT, tempDir} from '../support/run.js'

let sound: string
let unsound: string
let dir: string

test.before(() => {
  dir = tempDir()
  sound = makeUnit(dir, {name: 'sound'})
  unsound = copyUnit(sound)
  writeFileSync(join(unsound, P.ip), '{not json')
})

function run(args: string[], quick: boolean) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT, encoding: 'utf8', input: '', timeout: 60_000,
    env: {...process.env, XWAY_DEBUG: '', XWAY_NOW: '2026-03-01T00:00:00Z', XWAY_QUICK: quick ? '' : '0'},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

test('both ways print the same bytes and exit the same', () => {
  for (const command of [['image', 'inspect'], ['image', 'verify'], ['licensing', 'status']]) {
    for (const unit of [sound, unsound, join(dir, 'missing')]) {
      for (const json of [[], ['--json']]) {
        const args = [...command, unit, ...json]
        const quick = run(args, true)
        const usual = run(args, false)
        assert.equal(quick, usual, args.join(' '))
      }
    }
  }
  // and the outcomes are the ones the commands promise
  assert.is(run(['image', 'verify', sound], true).code, 0)
  assert.is(run(['image', 'verify', unsound, '--json'], true).code, 1)
  assert.is(JSON.parse(run(['image', 'verify', unsound, '--json'], true).stdout).error.data[0].path, P.ip)
  assert.is(run(['image', 'inspect', join(dir, 'missing')], true).code, 4)
})

test('anything beyond UNIT and --json goes the usual way: help, another flag, a second argument', () => {
  const help = run(['image', 'inspect', sound, '--help'], true)
  assert.is(help.code, 0)
  assert.match(help.stdout, /USAGE/)
  const extra = run(['image', 'inspect', sound, 'extra'], true)
  assert.is(extra.code, 2)
})

test.after(() => cleanup())
test.run()
