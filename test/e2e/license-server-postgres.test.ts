import {cpSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {TransportError, type ClientOptions} from '../../src/licensing/client.js'
import {makeConfirmationCode, makeRequestCode, makeReturnCode} from '../../src/licensing/codes.js'
import {migrate, MIGRATIONS, SCHEMA_VERSION} from '../../src/server/migrations.js'
import {PostgresDatabase} from '../../src/server/postgres.js'
import {makeUnit, xway, xwayJson, type RunResult} from '../support/run.js'
import {sharedPostgres, type PostgresServer} from '../support/postgres.js'
import {
  authorize, makeAgents, ownTempDir, register, startServer, type Agent, type ServerProcess,
} from './license-server-helpers.js'

// The license server with its state in PostgreSQL, through the CLI: init --database, every
// admin command, the password never written to the folder nor printed, two copies of the
// folder serving one CSSM, `start` migrating an older database, and a database that goes
// away (503, agents Registration Pending) and comes back.

const postgres = sharedPostgres()
let temp: ReturnType<typeof ownTempDir>
let pg: PostgresServer
let DIR: string
let URL_: string
const outputs: string[] = []
const servers: ServerProcess[] = []

function run(args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  const r = xwayJson(args, {env})
  outputs.push(r.stdout, r.stderr)
  return r
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ok(args: string[], env: NodeJS.ProcessEnv = {}): any {
  const r = run(args, env)
  assert.is(r.code, 0, `${args.slice(0, 3).join(' ')}: ${r.stdout}${r.stderr}`)
  return r.json
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesBelow(path) : [path]
  })
}

async function serve(dir: string): Promise<ServerProcess> {
  const s = await startServer(dir)
  servers.push(s)
  return s
}

test.before(async () => {
  temp = ownTempDir('xway-ls-pg-')
  pg = await postgres.acquire()
  URL_ = await pg.createDatabase('licensing')
  DIR = join(temp.path, 'server')
})

test.after(async () => {
  for (const s of servers) await s.stop('SIGKILL')
  await postgres.release()
  temp?.remove()
})

test('init --database keeps the state in PostgreSQL; a URL with a password is refused without repeating it', () => {
  const withPassword = run(['license-server', 'init', join(temp.path, 'refused'), '--database', URL_.replace('xway_test@', 'xway_test:Hunter2-in-url@')])
  assert.is(withPassword.code, 4)
  assert.match(withPassword.json.error.message, /carries a password/)
  assert.not.match(withPassword.stdout + withPassword.stderr, /Hunter2-in-url/)
  assert.not.ok(readdirSync(temp.path).includes('refused'), 'a refused init leaves no folder')

  const init = ok(['license-server', 'init', DIR, '--database', URL_])
  assert.equal(init, {dir: DIR, caPath: join(DIR, 'ca.pem')})
  const config = JSON.parse(readFileSync(join(DIR, 'server.json'), 'utf8'))
  assert.equal(config.database, {kind: 'postgres', url: URL_})
  assert.not.ok(readdirSync(DIR).includes('server.db'), 'no SQLite file')
  // a second init on the same database would give it a second CA
  const again = run(['license-server', 'init', join(temp.path, 'second'), '--database', URL_])
  assert.is(again.code, 4)
  assert.match(again.json.error.message, /already holds a license server/)
})

