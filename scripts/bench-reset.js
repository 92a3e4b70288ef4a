#!/usr/bin/env node
// SPEC 8: `factory-reset` of a unit with 2 GB of logs within 1.5x of the same unit with 2 MB.
// Builds one unit, then for each run copies it and gives it a small or a large log set (same number
// of files, so only their size differs), and times `xway factory-reset UNIT --yes` with and without
// -l (logs deleted vs saved), median of N runs, as a user runs it (a whole process).
//
// Usage: node scripts/bench-reset.js [LARGE_MB] [SMALL_MB]
//   env: XWAY_BENCH_LOG_MB (large set, default 500; SPEC's figure is 2048), XWAY_BENCH_SMALL_MB (2),
//        XWAY_BENCH_LOG_FILES (20), XWAY_BENCH_RUNS (3), XWAY_BENCH_DIR (temp folder's parent)
// The reset runs with the hidden --seed, so that key regeneration costs the same in every run and the
// ratio measures the logs alone. Needs a build (npm run build).
import {spawnSync} from 'node:child_process'
import {closeSync, cpSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {bin, median, root} from './bench-lib.js'

const num = (v, d) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d)
const largeMb = num(process.argv[2] ?? process.env.XWAY_BENCH_LOG_MB, 500)
const smallMb = num(process.argv[3] ?? process.env.XWAY_BENCH_SMALL_MB, 2)
const files = Math.floor(num(process.env.XWAY_BENCH_LOG_FILES, 20))
const runs = Math.floor(num(process.env.XWAY_BENCH_RUNS, 3))
const env = {...process.env, XWAY_NOW: '2026-03-01T00:00:00Z', XWAY_DEBUG: ''}

function xway(args) {
  const r = spawnSync(process.execPath, [bin, ...args], {cwd: root, env, encoding: 'utf8', input: ''})
  if (r.status !== 0) throw new Error(`xway ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`)
  return r
}

/** `files` log files totalling `mb` MiB, written and fsynced, as logs on a disk are. */
function writeLogs(unit, mb) {
  const dir = join(unit, 'mnt/harddisk/log')
  mkdirSync(dir, {recursive: true})
  const perFile = Math.floor((mb * 1024 * 1024) / files)
  const chunk = Buffer.alloc(Math.min(1 << 20, Math.max(perFile, 1)), '2026-03-01T00:00:00Z tvcs: Event="Call Attempted" Protocol="SIP"\n')
  for (let i = 0; i < files; i++) {
    const fd = openSync(join(dir, `messages.${i}.log`), 'w', 0o644)
    for (let left = perFile; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, left))
    fsyncSync(fd)
    closeSync(fd)
  }
}


const work = mkdtempSync(join(process.env.XWAY_BENCH_DIR || tmpdir(), 'xway-bench-reset-'))
try {
  const base = join(work, 'base')
  xway(['image', 'create', base, '--profile', join(root, 'profiles', 'expressway-c.yaml'), '--seed', 'bench', '--json'])
  const times = {}
  let n = 0
  for (let run = 0; run < runs; run++) {
    for (const [label, mb] of [['small', smallMb], ['large', largeMb]]) {
      for (const flags of [[], ['-l']]) {
        const unit = join(work, `u${n++}`)
        cpSync(base, unit, {recursive: true})
        writeLogs(unit, mb)
        const started = process.hrtime.bigint()
        xway(['factory-reset', unit, '--yes', '--seed', 'bench', '--json', ...flags])
        const ms = Number(process.hrtime.bigint() - started) / 1e6
        const key = `${label}${flags.join('')}`
        ;(times[key] ??= []).push(ms)
        rmSync(unit, {recursive: true, force: true})
      }
    }
  }
  const line = (what, flag) => {
    const small = median(times[`small${flag}`])
    const large = median(times[`large${flag}`])
    const ratio = large / small
    return `  ${what.padEnd(27)} ${smallMb} MB: ${small.toFixed(0)} ms, ${largeMb} MB: ${large.toFixed(0)} ms, ratio ${ratio.toFixed(2)} (target <= 1.5) ${ratio <= 1.5 ? 'ok' : 'SLOW'}`
  }
  console.log(`factory-reset: ${largeMb} MB of logs vs ${smallMb} MB (${files} files each), median of ${runs}`)
  console.log(line('without -l (logs deleted):', ''))
  console.log(line('with -l (logs saved):', '-l'))
} finally {
  rmSync(work, {recursive: true, force: true})
}
