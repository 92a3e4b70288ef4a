#!/usr/bin/env node
// `npm run bench`: SPEC 8's performance targets, measured as ratios in one run (these machines are
// noisy, so every number is the median of several runs and compared with a baseline measured
// alongside it). Then runs the other scripts/bench-*.js found beside this file.
// Environment: XWAY_BENCH_COLD_RUNS (default 11) the runs of each cold start; XWAY_BENCH_ONLY=cold-start stops after those.
import {execFileSync, spawnSync} from 'node:child_process'
import {createWriteStream, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {bin, median, root} from './bench-lib.js'

const work = mkdtempSync(join(tmpdir(), 'xway-bench-'))
/** XWAY_BENCH_ONLY=cold-start measures the start-up ratios alone. */
const coldStartOnly = process.env.XWAY_BENCH_ONLY === 'cold-start'

function time(cmd, args, options = {}) {
  const start = process.hrtime.bigint()
  const r = spawnSync(cmd, args, {stdio: ['ignore', 'ignore', 'pipe'], ...options})
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}


function medianOf(n, fn) {
  const values = []
  for (let i = 0; i < n; i++) values.push(fn(i))
  return median(values)
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

function line(name, ratio, target, detail) {
  const ok = target.test(ratio)
  console.log(`${name.padEnd(44)} ratio ${ratio.toFixed(2).padStart(6)}  target ${target.text.padEnd(8)} ${ok ? 'OK ' : 'MISS'}  ${detail}`)
}

try {
  console.log(`xway bench — node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`)

  // cold start: xway --version and the read-only commands on a typical unit vs node -e "", the
  // runs of each command interleaved with runs of node so that a busy moment weighs on both
  const typical = join(work, 'typical')
  execFileSync(process.execPath, [bin, 'image', 'create', typical, '--profile', join(root, 'profiles/expressway-c.yaml'), '--seed', 'bench', '--json'], {stdio: 'ignore'})
  const coldStarts = [
    ['xway --version', ['--version']],
    ['xway image inspect', ['image', 'inspect', typical, '--json']],
    ['xway licensing status', ['licensing', 'status', typical, '--json']],
    ['xway image verify', ['image', 'verify', typical, '--json']],
  ]
  const runs = Number(process.env.XWAY_BENCH_COLD_RUNS ?? 11)
  for (const [name, args] of coldStarts) {
    time(process.execPath, [bin, ...args])
    const nodeRuns = []
    const xwayRuns = []
    for (let i = 0; i < runs; i++) {
      nodeRuns.push(time(process.execPath, ['-e', '']))
      xwayRuns.push(time(process.execPath, [bin, ...args]))
    }
    const nodeMs = median(nodeRuns)
    const xwayMs = median(xwayRuns)
    line(`cold start: ${name} / node -e ""`, xwayMs / nodeMs, {text: '<= 2.0', test: (r) => r <= 2}, `${xwayMs.toFixed(0)} ms vs ${nodeMs.toFixed(0)} ms (median of ${runs})`)
  }

  if (!coldStartOnly) {
    // pack and unpack vs tar: scripts/bench-pack.js

    // lab up of 50 units: one at a time vs one per core (worker threads; registration concurrent)
    const labUnits = Number(process.env.XWAY_BENCH_LAB_UNITS ?? 50)
    const cores = (await import('node:os')).cpus().length
    const labYaml = join(work, 'bench-lab.yaml')
    writeFileSync(labYaml, `apiVersion: xway/v1\nkind: Lab\nname: bench\nunits:\n  - name: u{n}\n    profile: ${join(root, 'profiles/expressway-c.yaml')}\n    count: ${labUnits}\nlicenseServer: { embedded: true, licenses: { rms: 10, room: 10, desktop: 10 } }\n`)
    const labMs = (concurrency, i) => time(process.execPath, [bin, 'lab', 'up', labYaml, '--out', join(work, `lab-${concurrency}-${i}`), '--concurrency', String(concurrency), '--json'])
    const serial = labMs(1, 0)
    const parallel = labMs(cores, 0)
    line(`lab up of ${labUnits} units: 1 vs ${cores} at a time`, serial / parallel, {text: `>= ${(cores * 0.6).toFixed(1)}`, test: (r) => r >= cores * 0.6}, `speed-up; ${serial.toFixed(0)} ms vs ${parallel.toFixed(0)} ms`)
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}

for (const name of coldStartOnly ? [] : readdirSync(join(root, 'scripts')).filter((n) => /^bench-.+\.js$/.test(n) && n !== 'bench-lib.js').sort()) {
  console.log(`\n== ${name}`)
  const r = spawnSync(process.execPath, [join(root, 'scripts', name)], {stdio: 'inherit'})
  if (r.status !== 0) console.log(`${name} exited ${r.status}`)
}
