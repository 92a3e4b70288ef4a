#!/usr/bin/env node
// License server benchmark (SPEC 8): 50 concurrent agents registering new UDIs, each request
// on a new TLS connection (a full handshake, no session resumption), against
//   bare        a bare Node HTTPS server (same certificate and TLS policy) answering every
//               POST with a small JSON: the rate at which this machine completes
//               new-connection requests, the floor the license server is measured against;
//   sqlite-1    `license-server start` on SQLite, one process;
//   postgres-2  `license-server start --workers 2` on a private PostgreSQL (fsync on).
// The three run side by side and are measured in turns (--rounds rounds of --seconds each),
// so that the machine's other load weighs on all alike; each rate is the median of its
// rounds, latencies are over all its requests. Prints the rates, p50/p99 latency, and the
// ratios SPEC 8 sets: each server ≥ 0.7× bare, PostgreSQL with 2 workers ≥ SQLite with 1.
// Agent keys are generated before the timed part.
// Needs the build (dist/) and PostgreSQL (XWAY_PG_BIN, default /usr/lib/postgresql/15/bin).
// Usage: node scripts/bench-server.js [--agents 50] [--seconds 3] [--rounds 3] [--profile DIR]
// --profile DIR: the servers write V8 CPU profiles (.cpuprofile) into DIR when they stop.
import {spawn} from 'node:child_process'
import {generateKeyPair} from 'node:crypto'
import {mkdtempSync, readdirSync, readFileSync, rmSync} from 'node:fs'
import {request as httpsRequest} from 'node:https'
import {createSecureContext} from 'node:tls'
import {cpus, tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {tsImport} from 'tsx/esm/api'
import {arg, bin, dist, median, root} from './bench-lib.js'

const AGENTS = arg('agents', 50)
const SECONDS = arg('seconds', 3)
const ROUNDS = arg('rounds', 3)
const PROFILE = process.argv.includes('--profile') ? process.argv[process.argv.indexOf('--profile') + 1] : null
const profiling = PROFILE ? [`--cpu-prof`, `--cpu-prof-dir=${PROFILE}`] : []
const TARGET_RATE = 300
const TARGET_RATIO_TO_BARE = 0.7

const admin = await dist('src/server/admin.js')
const codes = await dist('src/licensing/codes.js')
const protocol = await dist('src/licensing/protocol.js')
const work = mkdtempSync(join(tmpdir(), 'xway-bench-server-'))
const children = new Set()

/** A child process that prints `listening on URL` when ready (bounded wait). */
function serve(args, env = {}) {
  const child = spawn(process.execPath, args, {cwd: root, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  children.add(child)
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`not ready within 30 s: ${out}`)), 30_000)
    const onData = (d) => {
      out += d
      const m = /listening on (https:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({child, url: m[1]})
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => {
      children.delete(child)
      clearTimeout(timer)
      reject(new Error(`exited ${code} before it was ready: ${out}`))
    })
  })
}

