// A lab for the portal's bench and screenshots: a license server folder with one smart account,
// two virtual accounts, licenses, a portal user, N product instances registered over the
// agent protocol, a few tokens and a reservation; served in this process on 127.0.0.1:0.
// Also logs a chromium page in. Needs the build (dist/) and /usr/bin/chromium.
import {generateKeyPair} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {dist} from './bench-lib.js'

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
export const USER = 'admin'
export const PASSWORD = 'lab portal password'
export const VA = 'lab'

const PID = 'EXPWY-VE-M-K9'

export async function portalLab({instances = 1000, concurrency = 20} = {}) {
  const admin = await dist('src/server/admin.js')
  const {startLicenseServer} = await dist('src/server/http.js')
  const {call} = await dist('src/licensing/client.js')
  const codes = await dist('src/licensing/codes.js')
  const work = mkdtempSync(join(tmpdir(), 'xway-portal-lab-'))
  const dir = join(work, 'server')
  await admin.init(dir, {})
  await admin.accountCreate(dir, {name: 'Acme Corp', virtualAccount: VA})
  await admin.accountCreate(dir, {name: 'Acme Corp', virtualAccount: 'emea'})
  for (const [type, count] of [['rms', 2000], ['room', 600], ['desktop', 400]]) await admin.licensesAdd(dir, {virtualAccount: VA, type, count})
  await admin.userAdd(dir, {name: USER, password: PASSWORD})
  await admin.pakAdd(dir, {virtualAccount: VA, pak: '3614J2K8H1', type: 'room', count: 25})
  await admin.pakAdd(dir, {virtualAccount: VA, pak: '3614J2K8H2', type: 'desktop', count: 10})
  await admin.pakConvert(dir, {pak: '3614J2K8H2'})
  const {token} = await admin.tokenCreate(dir, {virtualAccount: VA, description: 'Expressway lab (London)', expiresIn: '90d'})
  await admin.tokenCreate(dir, {virtualAccount: VA, description: 'Staging cluster', expiresIn: '7d', uses: 4, exportControlled: false})
  const server = await startLicenseServer(dir, {host: '127.0.0.1', port: 0})
  const ca = (await import('node:fs')).readFileSync(join(dir, 'ca.pem'), 'utf8')
  const {publicKey} = await promisify(generateKeyPair)('rsa', {modulusLength: 2048})
  const publicKeyPem = publicKey.export({type: 'spki', format: 'pem'})
  const options = {target: {url: server.url}, trustAnchors: [ca], timeoutMs: 30_000}
  let next = 0
  const worker = async () => {
    while (next < instances) {
      const i = next++
      const serial = `L${String(i).padStart(7, '0')}`
      await call(options, {method: 'register', params: {
        token, udi: codes.formatUdi(PID, serial), publicKey: publicKeyPem,
        product: {pid: PID, serial, brand: 'Expressway', type: i % 2 ? 'Expressway-E' : 'Expressway-C', softwareVersion: 'X14.2.0'},
        hostname: `exp-${i % 2 ? 'e' : 'c'}${String(i).padStart(4, '0')}.lab.example`, ip: '192.0.2.10',
      }})
    }
  }
  await Promise.all(Array.from({length: concurrency}, worker))
  await admin.reservationAuthorize(dir, {virtualAccount: VA, requestCode: codes.makeRequestCode(PID, 'R0000001', 'A6rZG7jGd'), licenses: ['rms=20', 'room=2']})
  const base = `https://127.0.0.1:${server.port}`
  return {
    dir, server, base,
    async close() {
      await server.close(1000)
      rmSync(work, {recursive: true, force: true})
    },
  }
}

/** A chromium with a logged-in page on the lab's portal. */
export async function loggedIn(lab, viewport = {width: 1280, height: 800}) {
  const {chromium} = await import('playwright-core')
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS})
  const context = await browser.newContext({ignoreHTTPSErrors: true, viewport})
  const page = await context.newPage()
  await page.goto(`${lab.base}/portal/login`)
  await page.fill('#name', USER)
  await page.fill('#password', PASSWORD)
  await Promise.all([page.waitForNavigation(), page.click('button:has-text("Log In")')])
  return {browser, context, page}
}
