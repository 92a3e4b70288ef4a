import {execFileSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {exportImage, fsckAll} from '../support/disk.js'
import {runKilled} from '../support/crash.js'
import {seededPrng, testSeed} from '../support/random.js'
import {BIN, cleanup, copyUnit, makeUnit, tempDir, xwayJson} from '../support/run.js'

// Real changing commands (factory-reset, backup restore, network set) on a raw image, killed with
// SIGKILL at seeded instants: from the start, or after the image's journal (the commit point)
// appeared, while its blocks are applied (a test-only delay between blocks). Then `image recover
// FILE`: the image's unit (image inspect --json) is exactly the old or the new one, and every
// partition passes e2fsck -fn.

const test = suite('commands on a raw image killed mid-operation')
const seed = testSeed()
const rand = seededPrng(seed)
const env = {XWAY_NOW: '2026-01-01T00:00:00.000Z', XWAY_BACKUP_PASSWORD: 'crash pw'}
const dir = tempDir('xway-disk-cmd-crash-')
const unit = makeUnit(dir, {seed: 'disk-command-crash'})
writeFileSync(join(unit, 'mnt/harddisk/log/big.log'), 'x'.repeat(4 << 20))
const base = join(dir, 'base.img')
exportImage(unit, base)
const changed = copyUnit(unit)
xwayJson(['network', 'set', changed, '--hostname', 'from-backup'], {env})
const backup = join(dir, 'b.enc')
xwayJson(['backup', 'create', changed, '-o', backup], {env})
let n = 0

function copy(): string {
  const f = join(dir, `c${n++}.img`)
  execFileSync('cp', ['--sparse=always', base, f])
  return f
}

function inspect(img: string): string {
  const r = xwayJson(['image', 'inspect', img], {env, spawn: true})
  assert.is(r.code, 0, r.stdout + r.stderr)
  return r.stdout.split(img).join('IMG')
}

const COMMANDS: Array<[string, (img: string) => string[]]> = [
  ['factory-reset', (img) => ['factory-reset', img, '--yes', '--seed', 'crash', '--json']],
  ['backup restore', (img) => ['backup', 'restore', img, backup, '--yes', '--json']],
  ['network set', (img) => ['network', 'set', img, '--hostname', 'crashed', '--dns', '192.0.2.99', '--json']],
]

for (const [name, args] of COMMANDS) {
  test(`${name} killed at seeded instants: after image recover exactly old or new, e2fsck clean (seed ${seed})`, async () => {
    const old = inspect(base)
    const ref = copy()
    const done = await runKilled([BIN, ...args(ref)], {env, kill: null})
    assert.is(done.code, 0, done.output)
    const fresh = inspect(ref)
    assert.is.not(fresh, old)
    const seen = {old: 0, new: 0, journalAtKill: 0, killed: 0}
    for (let i = 0; i < 4; i++) {
      const img = copy()
      const kill = i % 2 === 0 ? {afterJournal: Math.floor(rand() * 40), unit: img, journal: `${img}.xway-journal`} : {fromStart: 200 + Math.floor(rand() * 800)}
      const r = await runKilled([BIN, ...args(img)], {env: {...env, XWAY_TEST_OP_DELAY_MS: '15'}, kill})
      if (r.killed) seen.killed++
      if (r.killed && existsSync(`${img}.xway-journal`)) seen.journalAtKill++
      const rec = xwayJson(['image', 'recover', img], {env, spawn: true})
      assert.is(rec.code, 0, rec.stdout + rec.stderr)
      assert.not.ok(existsSync(`${img}.xway-journal`))
      const now = inspect(img)
      assert.ok(now === old || now === fresh, `${name} run ${i} (${JSON.stringify(kill)}): neither old nor new (seed ${seed})`)
      if (now === old) seen.old++
      else seen.new++
      for (const [p, f] of Object.entries(fsckAll(img))) assert.is(f.code, 0, `${name} run ${i} ${p}: ${f.output}`)
    }
    assert.ok(seen.journalAtKill >= 1, `at least one kill landed after the commit point, mid-apply: ${JSON.stringify(seen)}`)
  })
}

test.after(() => cleanup())
test.run()