function stop(child) {
  if (!children.has(child)) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

// the bare server: the license server's certificate and TLS options, no work behind them
const BARE = `
const {createServer} = await import('node:https')
const {readFileSync} = await import('node:fs')
const tls = await import(${JSON.stringify(join(root, 'dist/src/licensing/transport-security.js'))})
const dir = process.argv[1]
const server = createServer({
  key: readFileSync(dir + '/server.key'), cert: readFileSync(dir + '/server.pem'), ca: [readFileSync(dir + '/ca.pem')],
  minVersion: tls.TLS_MIN_VERSION, ciphers: tls.TLS_CIPHERS, honorCipherOrder: true, requestCert: true, rejectUnauthorized: false,
}, (req, res) => {
  req.resume()
  req.on('end', () => { const body = '{"status":"ok"}'; res.writeHead(200, {'content-type': 'application/json', 'content-length': body.length}); res.end(body) })
})
server.listen(0, '127.0.0.1', () => process.stdout.write('listening on https://127.0.0.1:' + server.address().port + '/SmartTransport\\n'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

async function makeFolder(name, database) {
  const dir = join(work, name)
  await admin.init(dir, {database})
  await admin.accountCreate(dir, {name: 'Bench', virtualAccount: 'bench'})
  await admin.licensesAdd(dir, {virtualAccount: 'bench', type: 'rms', count: 1_000_000})
  const {token} = await admin.tokenCreate(dir, {virtualAccount: 'bench'})
  return {dir, token, ca: readFileSync(join(dir, 'ca.pem'), 'utf8')}
}

const generate = promisify(generateKeyPair)
let serialCounter = 0

function registration(agent, token) {
  const serial = `B${agent.id.toString(36).toUpperCase()}${(serialCounter++).toString(36).toUpperCase().padStart(7, '0')}`
  const udi = codes.formatUdi('EXPWY-VE-M-K9', serial)
  return protocol.encodeRequest({method: 'register', params: {token, udi, publicKey: agent.publicKeyPem, product: {pid: 'EXPWY-VE-M-K9', serial}, hostname: `h-${serial.toLowerCase()}`, ip: '192.0.2.1'}})
}

const contexts = new Map()

/** One POST on a new TLS connection (agent: false: no pooling, no session cache; the CA parsed once). */
function post(url, ca, body) {
  const target = new URL(url)
  let secureContext = contexts.get(ca)
  if (!secureContext) contexts.set(ca, (secureContext = createSecureContext({ca: [ca]})))
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: false, secureContext, servername: 'localhost',
      headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close'},
    }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`))))
    })
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

/** CPU time (ms) used so far by the process tree under `pid` and by every PostgreSQL process (Linux /proc). */
function cpuMs(pid) {
  const stats = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = text.lastIndexOf(')')
      const fields = text.slice(close + 2).split(' ')
      stats.push({pid: Number(entry), comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12])})
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set([pid])
  for (let grew = true; grew;) {
    grew = false
    for (const p of stats) if (!tree.has(p.pid) && tree.has(p.ppid)) grew = tree.add(p.pid) && true
  }
  const tick = 1000 / 100
  return {
    server: stats.filter((p) => tree.has(p.pid)).reduce((n, p) => n + p.ticks, 0) * tick,
    database: stats.filter((p) => p.comm === 'postgres').reduce((n, p) => n + p.ticks, 0) * tick,
  }
}

/** All agents send for `seconds`; returns the rate and the latencies (ms) of the requests that succeeded. */
async function phase(agents, send, seconds, pid) {
  const cpuBefore = pid ? cpuMs(pid) : null
  const clientBefore = process.cpuUsage()
  const latencies = []
  let errors = 0
  let firstError = null
  const started = performance.now()
  const end = started + seconds * 1000
  await Promise.all(agents.map(async (agent) => {
    while (performance.now() < end) {
      const t = performance.now()
      try {
        await send(agent)
        latencies.push(performance.now() - t)
      } catch (err) {
        errors++
        firstError ??= err.message
      }
    }
  }))
  const client = process.cpuUsage(clientBefore)
  const cpuAfter = pid ? cpuMs(pid) : null
  const cpu = {
    client: (client.user + client.system) / 1000,
    server: cpuAfter ? cpuAfter.server - cpuBefore.server : 0,
    database: cpuAfter ? cpuAfter.database - cpuBefore.database : 0,
  }
  return {rate: latencies.length / ((performance.now() - started) / 1000), latencies, errors, firstError, cpu, count: latencies.length}
}

function summary(name, phases) {
  const latencies = phases.flatMap((p) => p.latencies).sort((a, b) => a - b)
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN)
  const errors = phases.reduce((n, p) => n + p.errors, 0)
  const firstError = phases.find((p) => p.firstError)?.firstError
  const result = {name, rate: median(phases.map((p) => p.rate)), p50: pct(0.5), p99: pct(0.99), errors}
  const count = phases.reduce((n, p) => n + p.count, 0)
  const per = (key) => (phases.reduce((n, p) => n + p.cpu[key], 0) / Math.max(1, count)).toFixed(2)
  console.log(`${name.padEnd(24)} ${result.rate.toFixed(0).padStart(5)}/s (rounds: ${phases.map((p) => p.rate.toFixed(0)).join(', ')}); ` +
    `latency p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms; errors ${errors}${firstError ? ` (${firstError})` : ''}; ` +
    `CPU per request: server ${per('server')} ms, database ${per('database')} ms, client ${per('client')} ms`)
  return result
}

