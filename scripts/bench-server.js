#!/usr/bin/env node
// License server benchmark (SPEC 8): 50 concurrent agents registering against a real server
// process (`xway license-server start`), registrations per second and latency percentiles.
// Agent keys are generated before the timed part. Two transports are measured:
//   keep-alive  each agent keeps its HTTPS connection (TLS handshake once per agent)
//   per-call    src/licensing/client.ts, one TLS connection per exchange, as the agent does
// Needs the build (dist/). Usage: node scripts/bench-server.js [--agents 50] [--seconds 5]
import {spawn} from 'node:child_process'
import {generateKeyPair} from 'node:crypto'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'
import {cpus, tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {promisify} from 'node:util'
import {arg, dist, root} from './bench-lib.js'

const AGENTS = arg('agents', 50)
const SECONDS = arg('seconds', 5)

const admin = await dist('src/server/admin.js')
const protocol = await dist('src/licensing/protocol.js')
const client = await dist('src/licensing/client.js')

const dir = join(mkdtempSync(join(tmpdir(), 'xway-bench-server-')), 'server')
admin.init(dir)
admin.accountCreate(dir, {name: 'Bench', virtualAccount: 'bench'})
admin.licensesAdd(dir, {virtualAccount: 'bench', type: 'rms', count: 1_000_000})
const {token} = admin.tokenCreate(dir, {virtualAccount: 'bench'})
const ca = readFileSync(join(dir, 'ca.pem'), 'utf8')

const server = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'license-server', 'start', dir, '--port', '0'], {stdio: ['ignore', 'pipe', 'inherit']})
const url = await new Promise((resolve, reject) => {
  let out = ''
  const timer = setTimeout(() => reject(new Error('server did not start')), 20_000)
  server.stdout.on('data', (d) => {
    out += d
    const m = /listening on (\S+)/.exec(out)
    if (m) { clearTimeout(timer); resolve(m[1]) }
  })
  server.on('exit', (code) => reject(new Error(`server exited ${code}`)))
})

const generate = promisify(generateKeyPair)
const t0 = performance.now()
const keys = await Promise.all(Array.from({length: AGENTS}, () => generate('rsa', {modulusLength: 2048})))
const keygenMs = performance.now() - t0
const agents = keys.map(({privateKey, publicKey}, i) => ({
  id: i, key: privateKey, publicKeyPem: publicKey.export({type: 'spki', format: 'pem'}),
  https: new HttpsAgent({keepAlive: true, maxSockets: 1, ca: [ca]}),
}))

const target = new URL(url)
let serialCounter = 0
function nextRegistration(agent) {
  const serial = `B${agent.id.toString(36).toUpperCase()}${(serialCounter++).toString(36).toUpperCase().padStart(6, '0')}`
  const udi = protocol.formatUdi('EXPWY-VE-M-K9', serial)
  return {
    udi,
    request: {method: 'register', params: {token, udi, publicKey: agent.publicKeyPem, product: {pid: 'EXPWY-VE-M-K9', serial}, hostname: `h-${serial.toLowerCase()}`, ip: '192.0.2.1'}},
  }
}

function postKeepAlive(agent, request, udi) {
  const body = protocol.encodeRequest(request)
  const headers = protocol.signRequest(request.method, body, {udi, key: agent.key})
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent: agent.https,
      headers: {'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers},
    }, (res) => {
      let text = ''
      res.on('data', (d) => (text += d))
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
}

function postPerCall(agent, request, udi) {
  return client.call({target: {url}, trustAnchors: [ca], timeoutMs: 30_000}, request, {udi, key: agent.key})
}

async function phase(name, send, seconds) {
  const latencies = []
  let errors = 0
  const end = performance.now() + seconds * 1000
  const started = performance.now()
  await Promise.all(agents.map(async (agent) => {
    while (performance.now() < end) {
      const {udi, request} = nextRegistration(agent)
      const t = performance.now()
      try {
        await send(agent, request, udi)
        latencies.push(performance.now() - t)
      } catch (err) {
        errors++
        if (errors < 3) console.error(`${name}: ${err.message}`)
      }
    }
  }))
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const pct = (p) => latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1) : 'n/a'
  console.log(`license server ${name}: ${latencies.length} registrations in ${elapsed.toFixed(2)} s = ${(latencies.length / elapsed).toFixed(0)} registrations/s; ` +
    `latency p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.length ? latencies.at(-1).toFixed(1) : 'n/a'} ms; errors ${errors}`)
  return {rate: latencies.length / elapsed, p99: Number(pct(0.99))}
}

try {
  console.log(`license server bench: ${AGENTS} concurrent agents, ${cpus().length} cores, agent keys generated in ${keygenMs.toFixed(0)} ms (not timed)`)
  // warm-up: TLS sessions, JIT, prepared statements
  await phase('warm-up (keep-alive)', postKeepAlive, 0.5)
  const keepAlive = await phase('keep-alive', postKeepAlive, SECONDS)
  const perCall = await phase('per-call (client.ts, new TLS each)', postPerCall, SECONDS)
  const instances = admin.instances(dir, {virtualAccount: 'bench'}).instances.length
  console.log(`license server instances stored: ${instances}`)
  console.log(`license server target >= 300 registrations/s: keep-alive ${keepAlive.rate >= 300 ? 'met' : 'NOT met'} (${keepAlive.rate.toFixed(0)}/s, p99 ${keepAlive.p99} ms); per-call ${perCall.rate.toFixed(0)}/s, p99 ${perCall.p99} ms`)
} finally {
  for (const a of agents) a.https.destroy()
  server.kill('SIGTERM')
  await new Promise((r) => server.on('exit', r))
  rmSync(dirname(dir), {recursive: true, force: true})
}
