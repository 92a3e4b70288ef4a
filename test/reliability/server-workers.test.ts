import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {TransportError, type ClientOptions} from '../../src/licensing/client.js'
import {LICENSE_TYPES} from '../../src/licensing/license-types.js'
import type {AuthorizeReply} from '../../src/licensing/protocol.js'
import {databaseOf} from '../../src/server/admin.js'
import {openStore} from '../../src/server/store.js'
import {sharedPostgres, type PostgresServer} from '../support/postgres.js'
import {
  authorize, makeAgents, makeServer, ownTempDir, pool, register, startServer, withSerial, workerPids,
  type Agent, type ServerProcess, type TestServer,
} from '../e2e/license-server-helpers.js'

// `license-server start --workers 2` on PostgreSQL: 50 agents spread over the two worker
// processes against a pool too small for all; then kill -9 of one worker under load. Nothing
// acknowledged is lost, nothing is given twice, no count goes negative, and the killed worker
// is replaced. Bounded: each load phase stops at a deadline.

const postgres = sharedPostgres()
const AGENTS = 50
let temp: ReturnType<typeof ownTempDir>
let pg: PostgresServer
let SERVER: TestServer
let server: ServerProcess | undefined
let agents: Agent[]

test.before(async () => {
  temp = ownTempDir('xway-ls-workers-')
  pg = await postgres.acquire()
  SERVER = await makeServer(join(temp.path, 'server'), {rms: 60, room: 20}, 'lab', await pg.createDatabase())
  ;[server, agents] = await Promise.all([startServer(SERVER.dir, {workers: 2, json: true, env: pg.env}), makeAgents(AGENTS, 'W', 10)])
})

test.after(async () => {
  await server?.stop('SIGKILL')
  await postgres.release()
  temp?.remove()
})

async function checkStore(): Promise<Map<string, {status: string; licenses: Record<string, number>}>> {
  const store = await openStore(databaseOf(SERVER.dir))
  try {
    const consistency = await store.consistency('lab')
    assert.ok(consistency.ok, consistency.problems.join('; '))
    for (const l of (await store.pool('lab')).licenses) {
      assert.ok(l.inUse >= 0 && l.reserved >= 0 && l.inTransit >= 0, `${l.type}: no negative count`)
      assert.ok(l.inUse + l.reserved + l.inTransit + l.onPrem <= l.owned, `${l.type}: not over-allocated`)
    }
    return new Map((await store.instances('lab')).map((i) => [i.udi, {status: i.status, licenses: i.licenses}]))
  } finally {
    await store.close()
  }
}

test('50 agents over 2 workers against a short pool: no over-allocation, no lost registration, both workers serve', async () => {
  assert.is(workerPids(server!).length, 2)
  const options: ClientOptions = {target: {url: server!.url}, trustAnchors: [SERVER.ca], timeoutMs: 30_000}
  const last: AuthorizeReply[] = new Array(AGENTS)
  const results = await pool(AGENTS, AGENTS, async (i) => {
    const agent = agents[i]!
    assert.is((await register(options, agent, SERVER.token)).status, 'registered')
    for (const usage of [{rms: 1 + (i % 3), room: i % 2}, {rms: 2 + (i % 2), room: 1}]) last[i] = await authorize(options, agent, usage)
  })
  const failures = results.filter((r) => !r.ok)
  assert.is(failures.length, 0, failures.map((f) => String((f as {error: unknown}).error)).join('\n'))

  const stored = await checkStore()
  assert.is(stored.size, AGENTS, 'every registration is stored')
  const p = (await openStore(databaseOf(SERVER.dir)).then(async (s) => {
    try {
      return await s.pool('lab')
    } finally {
      await s.close()
    }
  })).licenses
  for (const type of LICENSE_TYPES) {
    const line = p.find((l) => l.type === type)!
    assert.is(line.inUse, last.reduce((sum, r) => sum + r.licenses.find((l) => l.type === type)!.granted, 0), `${type}: inUse is what the replies granted`)
    assert.is(line.shortage, last.reduce((sum, r) => sum + r.licenses.find((l) => l.type === type)!.shortage, 0), `${type}: shortage is what the replies lacked`)
  }
  assert.ok(last.some((r) => r.status === 'out-of-compliance') && last.some((r) => r.status === 'authorized'), 'the pool ran short for some, not all')
  agents.forEach((a, i) => assert.is(stored.get(a.udi)!.status, last[i]!.status))

  // the two workers both answered: stop and read what each served, then serve again for the next case
  const before = server!
  const stop = await before.stop('SIGTERM')
  assert.equal(stop, {code: 0, signal: null})
  const result = JSON.parse(before.stdout()) as {workers: number; requestsByWorker: number[]}
  assert.is(result.workers, 2)
  assert.is(result.requestsByWorker.length, 2)
  assert.ok(result.requestsByWorker.every((n) => n > 0), `each worker served requests: ${result.requestsByWorker.join(', ')}`)
  server = await startServer(SERVER.dir, {workers: 2, json: true, env: pg.env})
})

