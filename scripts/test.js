#!/usr/bin/env node
// Runs the uvu suite (TypeScript through tsx), each test file in a process of its own, as many at
// once as the machine has cores (XWAY_TEST_JOBS to choose), the longest first by the times of the
// last run; each file's output is printed whole when it ends. With --typecheck, `tsc --noEmit -p
// test` runs alongside. Closes with the line CI reads, "N passed, N failed", and fails when a test
// or the typecheck failed, or when no test ran.
// Usage: node scripts/test.js [--typecheck] [file-pattern]   e.g. node scripts/test.js factory-reset
import {spawn} from 'node:child_process'
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const typecheck = args.includes('--typecheck')
const filter = args.find((a) => !a.startsWith('--'))
const pattern = new RegExp(filter ? `${filter}.*\\.test\\.ts$` : '\\.test\\.ts$', 'i')
const jobs = Math.max(1, Number(process.env.XWAY_TEST_JOBS) || availableParallelism())
const FILE_TIMEOUT_MS = Number(process.env.XWAY_TEST_FILE_TIMEOUT_MS ?? 20 * 60_000)
const timesFile = join(root, 'node_modules', '.cache', 'xway-test-times.json')

function testFiles(dir) {
  const found = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...testFiles(path))
    else if (pattern.test(relative(join(root, 'test'), path))) found.push(relative(join(root, 'test'), path))
  }
  return found
}

let lastTimes = {}
try {
  lastTimes = JSON.parse(readFileSync(timesFile, 'utf8'))
} catch {
  lastTimes = {}
}

// eslint-disable-next-line no-control-regex
const plain = (text) => text.replace(/\u001B\[[0-9;]*m/g, '')

/** One job: a test file through uvu (its own process), or the typecheck. */
function runJob(job) {
  return new Promise((resolve) => {
    const started = Date.now()
    const argv = job.typecheck
      ? [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(root, 'test')]
      : ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', `^${job.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`]
    const child = spawn(process.execPath, argv, {cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, FORCE_COLOR: '0'}})
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => {
      out += `\n${job.name}: no end after ${FILE_TIMEOUT_MS / 1000} s: stopped\n`
      child.kill('SIGKILL')
    }, FILE_TIMEOUT_MS)
    child.on('close', (code) => {
      clearTimeout(timer)
      const text = plain(out)
      const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(text)?.[1] ?? 0)
      const total = job.typecheck ? 0 : count('Total')
      const passed = job.typecheck ? 0 : count('Passed')
      const skipped = job.typecheck ? 0 : count('Skipped')
      // a file that exits non-zero without saying why (a crash, a timeout) counts as one failure
      const failed = job.typecheck ? (code === 0 ? 0 : 1) : Math.max(total - passed - skipped, code === 0 ? 0 : 1)
      resolve({...job, code, text, total, passed, skipped, failed, ms: Date.now() - started})
    })
  })
}

const files = testFiles(join(root, 'test'))
// longest first (by the last run; unknown files count as long), so that no core idles at the end
const queue = files.map((name) => ({name})).sort((a, b) => (lastTimes[b.name] ?? 60_000) - (lastTimes[a.name] ?? 60_000) || a.name.localeCompare(b.name))
if (typecheck) queue.unshift({name: 'typecheck (tsc --noEmit -p test)', typecheck: true})

const started = Date.now()
const results = []
async function worker() {
  for (let job = queue.shift(); job; job = queue.shift()) {
    const r = await runJob(job)
    results.push(r)
    process.stdout.write(`${r.text.trimEnd()}\n${r.failed > 0 ? '✘' : '✔'} ${r.name} (${(r.ms / 1000).toFixed(1)} s)\n\n`)
  }
}
await Promise.all(Array.from({length: Math.min(jobs, queue.length || 1)}, worker))

const times = {...lastTimes}
for (const r of results) if (!r.typecheck) times[r.name] = r.ms
try {
  mkdirSync(dirname(timesFile), {recursive: true})
  writeFileSync(timesFile, JSON.stringify(times, null, 2) + '\n')
} catch {
  // the times only order the next run
}

const sum = (key) => results.reduce((n, r) => n + r[key], 0)
const total = sum('total')
const passed = sum('passed')
const skipped = sum('skipped')
const failed = sum('failed')
for (const r of results.filter((x) => x.failed > 0)) console.log(`failed: ${r.name}`)
console.log(`${files.length} test files in ${jobs} processes at once, ${((Date.now() - started) / 1000).toFixed(1)} s`)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
if (total === 0) console.error('no test ran')
process.exit(failed > 0 || total === 0 ? 1 : 0)