test('every admin command works on PostgreSQL', () => {
  ok(['license-server', 'account', 'create', DIR, '--name', 'Acme', '--virtual-account', 'lab'])
  assert.is(ok(['license-server', 'licenses', 'add', DIR, '--virtual-account', 'lab', '--type', 'rms', '--count', '10']).owned, 10)
  ok(['license-server', 'licenses', 'add', DIR, '--virtual-account', 'lab', '--type', 'room', '--count', '4'])
  const token = ok(['license-server', 'token', 'create', DIR, '--virtual-account', 'lab', '--uses', '5'])
  assert.match(token.token, /^[A-Za-z0-9]{64}$/)
  const code = makeRequestCode('EXPWY-VE-M-K9', 'PG000001', 'A6rZG7jGd')
  const udi = 'PID:EXPWY-VE-M-K9,SN:PG000001'
  const first = ok(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'lab', '--request-code', code, '--license', 'rms=3'])
  const update = ok(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'lab', '--request-code', code, '--license', 'rms=4'])
  assert.ok(update.timestamp > first.timestamp)
  let rms = ok(['license-server', 'pool', DIR, '--virtual-account', 'lab']).licenses[0]
  assert.equal([rms.reserved, rms.inTransit, rms.available], [3, 1, 6])
  ok(['license-server', 'reservation', 'confirm', DIR, '--code', makeConfirmationCode(udi, update.timestamp)])
  assert.equal(ok(['license-server', 'instances', DIR]).instances.map((i: {udi: string; status: string}) => [i.udi, i.status]), [[udi, 'reserved']])
  const removed = ok(['license-server', 'instances', 'remove', DIR, udi, '--return-code', makeReturnCode(udi, update.timestamp)])
  assert.is(removed.released.rms, 4)
  rms = ok(['license-server', 'pool', DIR, '--virtual-account', 'lab']).licenses[0]
  assert.equal([rms.reserved, rms.inTransit, rms.available], [0, 0, 10])
  // the human output of the same commands
  for (const args of [['pool', DIR, '--virtual-account', 'lab'], ['instances', DIR]]) {
    const r = xway(['license-server', ...args])
    outputs.push(r.stdout, r.stderr)
    assert.is(r.code, 0, r.stdout + r.stderr)
  }
})

test('the password comes from PGPASSWORD or a PGPASSFILE; a wrong one fails without being printed', () => {
  const passfile = join(temp.path, 'pgpass')
  writeFileSync(passfile, `127.0.0.1:${pg.port}:*:${pg.user}:${pg.password}\n`, {mode: 0o600})
  assert.is(ok(['license-server', 'pool', DIR, '--virtual-account', 'lab'], {PGPASSWORD: undefined, PGPASSFILE: passfile}).virtualAccount, 'lab')
  const wrong = run(['license-server', 'pool', DIR, '--virtual-account', 'lab'], {PGPASSWORD: 'Wrong-Pa55word-xyz', PGPASSFILE: join(temp.path, 'none')})
  assert.is(wrong.code, 1)
  assert.match(wrong.json.error.message, /refused the login/)
  assert.not.match(wrong.stdout + wrong.stderr, /Wrong-Pa55word-xyz/)
})

test('two copies of the folder on two ports, one database: one CSSM', async () => {
  const copy = join(temp.path, 'server-copy')
  cpSync(DIR, copy, {recursive: true})
  const [a, b] = [await serve(DIR), await serve(copy)]
  assert.is.not(a.port, b.port)
  const ca = readFileSync(join(DIR, 'ca.pem'), 'utf8')
  const token = ok(['license-server', 'token', 'create', copy, '--virtual-account', 'lab']).token as string
  const [agent] = await makeAgents(1, 'C') as [Agent]
  const viaA: ClientOptions = {target: {url: a.url}, trustAnchors: [ca], timeoutMs: 10_000}
  const viaB: ClientOptions = {target: {url: b.url}, trustAnchors: [ca], timeoutMs: 10_000}
  await register(viaA, agent, token)
  // registered through one, authorized through the other with the certificate the first issued
  const reply = await authorize(viaB, agent, {rms: 2, room: 1})
  assert.is(reply.status, 'authorized')
  assert.equal(ok(['license-server', 'instances', copy]).instances.map((i: {udi: string}) => i.udi), [agent.udi])
  assert.equal(ok(['license-server', 'pool', DIR, '--virtual-account', 'lab']).licenses.map((l: {inUse: number}) => l.inUse), [2, 1, 0])
  await a.stop()
  await b.stop()
})

