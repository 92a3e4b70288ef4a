import {execFileSync} from 'node:child_process'
import * as fs from 'node:fs'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {DirectoryStore} from '../../src/unit/directory-store.js'
import {P} from '../support/paths.js'
import {changeStore, type UnitTransaction} from '../../src/unit/transaction.js'
import {cleanup, tempDir} from '../support/run.js'

const changeUnit = <T>(unit: string, command: string, build: (tx: UnitTransaction) => T | Promise<T>) => changeStore(new DirectoryStore(unit), unit, command, build)
const acquireUnitLock = (unit: string, command: string) => new DirectoryStore(unit).lock(command)
async function recoverUnit(unit: string) {
  const store = new DirectoryStore(unit)
  const lock = store.lock('image recover')
  try {
    return await store.recover()
  } finally {
    lock.release()
  }
}

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

test('recover on a unit with nothing to recover says so', async () => {
  const unit = fakeUnit()
  assert.equal(await recoverUnit(unit), {recovered: false, action: 'none', command: null})
})

test('a committed journal left by a crash is rolled forward by recover, and replay is idempotent', async () => {
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
  const r = await recoverUnit(unit)
  assert.equal(r, {recovered: true, action: 'rolled-forward', command: 'test'})
  assert.is(readFileSync(join(unit, 'a/b/new.txt'), 'utf8'), 'new')
  assert.not.ok(existsSync(join(unit, 'a/b/one.txt')))
  assert.not.ok(existsSync(join(unit, P.journal)))
  assert.not.ok(existsSync(join(unit, P.txnDir)))
})

test('staging left by a crash before the commit point is rolled back by recover', async () => {
  const unit = fakeUnit()
  const before = hashTree(unit)
  mkdirSync(join(unit, P.txnDir, 'staged'), {recursive: true})
  writeFileSync(join(unit, P.txnDir, 'staged/s0'), 'half')
  assert.equal((await recoverUnit(unit)).action, 'rolled-back')
  assert.is(hashTree(unit), before)
})

test('appends to the audit log without rewriting it, and a replayed append is not doubled', async () => {
  const unit = fakeUnit()
  writeFileSync(join(unit, P.audit), '{"old":1}\n')
  const inode = fs.statSync(join(unit, P.audit)).ino
  await changeUnit(unit, 'one', (tx) => {
    tx.write('x', '1')
    tx.audit({n: 1})
  })
  assert.is(fs.statSync(join(unit, P.audit)).ino, inode, 'the same file, appended in place')
  const lines = readFileSync(join(unit, P.audit), 'utf8').trim().split('\n')
  assert.is(lines.length, 2)
  assert.is(lines[0], '{"old":1}')
  // a crash after the append, before the journal was removed: replaying leaves one copy
  mkdirSync(join(unit, P.txnDir, 'staged'), {recursive: true})
  writeFileSync(join(unit, P.txnDir, 'staged/a'), '{"n":2}\n')
  const offset = fs.statSync(join(unit, P.audit)).size
  fs.appendFileSync(join(unit, P.audit), '{"n":2}\n')
  writeFileSync(join(unit, P.journal), JSON.stringify({formatVersion: 2, command: 'two', ops: [{op: 'append', rel: P.audit, staged: 'staged/a', offset}]}))
  assert.is((await recoverUnit(unit)).action, 'rolled-forward')
  assert.is(readFileSync(join(unit, P.audit), 'utf8').trim().split('\n').length, 3)
})

test('an audit log that is a link is refused before the commit point, and the file it points at is untouched', async () => {
  const unit = fakeUnit()
  const outside = join(tempDir(), 'victim')
  writeFileSync(outside, 'do not touch\n')
  fs.symlinkSync(outside, join(unit, P.audit))
  const before = hashTree(unit)
  try {
    await changeUnit(unit, 'test', (tx) => {
      tx.write('a/two.txt', 'changed')
      tx.audit({what: 'x'})
    })
    assert.unreachable()
  } catch (error) {
    assert.is((error as {exitCode: number}).exitCode, 4)
    assert.match((error as Error).message, /audit\.jsonl is a symbolic link/)
  }
  assert.is(readFileSync(outside, 'utf8'), 'do not touch\n')
  assert.is(hashTree(unit), before)
})

test('a failure after the commit point (an immutable file) says to run image recover, which finishes the change', async () => {
  const unit = fakeUnit()
  const target = join(unit, 'a/b')
  execFileSync('chattr', ['+i', target])
  try {
    await changeUnit(unit, 'test', (tx) => {
      tx.write('a/b/one.txt', 'new one')
      tx.write('c/three.txt', 'three')
    })
    assert.unreachable()
  } catch (error) {
    assert.is((error as {exitCode: number}).exitCode, 1)
    assert.match((error as Error).message, /committed but could not be completed at a\/b\/one\.txt: the operation was not permitted/)
    assert.match((error as {actions: string[]}).actions.join(' '), /xway image recover/)
  } finally {
    execFileSync('chattr', ['-i', target])
  }
  assert.ok(existsSync(join(unit, P.journal)), 'the journal stays for recover')
  assert.equal(await recoverUnit(unit), {recovered: true, action: 'rolled-forward', command: 'test'})
  assert.is(readFileSync(join(unit, 'a/b/one.txt'), 'utf8'), 'new one')
  assert.is(readFileSync(join(unit, 'c/three.txt'), 'utf8'), 'three')
})

test.after.each(() => cleanup())
test.run()
