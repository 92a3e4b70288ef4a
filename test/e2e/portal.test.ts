// The portal in a real headless browser (Debian's chromium driven by playwright-core): login
// required everywhere, every page renders, a token and a reservation made by clicking, CLI
// changes visible on reload, hostile text shown as text, CSRF, cookie flags, slowed logins.
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import type {Browser, BrowserContext, Page} from 'playwright-core'
import {makeRequestCode} from '../../src/licensing/codes.js'
import {accountCreate, pakAdd, paks, tokenCreate, tokenList, userAdd} from '../../src/server/admin.js'
import {startLicenseServer, type RunningServer} from '../../src/server/http.js'
import {xwayJson} from '../support/run.js'
import {makeAgents, makeServer, ownTempDir, register, startServer, type TestServer} from './license-server-helpers.js'
import {createTokenByClicking, launchChromium, logIn as logInAt} from './portal-helpers.js'

const USER = 'admin'
const PASSWORD = 'correct horse battery'
const XSS_HOST = '<img src=x onerror="window.__xss=1">'
const XSS_DESCRIPTION = '<script>window.__xss=2</script>"quoted"'

let temp: ReturnType<typeof ownTempDir>
let SERVER: TestServer
let running: RunningServer
let browser: Browser
let context: BrowserContext
let page: Page
let base: string

test.before(async () => {
  temp = ownTempDir('xway-portal-')
  SERVER = await makeServer(join(temp.path, 'server'), {rms: 10, room: 5, desktop: 3})
  const passwordFile = join(temp.path, 'password')
  writeFileSync(passwordFile, `${PASSWORD}\n`, {mode: 0o600})
  const added = xwayJson(['license-server', 'user', 'add', SERVER.dir, '--name', USER, '--password-file', passwordFile])
  assert.is(added.code, 0, added.stdout + added.stderr)
  running = await startLicenseServer(SERVER.dir, {host: '127.0.0.1', port: 0})
  base = `https://127.0.0.1:${running.port}`
  // an instance whose hostname is HTML, registered over the agent protocol
  const [agent] = await makeAgents(1, 'X')
  await register({target: {url: running.url}, trustAnchors: [SERVER.ca], timeoutMs: 10_000}, agent!, SERVER.token, {hostname: XSS_HOST})
  browser = await launchChromium()
  context = await browser.newContext({ignoreHTTPSErrors: true, acceptDownloads: true})
  page = await context.newPage()
})

test.after(async () => {
  await browser?.close()
  await running?.close(1000)
  temp?.remove()
})

function logIn(p: Page, name = USER, password = PASSWORD): Promise<void> {
  return logInAt(p, base, name, password)
}

const TABS = ['general', 'licenses', 'instances', 'events', 'reservation', 'pak']

test('user add: no password without a file off a terminal (usage), a second user of the same name refused, a short password bad input', async () => {
  const piped = xwayJson(['license-server', 'user', 'add', SERVER.dir, '--name', 'nofile'])
  assert.is(piped.code, 2, piped.stdout + piped.stderr)
  const again = xwayJson(['license-server', 'user', 'add', SERVER.dir, '--name', USER, '--password-file', join(temp.path, 'password')])
  assert.is(again.code, 3, again.stdout)
  const short = join(temp.path, 'short')
  writeFileSync(short, 'abc\n')
  assert.is(xwayJson(['license-server', 'user', 'add', SERVER.dir, '--name', 'shorty', '--password-file', short]).code, 4)
})

test('every page needs a login: each redirects to the login page, a POST without a session is refused', async () => {
  for (const tab of ['', 'inventory', ...TABS.map((t) => `va/lab/${t}`)]) {
    const response = await page.goto(`${base}/portal/${tab}`)
    assert.is(new URL(page.url()).pathname, '/portal/login', tab)
    assert.is(response!.status(), 200)
    assert.ok(await page.isVisible('#password'))
  }
  const post = await context.request.post(`${base}/portal/va/lab/general/new`, {form: {description: 'x'}, maxRedirects: 0})
  assert.is(post.status(), 403)
})

