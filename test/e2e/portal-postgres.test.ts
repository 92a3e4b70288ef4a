// The portal on PostgreSQL in a real headless browser (Debian's chromium driven by
// playwright-core), as portal.test.ts does it on SQLite: the state in a private PostgreSQL
// server (test/support/postgres.ts), served by two license servers from two copies of the
// folder, one in this process (A) and one `xway license-server start` process (B). A user
// added by the CLI logs in on A; the session, kept in the database only, opens B's pages and
// its forms; the Licenses page shows the pool; a token made by clicking is the admin
// functions' (and registers an instance); an instance registered over the agent protocol
// shows and is removed by clicking; the Event Log shows what happened; logging out on B
// ends the session on A. Every wait is bounded (playwright's at 10 s, the servers' starts).
import {cpSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {Browser, BrowserContext, Page} from 'playwright-core'
import type {ClientOptions} from '../../src/licensing/client.js'
import {LICENSE_TYPE_NAMES} from '../../src/licensing/license-types.js'
import {events, instances, pool, tokenList} from '../../src/server/admin.js'
import {startLicenseServer, type RunningServer} from '../../src/server/http.js'
import {sharedPostgres, type PostgresServer} from '../support/postgres.js'
import {xwayJson} from '../support/run.js'
import {
  authorize, makeAgents, makeServer, ownTempDir, register, startServer, type Agent, type ServerProcess, type TestServer,
} from './license-server-helpers.js'
import {createTokenByClicking, launchChromium, logIn} from './portal-helpers.js'

const USER = 'admin'
const PASSWORD = 'correct horse battery'
const WAIT_MS = 10_000

const postgres = sharedPostgres()
let temp: ReturnType<typeof ownTempDir>
let pg: PostgresServer
let SERVER: TestServer
let COPY: string
let a: RunningServer
let b: ServerProcess
let baseA: string
let baseB: string
let agents: Agent[]
let browser: Browser
let contextA: BrowserContext
let contextB: BrowserContext
let pageA: Page
let pageB: Page
let portalToken: {id: string; token: string}

const DB = 'portal'

function bounded(context: BrowserContext): void {
  context.setDefaultTimeout(WAIT_MS)
  context.setDefaultNavigationTimeout(WAIT_MS)
}

async function sessionRows(): Promise<Array<{user_name: string}>> {
  return pg.query<{user_name: string}>(DB, 'SELECT user_name FROM portal_sessions')
}

/** The cells of the Licenses page, row by row: [type, Purchased, In Use, Reserved, In Transit, Available to Use, Shortage]. */
async function licensesTable(p: Page): Promise<Array<[string, ...number[]]>> {
  const rows = await p.$$eval('tbody tr[data-type]', (trs) => trs.map((tr) => [tr.getAttribute('data-type')!, ...Array.from(tr.querySelectorAll('td')).map((td) => td.textContent!.trim())]))
  return rows.map(([type, name, ...numbers]) => {
    assert.is(name, LICENSE_TYPE_NAMES[type as keyof typeof LICENSE_TYPE_NAMES], `name of ${type}`)
    return [type!, ...numbers.map(Number)] as [string, ...number[]]
  })
}

async function poolTable(): Promise<Array<[string, ...number[]]>> {
  return (await pool(SERVER.dir, {virtualAccount: 'lab'})).licenses.map((l) => [l.type, l.owned, l.inUse, l.reserved, l.inTransit, l.available, l.shortage] as [string, ...number[]])
}

test.before(async () => {
  temp = ownTempDir('xway-portal-pg-')
  pg = await postgres.acquire()
  const url = await pg.createDatabase(DB)
  SERVER = await makeServer(join(temp.path, 'server'), {rms: 10, room: 5, desktop: 3}, 'lab', url)
  const passwordFile = join(temp.path, 'password')
  writeFileSync(passwordFile, `${PASSWORD}\n`, {mode: 0o600})
  // the CLI, as a user runs it (PGPASSWORD in the environment, set by sharedPostgres)
  const added = xwayJson(['license-server', 'user', 'add', SERVER.dir, '--name', USER, '--password-file', passwordFile])
  assert.is(added.code, 0, added.stdout + added.stderr)
  COPY = join(temp.path, 'server-copy')
  cpSync(SERVER.dir, COPY, {recursive: true})
  ;[a, b, agents] = await Promise.all([
    startLicenseServer(SERVER.dir, {host: '127.0.0.1', port: 0}),
    startServer(COPY, {timeoutMs: 20_000}),
    makeAgents(2, 'P'),
  ])
  baseA = `https://127.0.0.1:${a.port}`
  baseB = `https://127.0.0.1:${b.port}`
  browser = await launchChromium()
  contextA = await browser.newContext({ignoreHTTPSErrors: true})
  contextB = await browser.newContext({ignoreHTTPSErrors: true})
  bounded(contextA)
  bounded(contextB)
  pageA = await contextA.newPage()
  pageB = await contextB.newPage()
})

test.after(async () => {
  await browser?.close()
  await a?.close(1000)
  await b?.stop('SIGTERM', 5000)
  await postgres.release()
  temp?.remove()
})

const via = (url: string): ClientOptions => ({target: {url}, trustAnchors: [SERVER.ca], timeoutMs: WAIT_MS})

test('the state is in PostgreSQL: the user added by the CLI is a row there; the two servers are two processes on two ports', async () => {
  assert.equal((await pg.query<{name: string}>(DB, 'SELECT name FROM portal_users')).map((r) => r.name), [USER])
  assert.is.not(a.port, b.port)
  assert.ok(b.child.pid !== undefined && b.child.pid !== process.pid)
})

test('log in on A: lands on the General page as the user; the session is a row of the database; a wrong password does not log in', async () => {
  await logIn(pageA, baseA, USER, 'not the password')
  assert.is(new URL(pageA.url()).pathname, '/portal/login')
  assert.ok((await pageA.textContent('body'))!.includes('Wrong user name or password.'))
  assert.equal(await sessionRows(), [])

  await logIn(pageA, baseA, USER, PASSWORD)
  assert.is(new URL(pageA.url()).pathname, '/portal/va/lab/general')
  assert.is((await pageA.textContent('header .user'))!.trim(), USER)
  assert.ok((await pageA.textContent('body'))!.includes('New Token'))
  assert.equal(await sessionRows(), [{user_name: USER}])
})

test('the session made by A opens B (another process, the folder\'s copy): sessions live in the database', async () => {
  // without the cookie, B sends to its login page
  await pageB.goto(`${baseB}/portal/va/lab/licenses`)
  assert.is(new URL(pageB.url()).pathname, '/portal/login')
  const cookie = (await contextA.cookies()).find((c) => c.name === 'xway_portal')
  assert.ok(cookie, 'session cookie from A')
  await contextB.addCookies([cookie!])
  for (const tab of ['general', 'licenses', 'instances', 'events']) {
    const response = await pageB.goto(`${baseB}/portal/va/lab/${tab}`)
    assert.is(response!.status(), 200, tab)
    assert.is(new URL(pageB.url()).pathname, `/portal/va/lab/${tab}`, tab)
    assert.is((await pageB.textContent('header .user'))!.trim(), USER, tab)
  }
  assert.is((await sessionRows()).length, 1, 'B made no session of its own')
})

test('an instance registered over the agent protocol (through A) uses licenses: the Licenses page (on B) shows the pool\'s numbers', async () => {
  await register(via(a.url), agents[0]!, SERVER.token, {hostname: 'exp-portal-pg'})
  assert.is((await authorize(via(a.url), agents[0]!, {rms: 2, room: 1})).status, 'authorized')
  await pageB.goto(`${baseB}/portal/va/lab/licenses`)
  const shown = await licensesTable(pageB)
  assert.equal(shown, await poolTable())
  // purchased 10/5/3; in use 2/1/0; available what is left
  assert.equal(shown, [['rms', 10, 2, 0, 0, 8, 0], ['room', 5, 1, 0, 0, 4, 0], ['desktop', 3, 0, 0, 0, 3, 0]])
})

test('a token made by clicking New Token on B is in tokenList, shows on A, and registers an instance (its use counted)', async () => {
  await pageB.goto(`${baseB}/portal/va/lab/general`)
  const shownToken = await createTokenByClicking(pageB, {description: 'made in the portal on PostgreSQL', days: 7, uses: 2})
  assert.match(shownToken, /^[A-Za-z0-9]{64}$/)
  const {tokens} = await tokenList(SERVER.dir, {virtualAccount: 'lab'})
  const made = tokens.find((t) => t.description === 'made in the portal on PostgreSQL')
  assert.ok(made, JSON.stringify(tokens))
  assert.is(made!.exportControlled, false)
  assert.is(made!.usesLeft, 2)
  assert.is(made!.revokedAt, null)
  portalToken = {id: made!.id, token: shownToken}
  // the same token through the CLI, on the copy of the folder
  const listed = xwayJson(['license-server', 'token', 'list', COPY, '--virtual-account', 'lab'])
  assert.is(listed.code, 0, listed.stdout + listed.stderr)
  assert.ok(listed.json.tokens.some((t: {id: string}) => t.id === made!.id), listed.stdout)
  await pageA.goto(`${baseA}/portal/va/lab/general`)
  assert.ok((await pageA.textContent(`tr[data-token="${made!.id}"]`))!.includes('made in the portal on PostgreSQL'))
  // what the portal showed is the token itself: an agent registers with it
  await register(via(a.url), agents[1]!, portalToken.token)
  const after = (await tokenList(SERVER.dir, {virtualAccount: 'lab'})).tokens.find((t) => t.id === made!.id)!
  assert.is(after.usesLeft, 1)
})

test('the registered instances show on Product Instances; Remove by clicking (on A) removes one for the admin functions, its licenses back in the pool', async () => {
  const [first, second] = agents as [Agent, Agent]
  await pageA.goto(`${baseA}/portal/va/lab/instances`)
  const udis = await pageA.$$eval('tr[data-udi]', (rows) => rows.map((r) => r.getAttribute('data-udi')!))
  assert.equal([...udis].sort(), [first.udi, second.udi].sort())
  assert.ok((await pageA.textContent(`tr[data-udi="${first.udi}"]`))!.includes('exp-portal-pg'))
  await Promise.all([pageA.waitForNavigation(), pageA.click(`tr[data-udi="${first.udi}"] button:has-text("Remove")`)])
  assert.ok((await pageA.textContent('body'))!.includes('Product instance removed.'))
  assert.equal(await pageA.$$eval('tr[data-udi]', (rows) => rows.map((r) => r.getAttribute('data-udi')!)), [second.udi])
  assert.equal((await instances(SERVER.dir, {virtualAccount: 'lab'})).instances.map((i) => i.udi), [second.udi])
  const cli = xwayJson(['license-server', 'instances', COPY, '--json'])
  assert.is(cli.code, 0, cli.stdout + cli.stderr)
  assert.equal(cli.json.instances.map((i: {udi: string}) => i.udi), [second.udi])
  // B shows the same, the licenses released
  await pageB.goto(`${baseB}/portal/va/lab/instances`)
  assert.equal(await pageB.$$eval('tr[data-udi]', (rows) => rows.map((r) => r.getAttribute('data-udi')!)), [second.udi])
  await pageB.goto(`${baseB}/portal/va/lab/licenses`)
  assert.equal(await licensesTable(pageB), [['rms', 10, 0, 0, 0, 10, 0], ['room', 5, 0, 0, 0, 5, 0], ['desktop', 3, 0, 0, 0, 3, 0]])
})

test('the Event Log shows the events, newest first, as the admin functions list them', async () => {
  const log = await events(SERVER.dir, {virtualAccount: 'lab', limit: 50})
  await pageB.goto(`${baseB}/portal/va/lab/events`)
  const rows = await pageB.$$eval('tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent!.trim())))
  assert.is(rows.length, log.total, JSON.stringify(rows))
  assert.equal(rows.map((r) => r[2]), log.events.map((e) => e.udi ?? ''))
  const messages = rows.map((r) => r[0])
  for (const m of ['Virtual account created', 'Licenses added', 'Token created', 'Product instance registered', 'Product instance removed']) {
    assert.ok(messages.includes(m), `${m}: ${JSON.stringify(messages)}`)
  }
  assert.is(messages.filter((m) => m === 'Token created').length, 2, 'the seed\'s token and the portal\'s')
  assert.is(messages.filter((m) => m === 'Product instance registered').length, 2)
  // newest first: the removal (through A) heads the log, with its UDI
  assert.equal(rows[0]!.slice(0, 1).concat(rows[0]![2]!), ['Product instance removed', agents[0]!.udi])
})

test('log out on B ends the session everywhere: A sends the old cookie to its login page, the row is gone', async () => {
  await pageB.goto(`${baseB}/portal/va/lab/general`)
  await Promise.all([pageB.waitForNavigation(), pageB.click('button:has-text("Log Out")')])
  assert.is(new URL(pageB.url()).pathname, '/portal/login')
  assert.equal(await sessionRows(), [])
  // contextA still holds the cookie (B cleared it in contextB only)
  assert.ok((await contextA.cookies()).some((c) => c.name === 'xway_portal' && c.value !== ''))
  await pageA.goto(`${baseA}/portal/va/lab/general`)
  assert.is(new URL(pageA.url()).pathname, '/portal/login')
})

test.run()
