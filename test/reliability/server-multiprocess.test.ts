import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {accountCreate, databaseOf, init, licensesAdd, tokenCreate} from '../../src/server/admin.js'
import {openStore, type DatabaseConfig} from '../../src/server/store.js'
import {ROOT} from '../support/run.js'
import {BACKENDS, sharedPostgres, type Backend, type PostgresServer} from '../support/postgres.js'
import {ownTempDir} from '../e2e/license-server-helpers.js'

// Several processes write the same database at once (as the admin CLI and the server's
// workers do): each registers instances and reports random usage, one of them adds licenses.
// SQLite's IMMEDIATE transactions and PostgreSQL's row locks serialize them; the counters
// never go negative nor above owned, and match the allocations at the end.

const PROCESSES = 4
const OPS = 300

const WORKER = `
const {openStore} = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/server/store.ts')).href)})
const {tokenHash} = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/server/admin.ts')).href)})
const [config, token, id, ops, addLicenses, startAt] = process.argv.slice(1)
const store = await openStore(JSON.parse(config))
// a common start line, so that the processes really write at the same time
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())))
const udis = []
let seed = Number(id) * 7919 + 1
const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
const publicKey = 'k' + id
for (let i = 0; i < 6; i++) {
  const udi = 'PID:EXPWY-VE-M-K9,SN:P' + id + 'X' + i
  await store.register({tokenHash: tokenHash(token), udi, publicKey, certSerial: '01', product: {pid: 'EXPWY-VE-M-K9', serial: 'P' + id + 'X' + i},
    hostname: null, ip: null, force: true, at: new Date()})
  udis.push(udi)
}
const outcomes = {authorized: 0, 'out-of-compliance': 0, 'no-licenses-in-use': 0}
for (let i = 0; i < Number(ops); i++) {
  const r = await store.authorize({udi: udis[rand(udis.length)], publicKey}, {rms: rand(8), room: rand(3), desktop: 0}, new Date())
  outcomes[r.status]++
  const line = (await store.pool('lab')).licenses[0]
  if (line.inUse > line.owned || line.inUse < 0) { console.log('OVER ' + JSON.stringify(line)); process.exit(3) }
  if (addLicenses === '1' && i % 20 === 0) await store.addLicenses('lab', 'rms', 1, new Date())
}
await store.close()
console.log(JSON.stringify(outcomes))
`

const postgres = sharedPostgres()

function worker(config: DatabaseConfig, token: string, id: number, addLicenses: boolean, startAt: number): Promise<{code: number | null; out: string}> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', WORKER, JSON.stringify(config), token, String(id), String(OPS), addLicenses ? '1' : '0', String(startAt)], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, out})
    })
  })
}

for (const backend of BACKENDS) processes(backend)

function processes(backend: Backend): void {
  const test = suite(`one database, several processes (${backend})`)
  let temp: ReturnType<typeof ownTempDir>
  let dir: string
  let pg: PostgresServer | null = null

  test.before(async () => {
    temp = ownTempDir(`xway-ls-multi-${backend}-`)
    dir = join(temp.path, 'server')
    if (backend === 'postgres') pg = await postgres.acquire()
    await init(dir, {database: pg ? await pg.createDatabase() : undefined})
    await accountCreate(dir, {name: 'Acme', virtualAccount: 'lab'})
    await licensesAdd(dir, {virtualAccount: 'lab', type: 'rms', count: 30})
    await licensesAdd(dir, {virtualAccount: 'lab', type: 'room', count: 10})
  })

  test.after(async () => {
    if (pg) await postgres.release()
    temp?.remove()
  })

  test(`${PROCESSES} processes allocating from one database at once: never over-allocated, counters match`, async () => {
    const {token} = await tokenCreate(dir, {virtualAccount: 'lab'})
    const config = databaseOf(dir)
    const startAt = Date.now() + 3000
    const results = await Promise.all(Array.from({length: PROCESSES}, (_, i) => worker(config, token, i, i === 0, startAt)))
    for (const r of results) assert.is(r.code, 0, r.out)
    const outcomes = results.map((r) => JSON.parse(r.out.trim().split('\n').at(-1)!) as Record<string, number>)
    assert.ok(outcomes.some((o) => o['out-of-compliance']! > 0), 'the pool ran short at times')
    assert.ok(outcomes.some((o) => o.authorized! > 0))
    const store = await openStore(config)
    try {
      const consistency = await store.consistency('lab')
      assert.ok(consistency.ok, consistency.problems.join('; '))
      const rms = (await store.pool('lab')).licenses[0]!
      assert.is(rms.owned, 30 + OPS / 20)
      assert.ok(rms.inUse <= rms.owned)
      assert.is((await store.instances('lab')).length, PROCESSES * 6)
    } finally {
      await store.close()
    }
  })

  test.run()
}
