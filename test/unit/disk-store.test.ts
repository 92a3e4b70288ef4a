import {execFileSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError, UnitBusyError} from '../../src/errors.js'
import {commitRaw, DiskImageStore, lockImage, openDiskStore} from '../../src/disk/store.js'
import type {StoreOp} from '../../src/unit/store.js'
import {exportImage, fsckAll, sh, sha256File} from '../support/disk.js'
import {cleanup, makeUnit, tempDir} from '../support/run.js'

const test = suite('disk image store')

async function rejects(fn: () => Promise<unknown>, check: RegExp | ((e: Error) => boolean)): Promise<void> {
  try {
    await fn()
  } catch (error) {
    const ok = check instanceof RegExp ? check.test((error as Error).message) : check(error as Error)
    assert.ok(ok, `unexpected error: ${(error as Error).message}`)
    return
  }
  assert.unreachable('expected a rejection')
}
const dir = tempDir('xway-disk-store-')
const unit = makeUnit(dir, {seed: 'disk-store'})
const MiB = 1024 * 1024
// a unit with a large log, exported once; each test works on a sparse copy
execFileSync('sh', ['-c', `head -c ${96 * MiB} /dev/urandom > ${join(unit, 'mnt/harddisk/log/big.log')}`])
const base = join(dir, 'base.img')
exportImage(unit, base)
const baseQcow = join(dir, 'base.qcow2')
exportImage(unit, baseQcow)
let n = 0
function copy(from = base): string {
  const f = join(dir, `c${n++}${from.endsWith('.qcow2') ? '.qcow2' : '.img'}`)
  execFileSync('cp', ['--sparse=always', from, f])
  return f
}

function assertClean(raw: string): void {
  for (const [name, r] of Object.entries(fsckAll(raw))) assert.is(r.code, 0, `${name}: ${r.output}`)
}

const ops = (): StoreOp[] => {
  const src = join(dir, `stream-${n++}`)
  writeFileSync(src, 'streamed\n'.repeat(50_000))
  return [
    {op: 'write', rel: 'tandberg/persistent/new.json', data: Buffer.from('{"x":1}\n'), mode: 0o600},
    {op: 'write-file', rel: 'mnt/harddisk/factory-reset/payload.bin', source: src, mode: 0o644},
    {op: 'delete', rel: 'tandberg/persistent/certs'},
    {op: 'mkdir', rel: 'tandberg/persistent/certs/sni', mode: 0o750},
    {op: 'symlink', rel: 'etc/ssh/current', target: 'ssh_host_ed25519_key.pub'},
    {op: 'append', rel: 'var/lib/xway/audit.jsonl', data: Buffer.from('{"at":"2026-02-01T00:00:00.000Z","command":"test"}\n')},
    {op: 'delete', rel: 'mnt/harddisk/log'},
    {op: 'mkdir', rel: 'mnt/harddisk/log', mode: 0o755},
    {op: 'write', rel: 'mnt/harddisk/log/fresh.log', data: Buffer.from('fresh\n'), mode: 0o644},
  ]
}

function assertApplied(store: DiskImageStore): void {
  const r = store.reader()
  assert.equal(r.read('tandberg/persistent/new.json')?.toString(), '{"x":1}\n')
  assert.equal(r.stat('tandberg/persistent/new.json'), {kind: 'file', mode: 0o600, size: 8})
  assert.is(r.read('mnt/harddisk/factory-reset/payload.bin')?.length, 'streamed\n'.length * 50_000)
  assert.equal(r.list('tandberg/persistent/certs'), ['sni'])
  assert.is(r.stat('tandberg/persistent/certs/sni')?.mode, 0o750)
  assert.is(r.readlink('etc/ssh/current'), 'ssh_host_ed25519_key.pub')
  assert.is(r.stat('etc/ssh/current')?.kind, 'symlink')
  assert.match(r.read('var/lib/xway/audit.jsonl')!.toString(), /"command":"image create".*\n.*"command":"test"/s)
  assert.equal(r.list('mnt/harddisk/log'), ['fresh.log'])
  assert.ok(r.walk('').some((e) => e.rel === 'info/product_info.xml'))
}

test('commits on a raw image apply every kind of op, read back, and leave every partition clean', async () => {
  const img = copy()
  const store = openDiskStore(img)
  assert.is(store.kind, 'raw')
  assert.ok(store.writable)
  const lock = store.lock('test')
  try {
    await store.commit('test', ops())
  } finally {
    lock.release()
  }
  assertApplied(store)
  assert.not.ok(store.hasPendingJournal())
  assert.not.ok(existsSync(`${img}.xway-lock`))
  assertClean(img)
})

