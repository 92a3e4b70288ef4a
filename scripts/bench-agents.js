#!/usr/bin/env node
// Agent benchmark (SPEC 8): 50 concurrent agents — 50 units, the agent's own registerUnit()
// called in this process — against a real license server process (`xway license-server start`).
// Each registration is the whole agent operation: the unit's lock and transaction, the signed
// `register` exchange (TLS per exchange, trust store only), the first `authorize`, the commit.
//   cold   the first registration of every unit (the agent key pair is generated then)
//   warm   reregistrations (--force) in a loop for --seconds: registrations per second, p50/p99
// Needs the build (dist/). Usage: node scripts/bench-agents.js [--agents 50] [--seconds 5]
import {spawn, spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {arg, bin, dist} from './bench-lib.js'

const AGENTS = arg('agents', 50)
const SECONDS = arg('seconds', 5)

const admin = await dist('src/server/admin.js')
const agent = await dist('src/agent/agent.js')

const tmp = mkdtempSync(join(tmpdir(), 'xway-bench-agents-'))
const dir = join(tmp, 'server')
await admin.init(dir)
await admin.accountCreate(dir, {name: 'Bench', virtualAccount: 'bench'})
await admin.licensesAdd(dir, {virtualAccount: 'bench', type: 'rms', count: 1_000_000})
const {token} = await admin.tokenCreate(dir, {virtualAccount: 'bench'})

const server = spawn(process.execPath, [bin, 'license-server', 'start', dir, '--port', '0'], {stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, XWAY_NOW: ''}})
let stopped = false
const stop = () => {
  if (stopped) return
  stopped = true
  server.kill('SIGTERM')
  rmSync(tmp, {recursive: true, force: true})
}
process.on('exit', stop)
const url = await new Promise((resolve, reject) => {
  let out = ''
  const timer = setTimeout(() => reject(new Error('the license server did not start')), 20_000)
  server.stdout.on('data', (d) => {
    out += d
    const m = /listening on (\S+)/.exec(out)
    if (m) {
      clearTimeout(timer)
      resolve(m[1])
    }
  })
  server.on('exit', (code) => reject(new Error(`the license server exited ${code}`)))
})

// one unit built by the CLI, copied with a serial (UDI) of its own per agent
const profile = join(tmp, 'agent.yaml')
writeFileSync(profile, `software: X14.2.0
network: { hostname: bench, domain: lab.example, dns: [192.0.2.53], lan1: { address: 192.0.2.10/24, gateway: 192.0.2.1 } }
licensing:
  transport: { mode: on-prem, url: "${url}" }
  trustAnchors: [${JSON.stringify(join(dir, 'ca.pem'))}]
usage: { calls: 1, desktop: 0, room: 0, webrtc: false }
`)
const first = join(tmp, 'u0')
const built = spawnSync(process.execPath, [bin, 'image', 'create', first, '--profile', profile, '--seed', 'bench', '--json'], {encoding: 'utf8'})
if (built.status !== 0) throw new Error(`image create failed: ${built.stdout}${built.stderr}`)
const xml = readFileSync(join(first, 'info/product_info.xml'), 'utf8')
const units = [first]
for (let i = 1; i < AGENTS; i++) {
  const unit = join(tmp, `u${i}`)
  cpSync(first, unit, {recursive: true})
  writeFileSync(join(unit, 'info/product_info.xml'), xml.replace(/<serial>[^<]*<\/serial>/, `<serial>BENCH${String(i).padStart(4, '0')}</serial>`))
  units.push(unit)
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const ms = (x) => x.toFixed(1)

// cold: every unit's first registration, all at once (key generation included)
const coldStart = performance.now()
const cold = await Promise.all(units.map(async (unit) => {
  const t = performance.now()
  await agent.registerUnit(unit, {token}, new Date())
  return performance.now() - t
}))
const coldMs = performance.now() - coldStart

// warm: each agent reregisters in a loop until the time is up
const latencies = []
let failures = 0
const deadline = performance.now() + SECONDS * 1000
const warmStart = performance.now()
await Promise.all(units.map(async (unit) => {
  while (performance.now() < deadline) {
    const t = performance.now()
    try {
      await agent.registerUnit(unit, {token, force: true}, new Date())
      latencies.push(performance.now() - t)
    } catch {
      failures++
    }
  }
}))
const warmMs = performance.now() - warmStart
latencies.sort((a, b) => a - b)
cold.sort((a, b) => a - b)

console.log(`agents: ${AGENTS} concurrent, in-process registerUnit() against license-server start (${cpus().length} cores)`)
console.log(`cold: ${AGENTS} first registrations in ${ms(coldMs)} ms = ${(AGENTS / (coldMs / 1000)).toFixed(1)} registrations/s, p50 ${ms(percentile(cold, 50))} ms, p99 ${ms(percentile(cold, 99))} ms (agent key generated)`)
console.log(`warm: ${latencies.length} registrations in ${ms(warmMs)} ms = ${(latencies.length / (warmMs / 1000)).toFixed(1)} registrations/s, p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(percentile(latencies, 99))} ms, max ${ms(latencies.at(-1) ?? 0)} ms, failures ${failures}`)
console.log('each registration: unit lock + register + first authorize (two TLS exchanges) + unit commit (fsync)')
stop()
process.exit(failures > 0 ? 1 : 0)
