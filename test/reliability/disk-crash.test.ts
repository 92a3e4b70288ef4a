import {execFileSync, spawn} from 'node:child_process'
import {closeSync, existsSync, openSync, readSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {sha256Of} from '../../src/disk/export.js'
import {journalPath, readJournal} from '../../src/disk/journal.js'
import {openDiskStore} from '../../src/disk/store.js'
import {exportImage, fsckAll} from '../support/disk.js'
import {seededPrng, testSeed} from '../support/random.js'
import {cleanup, makeUnit, ROOT, tempDir} from '../support/run.js'

// A child commits to a raw image and is killed with SIGKILL at seeded instants: before the
// journal's rename (the commit point) and while its blocks are being applied (a test-only delay
// between blocks widens that window). After recover, the image is exactly the old or exactly the
// new one (sha256) and every partition passes e2fsck -fn.

const test = suite('disk image crash safety')
const seed = testSeed()
const rand = seededPrng(seed)
const dir = tempDir('xway-disk-crash-')
const unit = makeUnit(dir, {seed: 'disk-crash'})
execFileSync('sh', ['-c', `head -c ${8 << 20} /dev/urandom > ${join(unit, 'mnt/harddisk/log/old.log')}`])
const base = join(dir, 'base.img')
exportImage(unit, base)
const child = join(ROOT, 'test/support/disk.ts')
let n = 0

function copy(): string {
  const f = join(dir, `c${n++}.img`)
  execFileSync('cp', ['--sparse=always', base, f])
  return f
}

interface Run {killed: boolean; journalAtKill: boolean; partial: boolean; /** ms from the start until the journal was first seen (null: never) */ journalSeenMs: number | null}

/** Runs the child on img; kills it `ms` after start, or `ms` after the journal appears. */
function run(img: string, kill: {fromStart: number} | {afterJournal: number} | null, delayMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, '--disk-commit-child', img], {cwd: ROOT, stdio: 'ignore', env: {...process.env, XWAY_TEST_OP_DELAY_MS: String(delayMs)}})
    const started = Date.now()
    const timers: NodeJS.Timeout[] = [setTimeout(() => p.kill('SIGKILL'), 120_000)]
    let journalSeenMs: number | null = null
    if (kill && 'fromStart' in kill) timers.push(setTimeout(() => p.kill('SIGKILL'), kill.fromStart))
    let poll: NodeJS.Timeout | null = setInterval(() => {
      if (!existsSync(journalPath(img))) return
      clearInterval(poll!)
      poll = null
      journalSeenMs = Date.now() - started
      if (kill && 'afterJournal' in kill) timers.push(setTimeout(() => p.kill('SIGKILL'), kill.afterJournal))
    }, 1)
    p.on('exit', (_code, signal) => {
      for (const t of timers) clearTimeout(t)
      if (poll) clearInterval(poll)
      const journalAtKill = existsSync(journalPath(img))
      let partial = false
      if (journalAtKill) {
        // some of the journal's blocks are on the image and some are not: the kill landed mid-apply
        const j = readJournal(img)!
        const fd = openSync(img, 'r')
        const applied = j.records.map((r) => {
          const buf = Buffer.alloc(r.data.length)
          readSync(fd, buf, 0, buf.length, r.offset)
          return buf.equals(r.data)
        })
        closeSync(fd)
        partial = applied.some(Boolean) && applied.some((x) => !x)
      }
      resolve({killed: signal === 'SIGKILL', journalAtKill, partial, journalSeenMs})
    })
  })
}

test(`killed at seeded instants, a raw image recovers to exactly old or new, e2fsck clean (seed ${seed})`, async () => {
  const old = await sha256Of(base)
  const ref = copy()
  const done = await run(ref, null, 0)
  assert.not.ok(done.killed)
  const fresh = await sha256Of(ref)
  assert.is.not(fresh, old)
  // the same commit twice gives the same bytes (fixed clock): "new" is one known image
  const ref2 = copy()
  const done2 = await run(ref2, null, 0)
  assert.is(await sha256Of(ref2), fresh)
  // when the commit point comes on this machine now (the journal appears): the kills from the
  // start land before it, seeded between 30% and 85% of the way (they must see "old"); the
  // others after it (the journal's 20 ms between blocks), mid-apply (they must see "new")
  const seen = [done.journalSeenMs, done2.journalSeenMs].filter((ms): ms is number => ms !== null)
  assert.ok(seen.length > 0, 'the uninterrupted commits wrote a journal')
  const commitPoint = Math.min(...seen)
  const outcomes = {old: 0, new: 0, midApply: 0, killed: 0}
  for (let i = 0; i < 6; i++) {
    const img = copy()
    const kill = i % 2 === 0 ? {fromStart: Math.floor(commitPoint * (0.3 + rand() * 0.55))} : {afterJournal: Math.floor(rand() * 80)}
    const r = await run(img, kill, 20)
    if (r.killed) outcomes.killed++
    if (r.partial) outcomes.midApply++
    const store = openDiskStore(img)
    const rec = await store.recover()
    assert.is(rec.action, r.journalAtKill ? 'rolled-forward' : rec.action)
    assert.not.ok(existsSync(journalPath(img)))
    const now = await sha256Of(img)
    assert.ok(now === old || now === fresh, `run ${i} (${JSON.stringify(kill)}): neither old nor new (seed ${seed})`)
    if (now === old) outcomes.old++
    else outcomes.new++
    if (r.journalAtKill) assert.is(now, fresh, 'a committed journal is rolled forward')
    for (const [name, f] of Object.entries(fsckAll(img))) assert.is(f.code, 0, `run ${i} ${name}: ${f.output}`)
  }
  assert.ok(outcomes.killed >= 4, `most runs were killed: ${JSON.stringify(outcomes)}`)
  assert.ok(outcomes.midApply >= 1, `at least one kill landed between applied blocks: ${JSON.stringify(outcomes)}`)
  assert.ok(outcomes.old >= 1 && outcomes.new >= 1, `both outcomes were seen: ${JSON.stringify(outcomes)}`)
})

test.after(() => cleanup())
test.run()