test('log in: the session cookie is HttpOnly, Secure, SameSite=Strict, Path=/portal/; pages carry a strict CSP, no caching', async () => {
  await logIn(page)
  assert.match(page.url(), /\/portal\/va\/lab\/general$/)
  const cookie = (await context.cookies()).find((c) => c.name === 'xway_portal')
  assert.ok(cookie, 'session cookie')
  assert.equal({httpOnly: cookie!.httpOnly, secure: cookie!.secure, sameSite: cookie!.sameSite, path: cookie!.path}, {httpOnly: true, secure: true, sameSite: 'Strict', path: '/portal/'})
  const response = await page.goto(`${base}/portal/va/lab/licenses`)
  const headers = response!.headers()
  assert.match(headers['content-security-policy']!, /script-src 'self'/)
  assert.not.match(headers['content-security-policy']!, /unsafe-inline/)
  assert.is(headers['x-frame-options'], 'DENY')
  assert.is(headers['cache-control'], 'no-store')
})

test('every page renders, in the seed\'s words', async () => {
  const words: Record<string, string[]> = {
    general: ['New Token', 'Allow export-controlled functionality on the products registered with this token'],
    licenses: ['Available to Use', 'Purchased'],
    instances: ['Product Instances', 'Remove', 'Last Contact'],
    events: ['Event Log', 'Product instance registered'],
    reservation: ['Quantity to Reserve', 'Generate Authorization Code'],
    pak: ['PAK conversion'],
  }
  for (const tab of TABS) {
    const response = await page.goto(`${base}/portal/va/lab/${tab}`)
    assert.is(response!.status(), 200, tab)
    const text = await page.textContent('body')
    for (const w of words[tab]!) assert.ok(text!.includes(w), `${tab}: ${w}`)
    assert.ok(await page.isVisible('select#va'), `${tab}: Inventory selector`)
  }
})

test('a hostname and a token description holding HTML show as text, nothing runs', async () => {
  await page.goto(`${base}/portal/va/lab/instances`)
  assert.ok((await page.textContent('tbody'))!.includes(XSS_HOST))
  assert.is(await page.$$eval('tbody img', (imgs) => imgs.length), 0)
  await tokenCreate(SERVER.dir, {virtualAccount: 'lab', description: XSS_DESCRIPTION})
  await page.goto(`${base}/portal/va/lab/general`)
  assert.ok((await page.textContent('tbody'))!.includes(XSS_DESCRIPTION))
  assert.is(await page.evaluate(() => (window as unknown as {__xss?: number}).__xss), undefined)
})

test('a token made by clicking New Token is the CLI\'s (token list); a CLI revoke shows on reload; the export box is ticked by default', async () => {
  await page.goto(`${base}/portal/va/lab/general`)
  assert.ok(await page.isChecked('input[name=exportControlled]'))
  const shown = await createTokenByClicking(page, {description: 'made in the portal', days: 7, uses: 2})
  assert.match(shown, /^[A-Za-z0-9]{64}$/)
  const {tokens} = await tokenList(SERVER.dir, {virtualAccount: 'lab'})
  const made = tokens.find((t) => t.description === 'made in the portal')
  assert.ok(made)
  assert.is(made!.exportControlled, false)
  assert.is(made!.usesLeft, 2)
  const revoke = xwayJson(['license-server', 'token', 'revoke', SERVER.dir, made!.id])
  assert.is(revoke.code, 0, revoke.stdout + revoke.stderr)
  await page.goto(`${base}/portal/va/lab/general`)
  assert.ok((await page.textContent(`tr[data-token="${made!.id}"]`))!.includes('Revoked'))
})

