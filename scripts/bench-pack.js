#!/usr/bin/env node
// SPEC 8: `image pack` at least 0.8x the throughput of `tar czf` on the same unit, `image unpack`
// likewise against `tar xzf` on the same archive; measured on a unit with large logs and on a unit
// of many small entries (where per-entry filesystem work, not gzip, is the cost).
// Every timing is the median of several runs, xway and tar alternating, each from a synced disk
// into a destination of its own: trees are removed only once a comparison is done, because the
// filesystem keeps working on a large removal after it returns, and would bill the next run.
// Environment / arguments: XWAY_BENCH_LOG_MB or --log-mb (default 500), XWAY_BENCH_SMALL_ENTRIES
// or --small-entries (default 200000), --runs (default 3).
import {execFileSync, spawnSync} from 'node:child_process'
import {createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {arg, bin, median, root} from './bench-lib.js'

const logMb = arg('log-mb', Number(process.env.XWAY_BENCH_LOG_MB ?? 500))
const smallEntries = arg('small-entries', Number(process.env.XWAY_BENCH_SMALL_ENTRIES ?? 200_000))
const runs = arg('runs', 3)
const work = mkdtempSync(join(tmpdir(), 'xway-bench-pack-'))

// GNU time, where present, adds the CPU seconds (user + system, children included) of each
// command: on a shared machine the wall clock also counts waiting for a core
const gnuTime = spawnSync('/usr/bin/time', ['-f', '%U %S', 'true'], {stdio: 'ignore'}).status === 0

function run(cmd, args) {
  const argv = gnuTime ? ['/usr/bin/time', ['-f', 'cpu %U %S', cmd, ...args]] : [cmd, args]
  const r = spawnSync(argv[0], argv[1], {stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  const cpu = /cpu (\S+) (\S+)\s*$/.exec(r.stderr)
  return cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : Number.NaN
}

/** Wall and CPU milliseconds of one command, from a synced disk. */
function timed(cmd, args, {mkdir = null} = {}) {
  if (mkdir) mkdirSync(mkdir, {recursive: true})
  spawnSync('sync')
  const start = process.hrtime.bigint()
  const cpuMs = run(cmd, args)
  return {ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs}
}

/** xway and its baseline, alternating, the median of each. */
function compare(xway, baseline) {
  const a = []
  const b = []
  for (let i = 0; i < runs; i++) {
    b.push(baseline())
    a.push(xway())
  }
  const med = (list, key) => median(list.map((x) => x[key]))
  return {xwayMs: med(a, 'ms'), baseMs: med(b, 'ms'), xwayCpu: med(a, 'cpuMs'), baseCpu: med(b, 'cpuMs')}
}

function line(name, {xwayMs, baseMs, xwayCpu, baseCpu}) {
  const ratio = baseMs / xwayMs
  const cpu = Number.isNaN(xwayCpu) ? '' : `; cpu ${(xwayCpu / 1000).toFixed(1)} s vs ${(baseCpu / 1000).toFixed(1)} s`
  console.log(`${name.padEnd(50)} ratio ${ratio.toFixed(2).padStart(6)}  target >= 0.8    ${ratio >= 0.8 ? 'OK ' : 'MISS'}  throughput ratio; ${xwayMs.toFixed(0)} ms vs ${baseMs.toFixed(0)} ms${cpu}`)
}

function createUnit(unit, seed) {
  execFileSync(process.execPath, [bin, 'image', 'create', unit, '--profile', join(root, 'profiles/default.yaml'), '--seed', seed, '--json'], {stdio: 'ignore'})
}

/** Log-like text that gzip has to work on (varied within deflate's 32 KiB window). */
async function writeLogs(dir, megabytes) {
  let x = 12345
  const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  const words = ['SIP', 'INVITE', 'REGISTER', 'tvcs', 'Event="Search Completed"', 'Module="network.h323"', 'Level="INFO"', 'UTCTime', 'Src-ip', 'Dst-port', 'Call-serial-number', 'Tag']
  const files = 8
  for (let f = 0; f < files; f++) {
    const out = createWriteStream(join(dir, `messages.${f}.log`))
    let written = 0
    const target = (megabytes * 1024 * 1024) / files
    while (written < target) {
      let chunk = ''
      for (let i = 0; i < 2000; i++) {
        chunk += `2026-11-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')}T${Math.floor(rand() * 1e9).toString(36)} ${words[Math.floor(rand() * words.length)]} id=${Math.floor(rand() * 1e12).toString(16)} ${words[Math.floor(rand() * words.length)]}\n`
      }
      written += chunk.length
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r))
    }
    await new Promise((r) => out.end(r))
  }
}

/** Many small log files: 1,000 to a folder. */
function writeSmallFiles(dir, count) {
  for (let i = 0; i < count; i++) {
    const folder = join(dir, `d${String(Math.floor(i / 1000)).padStart(3, '0')}`)
    if (i % 1000 === 0) mkdirSync(folder, {recursive: true})
    writeFileSync(join(folder, `f${i % 1000}.log`), `2026-11-01T00:00:00Z entry ${i}\n`)
  }
}

/** pack vs tar czf on the unit, then unpack vs tar xzf of xway's archive. */
function measure(label, unit) {
  const out = join(work, label.replace(/\W+/g, '-'))
  mkdirSync(out)
  let n = 0
  const fresh = (name) => join(out, `${n++}-${name}`)
  const archives = []
  const packed = compare(
    () => {
      archives.push(fresh('xway.tar.gz'))
      return timed(process.execPath, [bin, 'image', 'pack', unit, '-o', archives.at(-1)])
    },
    () => timed('tar', ['czf', fresh('tar.tar.gz'), '-C', unit, '.']),
  )
  line(`image pack vs tar czf (${label})`, packed)
  const archive = archives[0]
  const unpacked = compare(
    () => timed(process.execPath, [bin, 'image', 'unpack', archive, fresh('xway-unit')]),
    () => {
      const dest = fresh('tar-unit')
      return timed('tar', ['xzf', archive, '-C', dest], {mkdir: dest})
    },
  )
  line(`image unpack vs tar xzf (${label})`, unpacked)
  rmSync(out, {recursive: true, force: true})
}

try {
  const logs = join(work, 'logs-unit')
  createUnit(logs, 'bench-logs')
  await writeLogs(join(logs, 'mnt/harddisk/log'), logMb)
  measure(`${logMb} MB of logs`, logs)
  rmSync(logs, {recursive: true, force: true})

  const small = join(work, 'small-unit')
  createUnit(small, 'bench-small')
  writeSmallFiles(join(small, 'mnt/harddisk/log/small'), smallEntries)
  measure(`${smallEntries} small entries`, small)
} finally {
  rmSync(work, {recursive: true, force: true})
}
