#!/usr/bin/env node
// Disk images (SPEC 8), as ratios measured in one run (npm run build first):
//  - export to raw vs `mke2fs -t ext4 -d` building the same trees into files of the same sizes
//    (the build; the SHA-256 `image export` reports of a 132 GiB disk is measured on its own line);
//  - a factory-reset-like commit (delete mnt/harddisk/log, mkdir it, write a few small files) on a
//    raw image with 2 GB of logs vs one with 2 MB;
//  - reading what `image inspect` reads, from a raw image vs from the unit folder.
// Environment: XWAY_BENCH_DISK_LOG_MB (default 2048) sizes the large logs.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {bin, dist, median, root} from './bench-lib.js'

const work = mkdtempSync(join(tmpdir(), 'xway-bench-disk-'))
const {buildRaw, sha256Of} = await dist('src/disk/export.js')
const {parseProductInfo} = await dist('src/areas/brand.js')
const {planPartitions, DEFAULT_DISK_BYTES} = await dist('src/disk/layout.js')
const {commitRaw, openDiskStore} = await dist('src/disk/store.js')

function ms(start) {
  return Number(process.hrtime.bigint() - start) / 1e6
}

function line(name, ratio, target, detail) {
  const ok = target === null ? '' : (ratio <= target ? 'OK  ' : 'MISS')
  console.log(`${name.padEnd(52)} ratio ${ratio.toFixed(2).padStart(6)}  ${target === null ? 'info    ' : `<= ${target}`.padEnd(8)} ${ok}  ${detail}`)
}

function makeUnit(name, logMb) {
  const unit = join(work, name)
  execFileSync(process.execPath, [bin, 'image', 'create', unit, '--profile', join(root, 'profiles/expressway-c.yaml'), '--seed', 'bench', '--json'], {stdio: 'ignore', env: {...process.env, XWAY_NOW: '2026-01-01T00:00:00Z'}})
  for (let i = 0; i < 8; i++) {
    execFileSync('sh', ['-c', `yes 'Nov 30 12:00:00 exp-c1 tvcs: Event="Search Completed" Module="network.h323" Level="INFO" ${i}' | head -c ${Math.floor((logMb * 1024 * 1024) / 8)} > ${join(unit, 'mnt/harddisk/log', `messages.${i}.log`)}`])
  }
  return unit
}

async function timedBuild(unit, file) {
  rmSync(file, {force: true})
  const stage = `${file}.stage`
  rmSync(stage, {recursive: true, force: true})
  mkdirSync(stage)
  const t = process.hrtime.bigint()
  await buildRaw(unit, parseProductInfo(readFileSync(join(unit, 'info/product_info.xml'), 'utf8')), file, DEFAULT_DISK_BYTES, stage)
  const took = ms(t)
  rmSync(stage, {recursive: true, force: true})
  return took
}

function timedMke2fs(unit, prefix) {
  // the same three trees (root without tandberg/ and mnt/harddisk/), files of the same sizes, the same lazy-init options
  const rootTree = `${prefix}.root-tree`
  rmSync(rootTree, {recursive: true, force: true})
  const t = process.hrtime.bigint()
  execFileSync('cp', ['-al', unit, rootTree])
  rmSync(join(rootTree, 'tandberg'), {recursive: true})
  rmSync(join(rootTree, 'mnt/harddisk'), {recursive: true})
  mkdirSync(join(rootTree, 'tandberg'))
  mkdirSync(join(rootTree, 'mnt/harddisk'))
  const trees = {root: rootTree, tandberg: join(unit, 'tandberg'), harddisk: join(unit, 'mnt/harddisk')}
  for (const p of planPartitions(DEFAULT_DISK_BYTES)) {
    const f = `${prefix}.${p.name}`
    rmSync(f, {force: true})
    execFileSync('truncate', ['-s', String(p.size), f])
    const r = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-E', 'lazy_itable_init=1,lazy_journal_init=1', '-d', trees[p.name], f], {stdio: 'ignore', env: {...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin`}})
    if (r.status !== 0) throw new Error('mke2fs failed')
  }
  const took = ms(t)
  rmSync(rootTree, {recursive: true, force: true})
  for (const p of ['root', 'tandberg', 'harddisk']) rmSync(`${prefix}.${p}`, {force: true})
  return took
}

const RESET_OPS = () => [
  {op: 'delete', rel: 'mnt/harddisk/log'},
  {op: 'mkdir', rel: 'mnt/harddisk/log', mode: 0o755},
  ...[1, 2, 3].map((i) => ({op: 'write', rel: `mnt/harddisk/log/boot.${i}.log`, data: Buffer.from(`boot ${i}\n`), mode: 0o644})),
  {op: 'write', rel: 'tandberg/persistent/usage.json', data: Buffer.from('{}\n'), mode: 0o644},
]

async function timedCommit(image, i) {
  const copy = `${image}.c${i}`
  execFileSync('cp', ['--sparse=always', image, copy])
  // the copy must be on disk before timing, or the commit's fsync would pay for writing it
  execFileSync('sync', [copy])
  const t = process.hrtime.bigint()
  const stats = await commitRaw(copy, 'factory-reset', RESET_OPS())
  const took = ms(t)
  rmSync(copy, {force: true})
  return {took, stats}
}

