import {execFileSync} from 'node:child_process'
import {closeSync, openSync, readSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {XwayError} from '../../src/errors.js'
import {openImage} from '../../src/disk/image.js'
import {exportImage, partitionOffset} from '../support/disk.js'
import {seededPrng, testSeed} from '../support/random.js'
import {cleanup, makeUnit, tempDir} from '../support/run.js'

// The ext4 reader against damaged filesystems: random bytes of the metadata (superblock, group
// descriptors, bitmaps, inode tables, folders) overwritten at seeded places. Reading the whole
// unit either works or fails with a typed error (exit 4), never another exception or a hang.

const test = suite('disk reader under corruption')
const seed = testSeed()
const dir = tempDir('xway-disk-reader-')
const unit = makeUnit(dir, {seed: 'disk-reader'})
const base = join(dir, 'base.img')
exportImage(unit, base)
// where the reader looks: superblocks, the first bytes of every reachable inode (mode, size,
// flags, extent tree), and folder blocks (those starting with the "." entry)
const targets: Array<[number, number]> = []
{
  const image = openImage(base)
  for (const name of ['root', 'tandberg'] as const) {
    const fs = image.fs[name]
    const start = image.partitions[name].offset
    targets.push([start + 1024, 0x180])
    const seen = new Set<number>()
    const visit = (ino: number): void => {
      if (seen.has(ino)) return
      seen.add(ino)
      targets.push([start + fs.inodeOffset(ino), 0x80])
      const inode = fs.inode(ino)
      if (inode.kind === 'dir') for (const e of fs.readDir(inode)) visit(e.ino)
    }
    visit(2)
    const buf = Buffer.alloc(64 << 20)
    const fd = openSync(base, 'r')
    readSync(fd, buf, 0, buf.length, start)
    closeSync(fd)
    const dot = Buffer.from([0x0C, 0x00, 0x01, 0x02, 0x2E, 0x00])
    for (let b = 0; b < buf.length; b += 4096) if (buf.subarray(b + 4, b + 10).equals(dot)) targets.push([start + b, 4096])
  }
  image.close()
}

function readEverything(file: string): void {
  const image = openImage(file)
  try {
    for (const e of image.reader.walk('')) {
      if (e.stat.kind === 'file') image.reader.read(e.rel)
      if (e.stat.kind === 'symlink') image.reader.readlink(e.rel)
      if (e.stat.kind === 'dir') image.reader.list(e.rel)
    }
  } finally {
    image.close()
  }
}

test('an intact image reads in full', () => {
  readEverything(base)
})

test(`corrupted metadata is a typed error or a successful read, never a crash (seed ${seed})`, () => {
  const rand = seededPrng(seed)
  let typed = 0
  let fine = 0
  for (let i = 0; i < 40; i++) {
    const f = join(dir, `fuzz-${i}.img`)
    execFileSync('cp', ['--sparse=always', base, f])
    const fd = openSync(f, 'r+')
    for (let k = 0; k < 1 + Math.floor(rand() * 16); k++) {
      const [at0, span] = targets[Math.floor(rand() * targets.length)]
      const at = at0 + Math.floor(rand() * span)
      const bytes = Buffer.from(Array.from({length: 1 + Math.floor(rand() * 8)}, () => Math.floor(rand() * 256)))
      writeSync(fd, bytes, 0, bytes.length, at)
    }
    closeSync(fd)
    const started = Date.now()
    try {
      readEverything(f)
      fine++
    } catch (error) {
      assert.ok(error instanceof XwayError, `run ${i} (seed ${seed}): ${(error as Error).stack}`)
      assert.is((error as XwayError).exitCode, 4, `run ${i}: ${(error as Error).message}`)
      typed++
    }
    assert.ok(Date.now() - started < 20_000, `run ${i} took too long (seed ${seed})`)
    execFileSync('rm', ['-f', f])
  }
  assert.is(typed + fine, 40)
  assert.ok(typed > 0, `the corruption reached the reader's checks (${typed} refused, ${fine} read)`)
})

test.after(() => cleanup())
test.run()
