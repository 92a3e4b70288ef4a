import * as fs from 'node:fs'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {acquireUnitLock} from '../../src/unit/lock.js'
import {P} from '../../src/unit/paths.js'
import {changeUnit, recoverUnit} from '../../src/unit/transaction.js'
import {cleanup, tempDir} from '../support/run.js'

function fakeUnit(): string {
  const dir = tempDir()
  mkdirSync(join(dir, 'var/lib/xway'), {recursive: true})
  mkdirSync(join(dir, 'a/b'), {recursive: true})
  writeFileSync(join(dir, 'a/b/one.txt'), 'one')
  writeFileSync(join(dir, 'a/two.txt'), 'two')
  return dir
}

test('a change lands whole: writes, deletes and the audit line', async () => {
  const unit = fakeUnit()
  await changeUnit(unit, 'test', (tx) => {
    tx.delete('a/b')
    tx.write('a/b/new.txt', 'new', 0o600)
    tx.write('c/three.txt', 'three')
    tx.audit({what: 'x'})
  })
  assert.not.ok(existsSync(join(unit, 'a/b/one.txt')))
  assert.is(readFileSync(join(unit, 'a/b/new.txt'), 'utf8'), 'new')
  assert.is(readFileSync(join(unit, 'c/three.txt'), 'utf8'), 'three')
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"test".*"what":"x"/)
  assert.not.ok(existsSync(join(unit, P.journal)))
  assert.not.ok(existsSync(join(unit, P.txnDir)))
  assert.not.ok(existsSync(join(unit, P.lock)))
})

test('a throw while building the change leaves the unit byte-for-byte unchanged', async () => {
  const unit = fakeUnit()
  const before = hashTree(unit)
  try {
    await changeUnit(unit, 'test', (tx) => {
      tx.write('a/two.txt', 'changed')
      tx.stage('a/big.bin')
      throw new Error('refused')
    })
    assert.unreachable()
  } catch (error) {
    assert.is((error as Error).message, 'refused')
  }
  assert.is(hashTree(unit), before)
})

test('a second writer is refused with exit 5 while the first holds the lock', async () => {
  const unit = fakeUnit()
  const lock = acquireUnitLock(unit, 'first')
  try {
    await changeUnit(unit, 'second', (tx) => tx.write('x', 'y'))
    assert.unreachable()
  } catch (error) {
    assert.is((error as {exitCode: number}).exitCode, 5)
    assert.match((error as Error).message, /locked by another xway process/)
  } finally {
    lock.release()
  }
  assert.not.ok(existsSync(join(unit, 'x')))
})

test('a stale lock of a dead process is taken over', async () => {
  const unit = fakeUnit()
  writeFileSync(join(unit, P.lock), JSON.stringify({pid: 2 ** 22 + 12345, command: 'dead', since: 'then'}))
  await changeUnit(unit, 'after-crash', (tx) => tx.write('x', 'y'))
  assert.is(readFileSync(join(unit, 'x'), 'utf8'), 'y')
  assert.not.ok(existsSync(join(unit, P.lock)))
})

test('recover on a unit with nothing to recover says so', () => {
  const unit = fakeUnit()
  assert.equal(recoverUnit(unit), {recovered: false, action: 'none', command: null})
})

test('a committed journal left by a crash is rolled forward by recover, and replay is idempotent', () => {
  const unit = fakeUnit()
  // the state a crash leaves after the commit point: staged file, journal, first op (delete) already applied
  mkdirSync(join(unit, P.txnDir, 'staged'), {recursive: true})
  mkdirSync(join(unit, P.txnDir, 'trash'), {recursive: true})
  writeFileSync(join(unit, P.txnDir, 'staged/s1'), 'new')
  fs.renameSync(join(unit, 'a/b'), join(unit, P.txnDir, 'trash/t0'))
  writeFileSync(join(unit, P.journal), JSON.stringify({formatVersion: 1, command: 'test', ops: [
    {op: 'delete', rel: 'a/b', trash: 't0'},
    {op: 'write', rel: 'a/b/new.txt', staged: 'staged/s1'},
  ]}))
  const r = recoverUnit(unit)
  assert.equal(r, {recovered: true, action: 'rolled-forward', command: 'test'})
  assert.is(readFileSync(join(unit, 'a/b/new.txt'), 'utf8'), 'new')
  assert.not.ok(existsSync(join(unit, 'a/b/one.txt')))
  assert.not.ok(existsSync(join(unit, P.journal)))
  assert.not.ok(existsSync(join(unit, P.txnDir)))
})

test('staging left by a crash before the commit point is rolled back by recover', () => {
  const unit = fakeUnit()
  const before = hashTree(unit)
  mkdirSync(join(unit, P.txnDir, 'staged'), {recursive: true})
  writeFileSync(join(unit, P.txnDir, 'staged/s0'), 'half')
  assert.equal(recoverUnit(unit).action, 'rolled-back')
  assert.is(hashTree(unit), before)
})

test.after.each(() => cleanup())
test.run()
