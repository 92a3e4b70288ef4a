import {writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {Socket} from 'node:net'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {ownTempDir} from './license-server-helpers.js'
import {at, expect, expectAsync, freePort, human, makeLicenseServer, ok, profileFor, run, status, unitFrom, type LicenseServer} from './licensing-helpers.js'
import {xwayAsync} from '../support/run.js'

// Words (SPEC 11): the licensing commands speak the appliance's language and say what
// happened. Against a real license server process: no output names where the project got its
// facts; test-connection prints its failure's reason beside its verdict; xstatus shows the
// smart and virtual account; a proxy refusing the tunnel is stored and shown as that refusal;
// the stored lastError is what the command reported; no word of a proxy where there is none;
// a Direct unit says that its endpoint is Cisco's cloud.

const test = suite('licensing words')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; proxies: Server[]}
const outputs: string[] = []

/** A command that changes nothing (a query or a refusal): run with and without --json, everything printed kept for the final scan. */
function both(args: string[], now = at(1)): {code: number; json: any} { // eslint-disable-line @typescript-eslint/no-explicit-any
  const j = run(args, now)
  const h = human(args, now)
  outputs.push(`$ xway ${args.join(' ')}\n${j.stdout}${j.stderr}${h.stdout}${h.stderr}`)
  assert.is(h.code, j.code, `${args.join(' ')}: the same exit code with and without --json`)
  return {code: j.code, json: j.json}
}

/** A command that changes the unit: run once, as a person would (or with --json), its output kept for the scan. */
function once(args: string[], now = at(1), json = false): {code: number; json: any} { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = json ? run(args, now) : human(args, now)
  outputs.push(`$ xway ${args.join(' ')}\n${r.stdout}${r.stderr}`)
  return {code: r.code, json: r.json}
}

/** A CONNECT proxy that refuses every tunnel with `status`. */
function refusingProxy(statusLine: string): Promise<{port: number}> {
  const server = createServer((_req, res) => { res.writeHead(405); res.end() })
  server.on('connect', (_req: IncomingMessage, client: Socket) => {
    client.end(`HTTP/1.1 ${statusLine}\r\nContent-Length: 0\r\n\r\n`)
  })
  ctx.proxies.push(server)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({port: (server.address() as {port: number}).port})))
}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-words-')
  ctx.proxies = []
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 5})
  await ctx.server.start()
})

test.after(async () => {
  await ctx.server?.stop()
  for (const p of ctx.proxies) await new Promise((done) => p.close(done))
  ctx.tmp?.remove()
})

test('xstatus License Smart shows the smart and virtual account as status does', async () => {
  const unit = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server), 'accounts')
  ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  const x = both(['xapi', unit, 'xstatus License Smart'])
  assert.is(x.code, 0)
  const lines = x.json.replies[0].lines as string[]
  const s = status(unit, at(1))
  assert.ok(lines.includes(`*s License Smart Registration SmartAccount: "${s.registration.smartAccount}"`), lines.join('\n'))
  assert.ok(lines.includes(`*s License Smart Registration VirtualAccount: "${s.registration.virtualAccount}"`))
  assert.ok(lines.includes('*s License Smart Registration ExportControlled: "Allowed"'))
  assert.ok(lines.includes('*s License Smart License 1 Status: "Authorized"'))
  // the licensing commands, successes and refusals, for the scan below
  both(['licensing', 'status', unit])
  both(['licensing', 'usage', unit])
  assert.is(once(['licensing', 'sync', unit], at(1, 7 * 60)).code, 0)
  both(['licensing', 'trust-store', unit])
  assert.is(once(['licensing', 'renew', unit, '--registration'], at(2)).code, 0)
  assert.is(both(['licensing', 'register', unit, '--token', ctx.server.token()]).code, 3)
  assert.is(both(['licensing', 'transport', unit, '--direct']).code, 3)
  assert.is(both(['licensing', 'reservation', 'enable', unit]).code, 3)
  assert.is(both(['xapi', unit, 'xcommand License Smart Reservation Request']).code, 3)
  assert.is(both(['licensing', 'enable', unit]).code, 3)
  assert.is(once(['licensing', 'deregister', unit], at(3)).code, 0)
  assert.is(both(['licensing', 'renew', unit, '--authorization'], at(3)).code, 3)
  assert.is(both(['licensing', 'usage', unit, '--refresh'], at(3)).code, 3)
  assert.is(both(['licensing', 'reservation', 'request', unit], at(3)).code, 3)
  assert.is(both(['licensing', 'reservation', 'cancel', unit], at(3)).code, 3)
  assert.is(once(['licensing', 'reservation', 'enable', unit], at(3)).code, 0)
  assert.is(both(['licensing', 'reservation', 'cancel', unit], at(3)).code, 3)
  assert.is(once(['licensing', 'reservation', 'request', unit], at(3)).code, 0)
  assert.is(both(['licensing', 'reservation', 'install', unit, 'not-a-code'], at(3)).code, 4)
  assert.is(both(['licensing', 'reservation', 'return', unit], at(3)).code, 3)
  assert.is(once(['licensing', 'reservation', 'cancel', unit], at(3)).code, 0)
  assert.is(once(['xapi', unit, 'xconfiguration License Smart ReservationEnable: Off'], at(3)).code, 0)
  assert.is(once(['licensing', 'register', unit, '--token', 'NoSuchToken123'], at(3)).code, 4)
})