test('a reservation made by clicking Generate Authorization Code; the pool shows it; downloaded as a file', async () => {
  const requestCode = makeRequestCode('EXPWY-VE-M-K9', '0P0R7A1', 'Q6rZG7jGd')
  await page.goto(`${base}/portal/va/lab/reservation`)
  await page.fill('#request-code', requestCode)
  await page.fill('input[name=qty-rms]', '4')
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Generate Authorization Code")')])
  const code = await page.inputValue('#authorization-code')
  assert.ok(code.length > 100, code)
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("Download as File")')])
  const file = join(temp.path, 'authorization.xml')
  await download.saveAs(file)
  assert.ok(existsSync(file))
  const pool = xwayJson(['license-server', 'pool', SERVER.dir, '--virtual-account', 'lab'])
  assert.is(pool.json.licenses.find((l: {type: string}) => l.type === 'rms').reserved + pool.json.licenses.find((l: {type: string}) => l.type === 'rms').inTransit, 4)
  await page.goto(`${base}/portal/va/lab/instances`)
  assert.ok((await page.textContent('tbody'))!.includes('PID:EXPWY-VE-M-K9,SN:0P0R7A1'))
})

test('a CLI change shows on the next page load: licenses added, an instance removed in the portal is gone for the CLI', async () => {
  const add = xwayJson(['license-server', 'licenses', 'add', SERVER.dir, '--virtual-account', 'lab', '--type', 'desktop', '--count', '40'])
  assert.is(add.code, 0)
  await page.goto(`${base}/portal/va/lab/licenses`)
  assert.ok((await page.textContent('tr[data-type="desktop"]'))!.includes('43'))
  await page.goto(`${base}/portal/va/lab/instances`)
  const registered = (await page.$$eval('tr[data-udi]', (rows) => rows.map((r) => r.getAttribute('data-udi')!))).find((u) => u.includes('SN:X'))!
  await Promise.all([page.waitForNavigation(), page.click(`tr[data-udi="${registered}"] button:has-text("Remove")`)])
  assert.ok((await page.textContent('body'))!.includes('Product instance removed.'))
  const list = xwayJson(['license-server', 'instances', SERVER.dir, '--json'])
  assert.not.ok(list.json.instances.some((i: {udi: string}) => i.udi === registered))
})

test('an account not permitted export control: no export box, its portal tokens Not Allowed; chosen from the Inventory selector', async () => {
  await accountCreate(SERVER.dir, {name: 'Restricted Corp', virtualAccount: 'restricted', exportControl: false})
  await page.goto(`${base}/portal/va/lab/general`)
  await Promise.all([page.waitForNavigation(), page.selectOption('select#va', 'restricted').then(() => page.click('header button:has-text("Go")'))])
  assert.match(page.url(), /\/portal\/va\/restricted\/general$/)
  assert.is(await page.$('input[name=exportControlled]'), null)
  assert.not.ok((await page.textContent('body'))!.includes('Allow export-controlled functionality'))
  await page.fill('#description', 'restricted token')
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Create Token")')])
  const {tokens} = await tokenList(SERVER.dir, {virtualAccount: 'restricted'})
  assert.equal(tokens.map((t) => [t.description, t.exportControlled]), [['restricted token', false]])
})

test('PAK conversion by clicking: a PAK added by the CLI function shows, converts into the pool; a partial one without forfeit is refused', async () => {
  await pakAdd(SERVER.dir, {virtualAccount: 'lab', pak: 'PAK-0001', type: 'room', count: 6})
  await page.goto(`${base}/portal/va/lab/pak`)
  const row = 'tr[data-pak="PAK-0001"]'
  await page.fill(`${row} input[name=quantity]`, '2')
  await Promise.all([page.waitForNavigation(), page.click(`${row} button:has-text("Convert")`)])
  assert.ok((await page.textContent('.error'))!.includes('known issue'))
  await Promise.all([page.waitForNavigation(), page.click(`${row} button:has-text("Convert")`)])
  assert.ok((await page.textContent('body'))!.includes('PAK converted into smart licenses.'))
  assert.is((await paks(SERVER.dir, {virtualAccount: 'lab'})).paks[0]!.converted, 6)
  await page.goto(`${base}/portal/va/lab/events`)
  assert.ok((await page.textContent('tbody'))!.includes('PAK converted'))
})

