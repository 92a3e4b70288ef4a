import {cpSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {P} from '../support/paths.js'
import {type KillAt, runKilled} from '../support/crash.js'
import {seededPrng, testSeed} from '../support/random.js'
import {BIN, cleanup, makeUnit, PROFILES, tempDir, unitHash, xwayAsync} from '../support/run.js'

// SPEC 4: "killed at any instant, the unit is afterwards (after image recover when the journal says
// so) either exactly as before or exactly as after, and saved logs are never lost". The hidden --seed
// makes the regenerated keys reproducible, so "after" is one exact tree: that of an uninterrupted reset
// of an identical copy.
const test = suite('factory-reset crash')
const NOW = '2026-03-01T00:00:00Z'
const OP_DELAY_MS = 25
const hash = unitHash
const logsHash = (unit: string) => hashTree(join(unit, P.logDir))

/** Runs a reset and kills it with SIGKILL as `kill` says (at an instant, or inside the replay). */
async function runReset(unit: string, flags: string[], kill: KillAt): Promise<{code: number | null; killed: boolean; ms: number; stderr: string}> {
  const r = await runKilled([BIN, 'factory-reset', unit, ...flags, '--yes', '--seed', 'crash', '--json'], {
    env: {XWAY_NOW: NOW, XWAY_TEST_OP_DELAY_MS: String(OP_DELAY_MS)},
    kill,
  })
  return {code: r.code, killed: r.killed, ms: r.ms, stderr: r.output}
}

let dir: string
let template: string

test.before(() => {
  dir = tempDir()
  template = makeUnit(dir, {name: 'template', profile: join(PROFILES, 'expressway-e.yaml')})
  mkdirSync(join(template, P.logDir, 'old'), {recursive: true})
  const block = Buffer.alloc(1 << 20, 'log line\n')
  for (let i = 0; i < 4; i++) writeFileSync(join(template, P.logDir, 'old', `messages.${i}.log`), block)
  writeFileSync(join(template, P.sniDir, 'sni.pem'), 'not kept by any reset\n')
})

test('an uninterrupted reset with --seed and XWAY_NOW is reproducible: identical copies give identical trees', async () => {
  const a = join(dir, 'det-a')
  const b = join(dir, 'det-b')
  cpSync(template, a, {recursive: true})
  cpSync(template, b, {recursive: true})
  const [ra, rb] = await Promise.all([runReset(a, [], null), runReset(b, [], null)])
  assert.equal([ra.code, rb.code], [0, 0], ra.stderr + rb.stderr)
  assert.is(hash(a), hash(b))
})

for (const [name, flags] of [['nothing kept', []], ['brand, licensing and logs kept', ['-v', '-t', '-l']]] as Array<[string, string[]]>) {
  test(`kill -9 at random instants (${name}): after recover the unit is exactly old or exactly new, verifies, and saved logs are never lost`, async () => {
    const seed = testSeed()
    const random = seededPrng(seed)
    const oldHash = hash(template)
    const oldLogs = logsHash(template)
    const twin = join(dir, `twin-${flags.length}`)
    cpSync(template, twin, {recursive: true})
    const done = await runReset(twin, flags, null)
    assert.is(done.code, 0, done.stderr)
    const newHash = hash(twin)
    assert.is.not(newHash, oldHash)
    if (flags.includes('-l')) assert.is(logsHash(twin), oldLogs)

    const outcomes = {old: 0, new: 0, killed: 0}
    for (let i = 0; i < 5; i++) {
      const unit = join(dir, `u-${flags.length}-${i}`)
      cpSync(template, unit, {recursive: true})
      // even iterations: uniformly over the child's whole life (start-up, reading, staging, commit);
      // odd ones: inside the replay of the committed journal (about 40 operations, OP_DELAY_MS apart)
      const kill: KillAt = i % 2 === 0 ? {fromStart: Math.floor(random() * done.ms)} : {afterJournal: Math.floor(random() * 40 * OP_DELAY_MS), unit}
      const where = `seed ${seed} (replay with XWAY_TEST_SEED=${seed}), iteration ${i}, kill ${JSON.stringify(kill)}`
      const run = await runReset(unit, flags, kill)
      if (run.killed) outcomes.killed++
      else assert.is(run.code, 0, `${where}: ${run.stderr}`)
      const rec = await xwayAsync(['image', 'recover', unit, '--json'])
      assert.is(rec.code, 0, `${where}: recover failed: ${rec.stdout}`)
      const verify = await xwayAsync(['image', 'verify', unit, '--json'])
      assert.is(verify.code, 0, `${where}: ${verify.stdout}`)
      const h = hash(unit)
      assert.ok(h === oldHash || h === newHash, `${where}: the unit is neither exactly old nor exactly new`)
      if (flags.includes('-l')) assert.is(logsHash(unit), oldLogs, `${where}: saved logs were lost`)
      outcomes[h === oldHash ? 'old' : 'new']++
    }
    assert.ok(outcomes.killed >= 2, `seed ${seed}: too few kills landed inside the reset (${outcomes.killed})`)
    console.log(`  factory-reset crash injection, ${name} (seed ${seed}): ${outcomes.killed} of 5 killed mid-way; ${outcomes.old} old, ${outcomes.new} new`)
  })
}

test.after(() => cleanup())
test.run()
