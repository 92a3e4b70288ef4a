#!/usr/bin/env node
// `npm run bench`: SPEC 8's performance targets, measured as ratios in one run (these machines are
// noisy, so every number is the median of several runs and compared with a baseline measured
// alongside it). Then runs the other scripts/bench-*.js found beside this file.
// Pack and unpack are measured by scripts/bench-pack.js.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {bin, median, root} from './bench-lib.js'

const work = mkdtempSync(join(tmpdir(), 'xway-bench-'))

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

function line(name, ratio, target, detail) {
  const ok = target.test(ratio)
  console.log(`${name.padEnd(44)} ratio ${ratio.toFixed(2).padStart(6)}  target ${target.text.padEnd(8)} ${ok ? 'OK ' : 'MISS'}  ${detail}`)
}

try {
  console.log(`xway bench — node ${process.version}, ${(await import('node:os')).cpus().length} cores\n`)

  // cold start: xway --version vs node -e ""
  time(process.execPath, [bin, '--version'])
  const nodeMs = medianOf(9, () => time(process.execPath, ['-e', '']))
  const xwayMs = medianOf(9, () => time(process.execPath, [bin, '--version']))
  line('cold start: xway --version / node -e ""', xwayMs / nodeMs, {text: '<= 2.0', test: (r) => r <= 2}, `${xwayMs.toFixed(0)} ms vs ${nodeMs.toFixed(0)} ms`)

  // lab up of 50 units: one at a time vs one per core (worker threads; registration concurrent)
  const labUnits = Number(process.env.XWAY_BENCH_LAB_UNITS ?? 50)
  const cores = (await import('node:os')).cpus().length
  const labYaml = join(work, 'bench-lab.yaml')
  writeFileSync(labYaml, `apiVersion: xway/v1\nkind: Lab\nname: bench\nunits:\n  - name: u{n}\n    profile: ${join(root, 'profiles/expressway-c.yaml')}\n    count: ${labUnits}\nlicenseServer: { embedded: true, licenses: { rms: 10, room: 10, desktop: 10 } }\n`)
  const labMs = (concurrency, i) => time(process.execPath, [bin, 'lab', 'up', labYaml, '--out', join(work, `lab-${concurrency}-${i}`), '--concurrency', String(concurrency), '--json'])
  const serial = labMs(1, 0)
  const parallel = labMs(cores, 0)
  line(`lab up of ${labUnits} units: 1 vs ${cores} at a time`, serial / parallel, {text: `>= ${(cores * 0.6).toFixed(1)}`, test: (r) => r >= cores * 0.6}, `speed-up; ${serial.toFixed(0)} ms vs ${parallel.toFixed(0)} ms`)
} finally {
  rmSync(work, {recursive: true, force: true})
}

for (const name of readdirSync(join(root, 'scripts')).filter((n) => /^bench-.+\.js$/.test(n) && n !== 'bench-lib.js').sort()) {
  console.log(`\n== ${name}`)
  const r = spawnSync(process.execPath, [join(root, 'scripts', name)], {stdio: 'inherit'})
  if (r.status !== 0) console.log(`${name} exited ${r.status}`)
}