test('commits on a qcow2 image too (qemu-img check clean, partitions clean)', async () => {
  const img = copy(baseQcow)
  const store = openDiskStore(img)
  assert.is(store.kind, 'qcow2')
  await store.commit('test', ops())
  assertApplied(store)
  assert.is(sh('qemu-img', ['check', '-f', 'qcow2', img]).code, 0)
  const raw = join(dir, `qraw-${n++}.img`)
  execFileSync('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', img, raw])
  assertClean(raw)
  assert.equal(execFileSync('sh', ['-c', `ls ${dir} | grep xway-commit || true`]).toString(), '')
})

test('deleting a 96 MiB log reads a few hundred KiB of metadata, never the log', async () => {
  const img = copy()
  const stats = await commitRaw(img, 'factory-reset', [{op: 'delete', rel: 'mnt/harddisk/log'}, {op: 'mkdir', rel: 'mnt/harddisk/log', mode: 0o755}])
  assert.ok(stats.bytesRead < 4 * MiB, `read ${stats.bytesRead} bytes`)
  assert.ok(stats.bytesWritten < 4 * MiB, `wrote ${stats.bytesWritten} bytes`)
  assert.equal(openDiskStore(img).reader().list('mnt/harddisk/log'), [])
  assertClean(img)
})

test('a refused or failing commit leaves the file byte-for-byte unchanged', async () => {
  const img = copy()
  const before = sha256File(img)
  const store = openDiskStore(img)
  // a path through a link is refused, even after earlier ops of the same commit were applied in memory
  await store.commit('test', [{op: 'symlink', rel: 'etc/out', target: '/etc'}])
  const mid = sha256File(img)
  await rejects(() => store.commit('test', [{op: 'write', rel: 'tandberg/a', data: Buffer.from('a'), mode: 0o644}, {op: 'write', rel: 'etc/out/passwd', data: Buffer.from('x'), mode: 0o644}]), (e: Error) => e instanceof BadInputError && /symbolic link/.test(e.message))
  assert.is(sha256File(img), mid)
  // an op that fails after others were applied in memory: nothing reaches the file
  await rejects(() => store.commit('test', [{op: 'write', rel: 'tandberg/b', data: Buffer.from('b'), mode: 0o644}, {op: 'mkdir', rel: 'info/product_info.xml', mode: 0o755}]), /exists and is not a folder/)
  assert.is(sha256File(img), mid)
  assert.not.ok(before === mid, 'the first commit did change the image')
  assertClean(img)
})

test('the reader never follows links and refuses paths through them', async () => {
  const img = copy()
  const store = openDiskStore(img)
  await store.commit('test', [{op: 'symlink', rel: 'tandberg/persistent/loop', target: '../persistent'}])
  const r = store.reader()
  assert.is(r.stat('tandberg/persistent/loop')?.kind, 'symlink')
  assert.throws(() => r.read('tandberg/persistent/loop/usage.json'), /symbolic link/)
  assert.throws(() => r.read('tandberg/persistent/loop'), /not a regular file/)
  assert.throws(() => r.stat('../etc/passwd'), /clean unit-relative path/)
  assert.equal(r.list('tandberg').includes('lost+found'), false)
})

test('one writer: a second gets UnitBusyError (exit 5); a dead owner\'s lock is taken over', () => {
  const img = copy()
  const first = lockImage(img, 'one')
  assert.throws(() => lockImage(img, 'two'), (e: Error) => e instanceof UnitBusyError && e.exitCode === 5)
  first.release()
  writeFileSync(`${img}.xway-lock`, JSON.stringify({pid: 2 ** 22 + 12345, command: 'dead', since: 'then'}))
  const taken = lockImage(img, 'three')
  taken.release()
  assert.not.ok(existsSync(`${img}.xway-lock`))
})

test('vmdk and ova are read-only: commit refused with exit 4 naming image import', async () => {
  const v = join(dir, 'ro.vmdk')
  exportImage(unit, v)
  const store = openDiskStore(v)
  assert.not.ok(store.writable)
  assert.ok(store.reader().stat('mnt/harddisk/log/big.log'))
  await rejects(() => store.commit('test', [{op: 'mkdir', rel: 'tandberg/x', mode: 0o755}]), (e: Error) => e instanceof BadInputError && /image import/.test((e as BadInputError).actions.join(' ')))
})

test.after(() => cleanup())
test.run()
