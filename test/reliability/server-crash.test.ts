import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {call, TransportError, type ClientOptions} from '../../src/licensing/client.js'
import {formatUdi} from '../../src/licensing/protocol.js'
import {instances, SERVER_FILES} from '../../src/server/admin.js'
import {openStore} from '../../src/server/store.js'
import {makeAgents, makeServer, ownTempDir, registerRequest, startServer, type Agent, type ServerProcess} from '../e2e/license-server-helpers.js'

// kill -9 of the server while 50 agents register and report: after a restart, every
// registration (and authorization) that got a success reply is there, and the pool's
// counters still match the allocations. Bounded: the load stops at the kill.

const WORKERS = 50
let temp: ReturnType<typeof ownTempDir>
let SERVER: ReturnType<typeof makeServer>
let server: ServerProcess | undefined
let workers: Agent[]

test.before(async () => {
  temp = ownTempDir('xway-ls-crash-')
  SERVER = makeServer(join(temp.path, 'server'), {rms: 40})
  ;[server, workers] = await Promise.all([startServer(SERVER.dir), makeAgents(WORKERS, 'K', 10)])
})

test.after(async () => {
  await server?.stop('SIGKILL')
  temp?.remove()
})

test('kill -9 under load, restart: every registration that got a success reply is still there', async () => {
  const options: ClientOptions = {target: {url: server!.url}, trustAnchors: [SERVER.ca], timeoutMs: 10_000}
  const acknowledged: string[] = []
  const authorizedRms = new Map<string, number>()
  let failures = 0
  let stop = false
  let killAt = 0
  const deadline = Date.now() + 20_000

  const work = workers.map(async (worker, w) => {
    for (let n = 0; !stop && Date.now() < deadline; n++) {
      const serial = `K${w.toString().padStart(2, '0')}${n.toString().padStart(5, '0')}`
      const agent: Agent = {...worker, serial, udi: formatUdi('EXPWY-VE-M-K9', serial), signer: {udi: formatUdi('EXPWY-VE-M-K9', serial), key: worker.key}}
      try {
        await call(options, registerRequest(agent, SERVER.token), agent.signer)
        acknowledged.push(agent.udi)
        if (n % 3 === 0) {
          const reply = await call<{status: string; licenses: Array<{type: string; granted: number}>}>(options, {method: 'authorize', params: {usage: {rms: 1}}}, agent.signer)
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
  const stored = new Set(instances(SERVER.dir, {virtualAccount: 'lab'}).instances.map((i) => i.udi))
  const lost = acknowledged.filter((udi) => !stored.has(udi))
  assert.equal(lost, [], `${lost.length} acknowledged registrations lost of ${acknowledged.length}`)

  const store = openStore(join(SERVER.dir, SERVER_FILES.db))
  try {
    const consistency = store.consistency('lab')
    assert.ok(consistency.ok, consistency.problems.join('; '))
    const rms = store.pool('lab').licenses[0]!
    assert.ok(rms.inUse <= rms.owned)
    const holdings = new Map(store.instances('lab').map((i) => [i.udi, i.licenses.rms]))
    for (const [udi, granted] of authorizedRms) assert.is(holdings.get(udi), granted, `${udi} keeps the licenses its reply granted`)
  } finally {
    store.close()
  }

  // the restarted server serves the instances it had
  const survivor = acknowledged[0]!
  const key = workers[Number(survivor.slice(-7, -5))]!.key
  const ping = await call<{status: string}>({...options, target: {url: server.url}}, {method: 'ping'}, {udi: survivor, key})
  assert.is(ping.status, 'ok')
})

test.run()
