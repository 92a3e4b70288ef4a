import {cpSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {type KilledRun, type KillAt, runKilled} from '../support/crash.js'
import {seededPrng, testSeed} from '../support/random.js'
import {BIN, cleanup, makeUnit, PROFILES, tempDir, unitHash, xwayAsync} from '../support/run.js'

// kill -9 at seeded random instants during convert and upgrade; after `image recover` the unit
// verifies and is byte for byte either the unit before or the unit after an uninterrupted run
// (convert and upgrade are deterministic given XWAY_NOW, so a twin gives the after-tree).
// Replay XWAY_TEST_SEED=<seed> to get the same instants.
const test = suite('lifecycle crash injection')
const ITERATIONS = 8
const OP_DELAY_MS = 50
const env = {XWAY_NOW: '2026-03-01T00:00:00Z', XWAY_TEST_OP_DELAY_MS: String(OP_DELAY_MS)}
const hash = unitHash

/**
 * When to kill: `afterCommit` counts from the moment the journal appears (the commit point), so
 * that the instant lands among the applied operations whatever the machine's load; `fromStart`
 * counts from the spawn (startup, planning, staging, or already done).
 */
function run(args: string[], unit: string, kill: KillAt): Promise<KilledRun> {
  return runKilled([BIN, ...args], {env, kill})
}

interface Case {
  name: string
  template: string
  args: (unit: string) => string[]
  before: string
  after: string
  ms: number
}

async function prepare(dir: string, name: string, profile: string, args: (unit: string) => string[]): Promise<Case> {
  const template = makeUnit(dir, {name: `t-${name}`, profile: join(PROFILES, profile)})
  const before = hash(template)
  const twin = join(dir, `twin-${name}`)
  cpSync(template, twin, {recursive: true})
  assert.is(hash(twin), before, `${name}: a copy of the template is the template`)
  const done = await run(args(twin), twin, null)
  assert.is(done.code, 0, `${name}: uninterrupted run failed: ${done.output}`)
  const after = hash(twin)
  assert.is.not(after, before, `${name}: the operation changed nothing`)
  return {name, template, args, before, after, ms: done.ms}
}

async function crashOnce(dir: string, c: Case, i: number, draw: [number, number], seed: number): Promise<string> {
  const unit = join(dir, `${c.name}-${i}`)
  cpSync(c.template, unit, {recursive: true})
  // three in four instants land among the applied operations, the others anywhere in the run
  const kill: KillAt = draw[0] < 0.75 ? {afterJournal: Math.floor(draw[1] * 6 * OP_DELAY_MS), unit} : {fromStart: Math.floor(draw[1] * c.ms)}
  const r = await run(c.args(unit), unit, kill)
  const where = `seed ${seed}, ${c.name} iteration ${i} (kill ${JSON.stringify(kill)} ms)`
  const rec = await xwayAsync(['image', 'recover', unit, '--json'], {env: {XWAY_NOW: env.XWAY_NOW}})
  assert.is(rec.code, 0, `${where}: recover failed: ${rec.stdout}${rec.stderr}`)
  const verify = await xwayAsync(['image', 'verify', unit, '--json'])
  assert.is(verify.code, 0, `${where}: verify failed: ${verify.stdout}`)
  const h = hash(unit)
  assert.ok(h === c.before || h === c.after, `${where}: the unit is neither the before-tree nor the after-tree`)
  if (!r.killed) assert.is(h, c.after, `${where}: the run finished, so the unit must be the after-tree`)
  const action = rec.json?.action ?? 'none'
  return `${h === c.before ? 'before' : 'after'}${action === 'none' ? '' : ` (${action})`}`
}

test('convert and upgrade killed at random instants: after recover, exactly before or exactly after, and sound', async () => {
  const seed = testSeed()
  const random = seededPrng(seed)
  const dir = tempDir()
  const cases = await Promise.all([
    prepare(dir, 'convert', 'vcs.yaml', (unit) => ['convert', unit, '--type', 'expressway-e', '--json']),
    prepare(dir, 'upgrade', 'x14.0.2.yaml', (unit) => ['upgrade', unit, '--to', 'X14.2.0', '--json']),
  ])
  const outcomes: Record<string, Record<string, number>> = {convert: {}, upgrade: {}}
  for (let i = 0; i < ITERATIONS; i++) {
    // draw in a fixed order, so that a seed replays the same instants
    const draws = cases.map((): [number, number] => [random(), random()])
    const results = await Promise.all(cases.map((c, k) => crashOnce(dir, c, i, draws[k], seed)))
    for (const [k, r] of results.entries()) outcomes[cases[k].name][r] = (outcomes[cases[k].name][r] ?? 0) + 1
  }
  const show = (o: Record<string, number>) => Object.entries(o).map(([k, n]) => `${n} ${k}`).join(', ')
  console.log(`  crash injection (seed ${seed}): convert: ${show(outcomes.convert)}; upgrade: ${show(outcomes.upgrade)}`)
})

test.after(() => cleanup())
test.run()