test('start applies the migrations an older database lacks; other commands refuse it until then', async () => {
  const oldUrl = await pg.createDatabase('older')
  const db = new PostgresDatabase(oldUrl)
  try {
    await migrate(db, 1)
    await db.transaction(async (q) => {
      await q.run(`INSERT INTO smart_accounts (name, created_at) VALUES ('Old Corp', '2025-01-01T00:00:00.000Z')`)
      await q.run(`INSERT INTO virtual_accounts (name, smart_account, created_at) VALUES ('old', 'Old Corp', '2025-01-01T00:00:00.000Z')`)
      for (const type of ['rms', 'room', 'desktop']) await q.run(`INSERT INTO licenses (va, type, owned) VALUES ('old', ?, 5)`, [type])
    })
  } finally {
    await db.close()
  }
  const older = join(temp.path, 'server-older')
  cpSync(DIR, older, {recursive: true})
  const config = JSON.parse(readFileSync(join(older, 'server.json'), 'utf8'))
  writeFileSync(join(older, 'server.json'), JSON.stringify({...config, database: {kind: 'postgres', url: oldUrl}}))
  const refused = run(['license-server', 'pool', older, '--virtual-account', 'old'])
  assert.is(refused.code, 4)
  assert.match(refused.json.error.message, new RegExp(`schema version 1; this xway needs version ${SCHEMA_VERSION}`))
  assert.match(refused.json.error.actions.join(' '), /license-server start/)
  const s = await serve(older)
  await s.stop()
  assert.equal(ok(['license-server', 'pool', older, '--virtual-account', 'old']).licenses.map((l: {owned: number}) => l.owned), [5, 5, 5])
  const versions = await pg.query<{version: number}>('older', 'SELECT version FROM schema_migrations ORDER BY version')
  assert.equal(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version))
})

test('database stopped: 503, a registering unit is Registration Pending; database back: the server serves again', async () => {
  const s = await serve(DIR)
  const ca = join(DIR, 'ca.pem')
  const profile = join(temp.path, 'unit.yaml')
  writeFileSync(profile, `software: X14.2.0
type: expressway-c
network: { hostname: exp-pg, domain: lab.example, dns: [192.0.2.53], lan1: { address: 192.0.2.21/24, gateway: 192.0.2.1 } }
licensing:
  transport: { mode: on-prem, url: "${s.url}" }
  trustAnchors: [${JSON.stringify(ca)}]
usage: { calls: 1, desktop: 0, room: 0, webrtc: false }
`)
  const unit = makeUnit(temp.path, {profile, name: 'unit', seed: 'pg-outage'})
  const token = ok(['license-server', 'token', 'create', DIR, '--virtual-account', 'lab']).token as string
  const [agent] = await makeAgents(1, 'D') as [Agent]
  const options: ClientOptions = {target: {url: s.url}, trustAnchors: [readFileSync(ca, 'utf8')], timeoutMs: 15_000}
  await register(options, agent, token)

  await pg.stop()
  try {
    await authorize(options, agent, {rms: 1})
    assert.unreachable('the server answered without its database')
  } catch (err) {
    assert.instance(err, TransportError)
    assert.is((err as TransportError).reason, 'unavailable')
    assert.match((err as Error).message, /HTTP 503/)
  }
  const T0 = '2026-03-01T10:00:00Z'
  const pending = xwayJson(['licensing', 'register', unit, '--token', token], {env: {XWAY_NOW: T0}})
  outputs.push(pending.stdout, pending.stderr)
  assert.is(pending.code, 6, pending.stdout)
  const status = xwayJson(['licensing', 'status', unit], {env: {XWAY_NOW: T0}}).json
  assert.is(status.registration.status, 'Unregistered: Registration Pending')
  assert.is(status.registration.nextAttemptAt, '2026-03-01T10:15:00.000Z')

  await pg.start()
  // the same server process, without a restart, serves again
  assert.is((await authorize(options, agent, {rms: 1})).status, 'authorized')
  const synced = xwayJson(['licensing', 'sync', unit], {env: {XWAY_NOW: '2026-03-01T10:16:00Z'}})
  outputs.push(synced.stdout, synced.stderr)
  assert.is(synced.code, 0, synced.stdout + synced.stderr)
  assert.is(synced.json.licensing.registration.status, 'Registered')
  assert.is(synced.json.licensing.authorization.status, 'Authorized')
  const stopped = await s.stop()
  assert.equal(stopped, {code: 0, signal: null})
  outputs.push(s.stdout(), s.stderr())
})

test('the password is in no file of the folder and in no output', () => {
  assert.ok(outputs.length > 20)
  for (const text of outputs) assert.not.ok(text.includes(pg.password), 'an output carries the password')
  for (const dir of [DIR, join(temp.path, 'server-copy'), join(temp.path, 'server-older')]) {
    for (const file of filesBelow(dir)) assert.not.ok(readFileSync(file).includes(pg.password), `${file} carries the password`)
  }
})

test.run()
