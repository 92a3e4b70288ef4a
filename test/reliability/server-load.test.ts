import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {seededRandom} from '../../src/crypto/random.js'
import type {ClientOptions} from '../../src/licensing/client.js'
import {LICENSE_TYPES} from '../../src/licensing/license-types.js'
import {databaseOf} from '../../src/server/admin.js'
import {openStore} from '../../src/server/store.js'
import {xwayAsync, xwayJson} from '../support/run.js'
import {
  authorize, makeAgents, makeServer, ownTempDir, pool, register, startServer, type Agent, type ServerProcess, type TestServer,
} from '../e2e/license-server-helpers.js'

// 50 agents register and report usage at once against a pool too small for all of them,
// while admin commands (other processes) write to the same database. Nothing may be given
// twice: per type, an instance has what it asked or keeps what it held and is short, and the
// pool's counters are exactly the sums of what the replies said.

const SEED = process.env.XWAY_TEST_SEED ?? 'server-load-1'
const AGENTS = 50
const OWNED = {rms: 60, room: 20}
let temp: ReturnType<typeof ownTempDir>
let SERVER: TestServer
let server: ServerProcess
let agents: Agent[]

test.before(async () => {
  temp = ownTempDir('xway-ls-load-')
  SERVER = await makeServer(join(temp.path, 'server'), OWNED)
  ;[server, agents] = await Promise.all([startServer(SERVER.dir), makeAgents(AGENTS, 'L', 10)])
})

test.after(async () => {
  await server?.stop('SIGKILL')
  temp?.remove()
})

type Reply = Awaited<ReturnType<typeof authorize>>

test(`50 concurrent agents against a pool too small for all: no over-allocation, granted or short per type, pool consistent (seed ${SEED})`, async () => {
  const random = seededRandom(SEED, 'usage')
  const draw = (max: number): number => random.bytes(1)[0]! % (max + 1)
  const options: ClientOptions = {target: {url: server.url}, trustAnchors: [SERVER.ca], timeoutMs: 30_000}
  const rounds = [0, 1].map(() => agents.map(() => ({rms: 1 + draw(5), room: draw(2)})))
  const last: Array<Reply | undefined> = new Array(AGENTS)
  const held = agents.map(() => ({rms: 0, room: 0, desktop: 0}))

  // admin writes from other processes during the load
  const admin = Promise.all([1, 2, 3].map(() => xwayAsync(['license-server', 'licenses', 'add', SERVER.dir, '--virtual-account', 'lab', '--type', 'desktop', '--count', '1', '--json'], {timeoutMs: 30_000})))

  const results = await pool(AGENTS, AGENTS, async (i) => {
    const agent = agents[i]!
    const reg = await register(options, agent, SERVER.token)
    assert.is(reg.status, 'registered')
    for (const usage of [rounds[0]![i]!, rounds[1]![i]!]) {
      const reply = await authorize(options, agent, usage)
      const requested = Object.fromEntries(reply.licenses.map((l) => [l.type, l.requested]))
      assert.is(requested.rms, usage.rms)
      const granted = Object.fromEntries(reply.licenses.map((l) => [l.type, l.granted])) as typeof held[number]
      for (const l of reply.licenses) {
        if (l.status === 'out-of-compliance') {
          assert.ok(l.shortage > 0, 'a short type lacked something')
          assert.is(l.granted, held[i]![l.type], 'a short type keeps what it held')
        } else {
          assert.equal([l.granted, l.shortage], [l.requested, 0], 'a covered type has all it asked')
        }
      }
      assert.is(reply.status === 'out-of-compliance', reply.licenses.some((l) => l.status === 'out-of-compliance'), 'out of compliance when any type is')
      held[i] = granted
      last[i] = reply
    }
  })
  const failures = results.filter((r) => !r.ok)
  assert.is(failures.length, 0, failures.map((f) => String((f as {error: unknown}).error)).join('\n'))
  const adminResults = await admin
  assert.ok(adminResults.every((r) => r.code === 0), adminResults.map((r) => r.stdout + r.stderr).join('\n'))

  const p = xwayJson(['license-server', 'pool', SERVER.dir, '--virtual-account', 'lab']).json
  const line = (type: string) => p.licenses.find((l: {type: string}) => l.type === type)
  for (const type of LICENSE_TYPES) {
    const l = line(type)
    const granted = last.reduce((sum, r) => sum + r!.licenses.find((x) => x.type === type)!.granted, 0)
    const shortage = last.reduce((sum, r) => sum + r!.licenses.find((x) => x.type === type)!.shortage, 0)
    assert.is(l.inUse, granted, `${type}: inUse is the sum of what the replies granted`)
    assert.is(l.shortage, shortage, `${type}: shortage is the sum of what the replies lacked`)
    assert.ok(l.inUse <= l.owned, `${type}: inUse ${l.inUse} <= owned ${l.owned}`)
    assert.is(l.available, l.owned - l.inUse - l.reserved - l.inTransit - l.onPrem)
  }
  assert.is(line('desktop').owned, 3, 'the admin writes made during the load all landed')
  const statuses = last.map((r) => r!.status)
  assert.ok(statuses.includes('authorized') && statuses.includes('out-of-compliance'), `both outcomes happen: ${statuses.join(',')}`)
  assert.ok(line('rms').inUse > OWNED.rms - 6, 'the pool was used up to what reports could take')

  const store = await openStore(databaseOf(SERVER.dir))
  try {
    const consistency = await store.consistency('lab')
    assert.ok(consistency.ok, consistency.problems.join('; '))
    const listed = await store.instances('lab')
    assert.is(listed.length, AGENTS)
    const statusByUdi = new Map(listed.map((i) => [i.udi, i.status]))
    agents.forEach((a, i) => assert.is(statusByUdi.get(a.udi), last[i]!.status))
  } finally {
    await store.close()
  }
})

test.run()
