import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {TransportError, type ClientOptions} from '../../src/licensing/client.js'
import {databaseOf, instances} from '../../src/server/admin.js'
import {openStore} from '../../src/server/store.js'
import {
  agentCall, authorize, makeAgents, makeServer, ownTempDir, register, startServer, withSerial, type Agent, type ServerProcess, type TestServer,
} from '../e2e/license-server-helpers.js'

// kill -9 of the server while 50 agents register and report: after a restart, every
// registration (and authorization) that got a success reply is there, and the pool's
// counters still match the allocations. Bounded: the load stops at the kill.

const WORKERS = 50
let temp: ReturnType<typeof ownTempDir>
let SERVER: TestServer
let server: ServerProcess | undefined
let workers: Agent[]

test.before(async () => {
  temp = ownTempDir('xway-ls-crash-')
  SERVER = await makeServer(join(temp.path, 'server'), {rms: 40})
  ;[server, workers] = await Promise.all([startServer(SERVER.dir), makeAgents(WORKERS, 'K', 10)])
})

test.after(async () => {
  await server?.stop('SIGKILL')
  temp?.remove()
})

test('kill -9 under load, restart: every registration that got a success reply is still there', async () => {
  const options: ClientOptions = {target: {url: server!.url}, trustAnchors: [SERVER.ca], timeoutMs: 10_000}
  const acknowledged: Agent[] = []
  const authorizedRms = new Map<string, number>()
  let failures = 0
  let stop = false
  let killAt = 0
  const deadline = Date.now() + 20_000

  const work = workers.map(async (worker, w) => {
    for (let n = 0; !stop && Date.now() < deadline; n++) {
      const serial = `K${w.toString().padStart(2, '0')}${n.toString().padStart(5, '0')}`
      const agent = withSerial(worker, serial)
      try {
        await register(options, agent, SERVER.token)
        acknowledged.push(agent)
        if (n % 3 === 0) {
          const reply = await authorize(options, agent, {rms: 1})
          authorizedRms.set(agent.udi, reply.licenses[0]!.granted)
        }
      } catch (err) {
        if (!(err instanceof TransportError)) throw err
        failures++
        return // the server is gone
      }
    }
  })

  // kill once a good number of registrations are in, and never later than 3 s
  const killer = (async () => {
    const start = Date.now()
    while (acknowledged.length < 150 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 20))
    killAt = acknowledged.length
    const result = await server!.stop('SIGKILL')
    assert.is(result.signal, 'SIGKILL')
    stop = true
  })()
  await Promise.all([killer, ...work])
  assert.ok(killAt > 0, 'registrations were made before the kill')
  assert.ok(failures > 0, 'some requests were cut by the kill')

  server = await startServer(SERVER.dir)
  const stored = new Set((await instances(SERVER.dir, {virtualAccount: 'lab'})).instances.map((i) => i.udi))
  const lost = acknowledged.filter((a) => !stored.has(a.udi)).map((a) => a.udi)
  assert.equal(lost, [], `${lost.length} acknowledged registrations lost of ${acknowledged.length}`)

  const store = await openStore(databaseOf(SERVER.dir))
  try {
    const consistency = await store.consistency('lab')
    assert.ok(consistency.ok, consistency.problems.join('; '))
    const rms = (await store.pool('lab')).licenses[0]!
    assert.ok(rms.inUse <= rms.owned)
    const holdings = new Map((await store.instances('lab')).map((i) => [i.udi, i.licenses.rms]))
    for (const [udi, granted] of authorizedRms) assert.is(holdings.get(udi), granted, `${udi} keeps the licenses its reply granted`)
  } finally {
    await store.close()
  }

  // the restarted server serves the instances it had, authenticated by the certificates they got
  const ping = await agentCall<{status: string}>({...options, target: {url: server.url}}, acknowledged[0]!, {method: 'ping'})
  assert.is(ping.status, 'ok')
})

test.run()