test('a form POST without its CSRF token, or with another, is refused (403) and changes nothing', async () => {
  const before = (await tokenList(SERVER.dir, {virtualAccount: 'lab'})).tokens.length
  const none = await context.request.post(`${base}/portal/va/lab/general/new`, {form: {description: 'no csrf', days: '3'}, maxRedirects: 0})
  assert.is(none.status(), 403)
  const wrong = await context.request.post(`${base}/portal/va/lab/general/new`, {form: {description: 'bad csrf', days: '3', csrf: 'x'.repeat(43)}, maxRedirects: 0})
  assert.is(wrong.status(), 403)
  assert.is((await tokenList(SERVER.dir, {virtualAccount: 'lab'})).tokens.length, before)
})

test('log out ends the session: the old cookie opens nothing', async () => {
  const old = (await context.cookies()).find((c) => c.name === 'xway_portal')!
  await page.goto(`${base}/portal/va/lab/general`)
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Log Out")')])
  assert.is(new URL(page.url()).pathname, '/portal/login')
  await context.addCookies([old])
  await page.goto(`${base}/portal/va/lab/general`)
  assert.is(new URL(page.url()).pathname, '/portal/login')
})

test('with --workers 2 a session made by one worker is known to the other (sessions live in the database)', async () => {
  const server = await startServer(SERVER.dir, {workers: 2})
  const other = await browser.newContext({ignoreHTTPSErrors: true})
  try {
    const url = `https://127.0.0.1:${server.port}`
    const p = await other.newPage()
    await p.goto(`${url}/portal/login`)
    await p.fill('#name', USER)
    await p.fill('#password', PASSWORD)
    await Promise.all([p.waitForNavigation(), p.click('button:has-text("Log In")')])
    // each request on a new connection: the kernel spreads them over both workers
    for (let i = 0; i < 8; i++) {
      const r = await other.request.get(`${url}/portal/va/lab/licenses`, {headers: {connection: 'close'}, maxRedirects: 0})
      assert.is(r.status(), 200, `request ${i}`)
    }
  } finally {
    await other.close()
    await server.stop()
  }
})

test('an On-Prem overdue for synchronization says so on every page (serverStatus, as `license-server status`)', async () => {
  const dir = join(temp.path, 'onprem')
  const at = new Date(Date.now() - 40 * 86_400_000).toISOString()
  assert.is(xwayJson(['license-server', 'init', dir, '--on-prem'], {env: {XWAY_NOW: at}}).code, 0)
  await accountCreate(dir, {name: 'Acme', virtualAccount: 'site'})
  await userAdd(dir, {name: USER, password: PASSWORD})
  const onPrem = await startLicenseServer(dir, {host: '127.0.0.1', port: 0})
  const other = await browser.newContext({ignoreHTTPSErrors: true})
  try {
    const p = await other.newPage()
    await p.goto(`https://127.0.0.1:${onPrem.port}/portal/login`)
    await p.fill('#name', USER)
    await p.fill('#password', PASSWORD)
    await Promise.all([p.waitForNavigation(), p.click('button:has-text("Log In")')])
    assert.ok((await p.textContent('.warning'))!.includes('sync at least every 30 days'))
  } finally {
    await other.close()
    await onPrem.close(1000)
  }
})

test('repeated failed logins are slowed down (bounded), a wrong password never logs in', async () => {
  await userAdd(SERVER.dir, {name: 'second', password: 'another password'})
  const times: number[] = []
  for (let i = 0; i < 4; i++) {
    const t0 = Date.now()
    await logIn(page, 'second', 'wrong password')
    times.push(Date.now() - t0)
    assert.ok((await page.textContent('body'))!.includes('Wrong user name or password.'))
  }
  // waits of 0, 250, 500, 1000 ms before judging (plus the scrypt check each time)
  assert.ok(times[3]! - times[0]! >= 800, JSON.stringify(times))
  assert.ok(times[3]! < 8000, JSON.stringify(times))
})

test.run()