function ratio(name, value, target) {
  console.log(`${name.padEnd(52)} ratio ${value.toFixed(2).padStart(5)}  target >= ${target.toFixed(1)}  ${value >= target ? 'OK' : 'MISS'}`)
}

let postgres = null
try {
  console.log(`license server bench: ${AGENTS} concurrent agents, ${cpus().length} cores, a new TLS connection per request`)
  const t0 = performance.now()
  const keys = await Promise.all(Array.from({length: AGENTS}, () => generate('rsa', {modulusLength: 2048})))
  const agents = keys.map(({publicKey}, id) => ({id, publicKeyPem: publicKey.export({type: 'spki', format: 'pem'})}))
  console.log(`agent keys generated in ${(performance.now() - t0).toFixed(0)} ms (not timed)`)

  const sqlite = await makeFolder('sqlite')
  const {startPostgres} = await tsImport('../test/support/postgres.ts', import.meta.url)
  postgres = await startPostgres({fsync: true})
  process.env.PGPASSWORD = postgres.password
  const pgFolder = await makeFolder('postgres', await postgres.createDatabase('bench'))

  const bare = await serve([...profiling, '--input-type=module', '-e', BARE, sqlite.dir])
  const one = await serve([...profiling, bin, 'license-server', 'start', sqlite.dir, '--port', '0'])
  const two = await serve([...profiling, bin, 'license-server', 'start', pgFolder.dir, '--port', '0', '--workers', '2'])
  const configs = [
    {name: 'bare HTTPS, 1 process', send: () => post(bare.url, sqlite.ca, '{"method":"ping","params":{}}'), pid: bare.child.pid, phases: []},
    {name: 'SQLite, 1 worker', send: (agent) => post(one.url, sqlite.ca, registration(agent, sqlite.token)), pid: one.child.pid, phases: []},
    {name: 'PostgreSQL, 2 workers', send: (agent) => post(two.url, pgFolder.ca, registration(agent, pgFolder.token)), pid: two.child.pid, phases: []},
  ]
  for (const config of configs) await phase(agents, config.send, 1) // warm-up: JIT, prepared statements, connections
  for (let round = 0; round < ROUNDS; round++) {
    for (const config of configs) config.phases.push(await phase(agents, config.send, SECONDS, config.pid))
  }
  const [bareResult, sqliteResult, pgResult] = configs.map((c) => summary(c.name, c.phases))
  for (const s of [bare, one, two]) await stop(s.child)

  const stored = (await admin.instances(pgFolder.dir, {virtualAccount: 'bench'})).instances.length
  console.log(`instances stored: SQLite ${(await admin.instances(sqlite.dir, {virtualAccount: 'bench'})).instances.length}, PostgreSQL ${stored}`)
  ratio('SQLite 1 worker / bare HTTPS', sqliteResult.rate / bareResult.rate, TARGET_RATIO_TO_BARE)
  ratio('PostgreSQL 2 workers / bare HTTPS', pgResult.rate / bareResult.rate, TARGET_RATIO_TO_BARE)
  ratio('PostgreSQL 2 workers / SQLite 1 worker', pgResult.rate / sqliteResult.rate, 1)
  for (const r of [sqliteResult, pgResult]) {
    console.log(`${`${r.name}: >= ${TARGET_RATE} registrations/s`.padEnd(52)} ${r.rate.toFixed(0).padStart(11)}/s  ${r.rate >= TARGET_RATE ? 'OK' : 'MISS'}  (p99 ${r.p99.toFixed(1)} ms)`)
  }
} finally {
  for (const child of children) await stop(child)
  await postgres?.remove()
  rmSync(work, {recursive: true, force: true})
}