test('test-connection prints the reason of a failure on stdout beside its verdict; no word of a proxy where there is none', async () => {
  const closed = await freePort()
  const profile = profileFor(ctx.tmp.path, ctx.server, {name: 'closed', transport: `{ mode: on-prem, url: "https://127.0.0.1:${closed}/SmartTransport" }`})
  const unit = unitFrom(ctx.tmp.path, profile, 'closed')
  const t = human(['licensing', 'test-connection', unit])
  outputs.push(t.stdout + t.stderr)
  assert.is(t.code, 6)
  assert.match(t.stdout, new RegExp(`^FAILED: https://127\\.0\\.0\\.1:${closed}/SmartTransport — .*refused the connection`, 'm'))
  const tj = both(['licensing', 'test-connection', unit])
  assert.not.match(tj.json.error.actions.join(' '), /proxy/i)
  // a registration that cannot reach the server: pending, the stored error is the command's own, no proxy advice
  const r = once(['licensing', 'register', unit, '--token', ctx.server.token()], at(1), true)
  assert.is(r.code, 6)
  const s = status(unit, at(1))
  assert.is(s.registration.status, 'Unregistered: Registration Pending')
  assert.ok(r.json.error.message.includes(s.registration.lastError), `${r.json.error.message}\nvs\n${s.registration.lastError}`)
  assert.not.match(r.json.error.actions.join(' '), /proxy/i)
  assert.not.match(r.json.error.message, /proxy/i)
})

test('a proxy that refuses the tunnel (403, 502) is stored and shown as that refusal with its status, not as a timeout', async () => {
  for (const [line, shown] of [['403 Forbidden', 'HTTP 403 Forbidden'], ['502 Bad Gateway', 'HTTP 502 Bad Gateway']] as const) {
    const proxy = await refusingProxy(line)
    const name = `refusing-${line.slice(0, 3)}`
    const unit = unitFrom(ctx.tmp.path, profileFor(ctx.tmp.path, ctx.server, {name, transport: `{ mode: proxy, host: 127.0.0.1, port: ${proxy.port} }`}), name)
    const r = await expectAsync(6, ['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
    assert.match(r.error.message, new RegExp(`Proxy refused the tunnel \\(${shown}\\)`))
    assert.not.match(r.error.message, /Operation timed out/)
    const s = status(unit, at(1))
    assert.is(s.registration.lastError, `The last attempt to renew smart software licensing registration is in progress because of the following reason: Proxy refused the tunnel (${shown}).`)
    assert.ok(r.error.message.includes(s.registration.lastError))
    assert.match(r.error.actions.join(' '), new RegExp(`proxy 127\\.0\\.0\\.1:${proxy.port} refused to open a tunnel`))
    const shownText = await xwayAsync(['licensing', 'status', unit], {env: {XWAY_NOW: at(1)}})
    assert.match(shownText.stdout, new RegExp(`last error: .*Proxy refused the tunnel \\(${shown}\\)`))
    const t = await xwayAsync(['licensing', 'test-connection', unit], {env: {XWAY_NOW: at(1)}})
    assert.is(t.code, 6)
    assert.match(t.stdout, new RegExp(`^FAILED: .* via proxy 127\\.0\\.0\\.1:${proxy.port} — .*HTTP ${line.slice(0, 3)}`, 'm'))
    outputs.push(shownText.stdout + shownText.stderr + t.stdout + t.stderr + JSON.stringify(r))
  }
})

test('a Direct unit without a lab endpoint says that Direct is Cisco\'s cloud, which a lab cannot reach, and to use On-Prem or a lab directUrl', async () => {
  const profile = join(ctx.tmp.path, 'direct.yaml')
  writeFileSync(profile, `software: X14.2.0
network: { hostname: exp-direct, domain: lab.example, dns: [192.0.2.53], lan1: { address: 192.0.2.12/24, gateway: 192.0.2.1 } }
licensing:
  transport: { mode: direct }
usage: { calls: 1, desktop: 0, room: 0, webrtc: false }
`)
  const unit = join(ctx.tmp.path, 'direct')
  ok(['image', 'create', unit, '--profile', profile, '--seed', 'direct-unit'])
  const r = once(['licensing', 'register', unit, '--token', ctx.server.token()], at(1), true)
  assert.is(r.code, 6)
  assert.match(r.json.error.message, /Direct endpoint is Cisco's cloud \(https:\/\/smartreceiver\.cisco\.com\/licservice\/license\), which a lab cannot reach/)
  assert.not.match(r.json.error.message, /must end with/)
  assert.match(r.json.error.actions.join(' '), /--on-prem/)
  assert.match(r.json.error.actions.join(' '), /directUrl/)
  assert.match(status(unit, at(1)).registration.lastError, /Cisco's cloud, which this lab cannot reach/)
  const t = both(['licensing', 'test-connection', unit])
  assert.is(t.code, 6)
  assert.match(t.json.error.message, /Cisco's cloud/)
  const text = human(['licensing', 'test-connection', unit])
  assert.match(text.stdout, /^FAILED: https:\/\/smartreceiver\.cisco\.com\/licservice\/license — The unit's Direct endpoint is Cisco's cloud/m)
  // the transport command warns about it when it is chosen
  assert.match(both(['licensing', 'transport', unit, '--direct']).json.warnings.join(' '), /Cisco's cloud/)
})

test('no output of the licensing commands names where the project got its facts', async () => {
  assert.ok(outputs.length >= 30, `${outputs.length} outputs scanned`)
  const named = outputs.filter((o) => /seed/i.test(o))
  assert.equal(named, [])
})

test.run()
