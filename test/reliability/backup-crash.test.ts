// kill -9 during `backup restore` at seeded random instants: after `image recover` the unit is
// exactly as before or exactly as after the restore, and verifies.
import {cpSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {type KilledRun, runKilled} from '../support/crash.js'
import {seededPrng, testSeed} from '../support/random.js'
import {BIN, cleanup, tempDir} from '../support/run.js'
import {ENV, hashAll, runJson, template, verifies} from '../e2e/backup-helpers.js'

const ITERATIONS = 8

function restoreKilledAfter(unit: string, file: string, killAfterMs: number | null): Promise<KilledRun> {
  return runKilled([BIN, 'backup', 'restore', unit, file, '--yes', '--json'], {
    env: {...ENV, XWAY_TEST_OP_DELAY_MS: '15'},
    kill: killAfterMs === null ? null : {fromStart: killAfterMs},
  })
}

test('kill -9 at random instants during a restore: after recover the unit is exactly as before or as after, and verifies', async () => {
  const seed = testSeed()
  const random = seededPrng(seed)
  const dir = tempDir('xway-backup-crash-')
  const source = template(dir, 'source')
  const file = join(dir, 'source.enc')
  assert.is(runJson(['backup', 'create', source, '-o', file]).code, 0)
  // the unit to restore onto differs in every backup area, and in files the restore deletes
  const base = template(dir, 'base', undefined, 'other-seed')
  assert.is(runJson(['network', 'set', base, '--hostname', 'crash-base']).code, 0)
  writeFileSync(join(base, P.configDir, 'extra.json'), '{}\n')
  const oldHash = hashAll(base)

  const twin = join(dir, 'twin')
  cpSync(base, twin, {recursive: true})
  const started = Date.now()
  const done = await restoreKilledAfter(twin, file, null)
  const duration = Date.now() - started
  assert.is(done.code, 0)
  const newHash = hashAll(twin)
  assert.is.not(newHash, oldHash)

  const outcomes = {old: 0, new: 0, rolledForward: 0}
  for (let i = 0; i < ITERATIONS; i++) {
    const unit = join(dir, `u${i}`)
    cpSync(base, unit, {recursive: true})
    // over the whole life of the command: start-up, key derivation, staging, commit point, replay
    const killAt = Math.floor(random() * duration)
    const where = `seed ${seed} (XWAY_TEST_SEED=${seed} replays it), iteration ${i}, kill at ${killAt} of ${duration} ms`
    await restoreKilledAfter(unit, file, killAt)
    const rec = runJson(['image', 'recover', unit])
    assert.is(rec.code, 0, `${where}: recover failed: ${rec.stdout}`)
    if (rec.json.action === 'rolled-forward') outcomes.rolledForward++
    assert.ok((await verifies(unit)), `${where}: the unit does not verify`)
    const h = hashAll(unit)
    assert.ok(h === oldHash || h === newHash, `${where}: the unit is neither as before nor as after`)
    outcomes[h === oldHash ? 'old' : 'new']++
  }
  console.log(`  restore crash injection (seed ${seed}): ${outcomes.old} before, ${outcomes.new} after (${outcomes.rolledForward} finished by recover)`)
})

test.after(() => cleanup())
test.run()