test('kill -9 of one worker under load: nothing acknowledged is lost, counts stay consistent, the worker is replaced', async () => {
  const options: ClientOptions = {target: {url: server!.url}, trustAnchors: [SERVER.ca], timeoutMs: 10_000}
  const acknowledged: Agent[] = []
  const granted = new Map<string, number>()
  let cut = 0
  let killed = 0
  const deadline = Date.now() + 12_000
  let stopAt = deadline

  const work = agents.map(async (base, w) => {
    for (let n = 0; Date.now() < stopAt; n++) {
      const agent = withSerial(base, `X${w.toString().padStart(2, '0')}${n.toString().padStart(5, '0')}`)
      try {
        await register(options, agent, SERVER.token)
        acknowledged.push(agent)
        const reply = await authorize(options, agent, {rms: 1})
        granted.set(agent.udi, reply.licenses[0]!.granted)
      } catch (err) {
        if (!(err instanceof TransportError)) throw err
        cut++ // in flight on the killed worker: the agent tries again with its next registration
      }
    }
  })

  const killer = (async () => {
    const start = Date.now()
    while (acknowledged.length < 60 && Date.now() - start < 5_000) await new Promise((r) => setTimeout(r, 20))
    const [victim] = workerPids(server!)
    assert.ok(victim, 'a worker to kill')
    process.kill(victim!, 'SIGKILL')
    killed = victim!
    // the load goes on for a while on the other worker and the replacement
    stopAt = Math.min(deadline, Date.now() + 3_000)
  })()
  await Promise.all([killer, ...work])
  assert.ok(killed > 0)
  assert.ok(acknowledged.length > 60, `registrations were made: ${acknowledged.length}`)
  assert.ok(cut > 0, 'the kill cut requests in flight')
  console.log(`  ${acknowledged.length} registrations acknowledged, ${cut} requests cut by the kill`)

  // a replacement worker serves the same port
  const limit = Date.now() + 10_000
  let pids = workerPids(server!)
  while ((pids.length < 2 || pids.includes(killed)) && Date.now() < limit) {
    await new Promise((r) => setTimeout(r, 100))
    pids = workerPids(server!)
  }
  assert.is(pids.length, 2, `two workers again: ${pids.join(', ')}`)
  assert.not.ok(pids.includes(killed))

  const stored = await checkStore()
  const lost = acknowledged.filter((a) => !stored.has(a.udi)).map((a) => a.udi)
  assert.equal(lost, [], `${lost.length} acknowledged registrations lost of ${acknowledged.length} (${cut} requests cut by the kill)`)
  for (const [udi, n] of granted) assert.is(stored.get(udi)!.licenses.rms, n, `${udi} holds what its reply granted`)

  // and the server still answers, on any worker
  const after = agents[0]!
  const again = withSerial(after, 'XAFTER001')
  assert.is((await register(options, again, SERVER.token)).status, 'registered')
})

test('--workers 2 on SQLite: one file, two processes, every registration stored and counters consistent', async () => {
  const sqlite = await makeServer(join(temp.path, 'sqlite-server'), {rms: 20})
  const s = await startServer(sqlite.dir, {workers: 2, json: true})
  try {
    assert.is(workerPids(s).length, 2)
    const options: ClientOptions = {target: {url: s.url}, trustAnchors: [sqlite.ca], timeoutMs: 30_000}
    const group = agents.slice(0, 30).map((a, i) => withSerial(a, `Q${String(i).padStart(6, '0')}`))
    const results = await pool(group.length, group.length, async (i) => {
      await register(options, group[i]!, sqlite.token)
      return authorize(options, group[i]!, {rms: 1})
    })
    assert.ok(results.every((r) => r.ok), results.filter((r) => !r.ok).map((r) => String((r as {error: unknown}).error)).join('\n'))
    const granted = results.reduce((n, r) => n + (r as {value: AuthorizeReply}).value.licenses[0]!.granted, 0)
    assert.is(granted, 20, 'the 20 licenses, no more')
    const store = await openStore(databaseOf(sqlite.dir))
    try {
      assert.is((await store.instances('lab')).length, 30)
      const consistency = await store.consistency('lab')
      assert.ok(consistency.ok, consistency.problems.join('; '))
      assert.is((await store.pool('lab')).licenses[0]!.inUse, 20)
    } finally {
      await store.close()
    }
  } finally {
    const stopped = await s.stop('SIGTERM')
    assert.equal(stopped, {code: 0, signal: null})
  }
})

test.run()