const INSPECT_FILES = (list) => [
  'info/product_info.xml',
  ...list('tandberg/persistent').filter((n) => n.endsWith('.json')).map((n) => `tandberg/persistent/${n}`),
  ...['config/xconfiguration.json', 'network/ip.json', 'network/mgmt.json', 'licensing/licensing.json', 'fips/fips.json', 'optionkeys/optionkeys.json', 'clusterdb/cluster.json', 'users/passwd.json'].map((n) => `tandberg/persistent/${n}`),
  ...list('etc/ssh').filter((n) => n.endsWith('.pub')).map((n) => `etc/ssh/${n}`),
  'tandberg/persistent/certs/server.pem', 'tandberg/persistent/certs/ca.pem',
]

try {
  const logMb = Number(process.env.XWAY_BENCH_DISK_LOG_MB ?? 2048)
  const big = makeUnit('big', logMb)
  const small = makeUnit('small', 2)

  // export raw (the build) vs mke2fs -d of the same trees
  await timedBuild(small, join(work, 'warm.img'))
  rmSync(join(work, 'warm.img'), {force: true})
  const buildMs = []
  const mkMs = []
  for (let i = 0; i < 3; i++) {
    buildMs.push(await timedBuild(big, join(work, 'big.img')))
    mkMs.push(timedMke2fs(big, join(work, 'mk')))
  }
  const b = median(buildMs)
  const m = median(mkMs)
  line(`export raw (132G, ${logMb} MB logs) vs mke2fs -d`, b / m, 1.25, `${b.toFixed(0)} ms vs ${m.toFixed(0)} ms`)
  const t = process.hrtime.bigint()
  await sha256Of(join(work, 'big.img'))
  const hashMs = ms(t)
  line('  + the sha256 image export reports (132 GiB)', (b + hashMs) / m, null, `${(b + hashMs).toFixed(0)} ms in all; hashing ${hashMs.toFixed(0)} ms`)

  // factory-reset-like commit: 2 GB vs 2 MB of logs
  const smallImg = join(work, 'small.img')
  await timedBuild(small, smallImg)
  const bigRuns = []
  const smallRuns = []
  for (let i = 0; i < 3; i++) {
    bigRuns.push(await timedCommit(join(work, 'big.img'), i))
    smallRuns.push(await timedCommit(smallImg, i))
  }
  const cb = median(bigRuns.map((r) => r.took))
  const cs = median(smallRuns.map((r) => r.took))
  line(`reset commit on raw: ${logMb} MB vs 2 MB of logs`, cb / cs, 1.5, `${cb.toFixed(0)} ms vs ${cs.toFixed(0)} ms; read ${bigRuns[0].stats.bytesRead} vs ${smallRuns[0].stats.bytesRead} bytes, journal ${bigRuns[0].stats.bytesWritten} bytes`)

  // reading what inspect reads: raw image vs folder (in process)
  const readImage = () => {
    const t0 = process.hrtime.bigint()
    const store = openDiskStore(join(work, 'big.img'))
    const r = store.reader()
    for (const f of INSPECT_FILES((d) => r.list(d))) r.read(f)
    r.walk('mnt/harddisk/log')
    store.close()
    return ms(t0)
  }
  const readDir = () => {
    const t0 = process.hrtime.bigint()
    const list = (d) => readdirSync(join(big, d)).sort()
    for (const f of INSPECT_FILES(list)) {
      try {
        readFileSync(join(big, f))
      } catch {}
    }
    for (const n of list('mnt/harddisk/log')) statSync(join(big, 'mnt/harddisk/log', n))
    return ms(t0)
  }
  readImage()
  readDir()
  const ri = median([0, 1, 2, 3, 4].map(readImage))
  const rd = median([0, 1, 2, 3, 4].map(readDir))
  line('inspect reads: raw image vs folder (in process)', ri / rd, null, `${ri.toFixed(1)} ms vs ${rd.toFixed(1)} ms (the 2x target is per command, once commands take images)`)
  // the same as processes: what a read-only command pays for reading an image (module load included)
  const files = INSPECT_FILES((d) => readdirSync(join(big, d)).sort())
  writeFileSync(join(work, 'files.json'), JSON.stringify(files))
  const imgScript = `const {openDiskStore} = await import(${JSON.stringify(join(root, 'dist/src/disk/store.js'))}); const files = JSON.parse(require('fs').readFileSync(${JSON.stringify(join(work, 'files.json'))}, 'utf8')); const r = openDiskStore(${JSON.stringify(join(work, 'big.img'))}).reader(); for (const f of files) { try { r.read(f) } catch {} } r.walk('mnt/harddisk/log')`
  const dirScript = `const fs = require('fs'); const path = require('path'); const files = JSON.parse(fs.readFileSync(${JSON.stringify(join(work, 'files.json'))}, 'utf8')); for (const f of files) { try { fs.readFileSync(path.join(${JSON.stringify(big)}, f)) } catch {} } for (const n of fs.readdirSync(${JSON.stringify(join(big, 'mnt/harddisk/log'))})) fs.lstatSync(path.join(${JSON.stringify(join(big, 'mnt/harddisk/log'))}, n))`
  const proc = (script) => {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, ['--input-type=commonjs', '-e', `(async () => { ${script} })()`], {stdio: ['ignore', 'ignore', 'pipe']})
    if (r.status !== 0) throw new Error(String(r.stderr))
    return ms(t0)
  }
  proc(imgScript)
  const pi = median([0, 1, 2, 3, 4, 5, 6].map(() => proc(imgScript)))
  const pd = median([0, 1, 2, 3, 4, 5, 6].map(() => proc(dirScript)))
  line('inspect reads as a process: raw image vs folder', pi / pd, 2, `${pi.toFixed(0)} ms vs ${pd.toFixed(0)} ms (node start, module load and reads)`)
} finally {
  rmSync(work, {recursive: true, force: true})
}
