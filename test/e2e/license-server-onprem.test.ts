import {createPrivateKey, sign} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {serverStatus} from '../../src/server/admin.js'
import {canonicalJson} from '../../src/server/onprem.js'
import {startLicenseServer} from '../../src/server/http.js'
import {xway, xwayJson} from '../support/run.js'
import {adminOk, makeAgents, ownTempDir, register, startServer} from './license-server-helpers.js'

// SPEC 10 "On-Prem": init --on-prem (connected or disconnected, its interval), `status`
// (role, synchronization, overdue after 30 days without one), `onprem link`, and the
// synchronization: disconnected by signed files (sync export → sync answer at the CSSM →
// sync import), connected over HTTPS (`sync`).

let temp: ReturnType<typeof ownTempDir>
let CSSM: string
let TOKEN: string
const T0 = '2026-05-01T00:00:00.000Z'

test.before(() => {
  temp = ownTempDir('xway-ls-onprem-')
  CSSM = join(temp.path, 'cssm')
  adminOk(['init', CSSM])
  adminOk(['account', 'create', CSSM, '--name', 'Lab SA', '--virtual-account', 'lab'])
  adminOk(['licenses', 'add', CSSM, '--virtual-account', 'lab', '--type', 'rms', '--count', '10'])
  adminOk(['licenses', 'add', CSSM, '--virtual-account', 'lab', '--type', 'room', '--count', '4'])
  TOKEN = adminOk(['token', 'create', CSSM, '--virtual-account', 'lab']).token
})

test.after(() => temp?.remove())

test('a CSSM says role cssm and no synchronization', async () => {
  assert.equal(adminOk(['status', CSSM]), {role: 'cssm', sync: null})
  assert.equal(await serverStatus(CSSM), {role: 'cssm', sync: null})
})

test('init --on-prem --cssm --cssm-ca: connected, its interval, the CSSM CA kept in DIR; status overdue only after 30 days (XWAY_NOW)', async () => {
  const dir = join(temp.path, 'connected')
  const r = xwayJson(['license-server', 'init', dir, '--on-prem', '--cssm', 'https://127.0.0.1:8443/', '--cssm-ca', join(CSSM, 'ca.pem'), '--sync-interval', '7d'],
    {env: {XWAY_NOW: T0}})
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.is(readFileSync(join(dir, 'cssm-ca.pem'), 'utf8'), readFileSync(join(CSSM, 'ca.pem'), 'utf8'))
  const fresh = xwayJson(['license-server', 'status', dir], {env: {XWAY_NOW: '2026-05-20T00:00:00Z'}})
  assert.equal(fresh.json, {role: 'on-prem', sync: {mode: 'connected', lastSyncAt: null, nextSyncAt: '2026-05-08T00:00:00.000Z', overdue: false}})
  assert.is(fresh.stderr.includes('Warning'), false)
  const late = xway(['license-server', 'status', dir], {env: {XWAY_NOW: '2026-06-01T00:00:01Z'}})
  assert.is(late.code, 0)
  assert.ok(late.stderr.includes('It is recommended to sync at least every 30 days'), late.stderr)
  assert.is(xwayJson(['license-server', 'status', dir], {env: {XWAY_NOW: '2026-06-01T00:00:01Z'}}).json.sync.overdue, true)
})

test('init --on-prem without --cssm is disconnected (30d by default); bad combinations are refused and leave no folder', async () => {
  const dir = join(temp.path, 'disconnected')
  assert.is(xwayJson(['license-server', 'init', dir, '--on-prem'], {env: {XWAY_NOW: T0}}).code, 0)
  const s = xwayJson(['license-server', 'status', dir], {env: {XWAY_NOW: T0}}).json
  assert.equal(s.sync, {mode: 'disconnected', lastSyncAt: null, nextSyncAt: '2026-05-31T00:00:00.000Z', overdue: false})
  const noCa = join(temp.path, 'no-ca')
  assert.is(xwayJson(['license-server', 'init', noCa, '--on-prem', '--cssm', 'https://127.0.0.1:8443/']).code, 2)
  const http = join(temp.path, 'http')
  assert.is(xwayJson(['license-server', 'init', http, '--on-prem', '--cssm', 'http://127.0.0.1:8443/', '--cssm-ca', join(CSSM, 'ca.pem')]).code, 4)
  assert.is(xwayJson(['license-server', 'init', join(temp.path, 'i'), '--on-prem', '--sync-interval', '14d']).code, 2)
  for (const d of [noCa, http, join(temp.path, 'i')]) assert.not.ok(existsSync(d), d)
})

// ---------------------------------------------------------------- synchronization

const line = (dir: string, type: string): any => adminOk(['pool', dir, '--virtual-account', 'lab']).licenses.find((l: any) => l.type === type)
const f = (name: string): string => join(temp.path, name)
function refusedWith4(args: string[]): string {
  const r = xwayJson(['license-server', ...args])
  assert.is(r.code, 4, `${args.join(' ')}: ${r.stdout}${r.stderr}`)
  return r.stdout + r.stderr
}
/** what a refused file must not change: the pools and instances at the CSSM and at the On-Prem */
function snapshot(onPrem: string): string {
  return JSON.stringify([adminOk(['pool', CSSM, '--virtual-account', 'lab']), adminOk(['pool', onPrem, '--virtual-account', 'lab']),
    adminOk(['instances', CSSM]), adminOk(['instances', onPrem])])
}
function newOnPrem(name: string, token = TOKEN): string {
  const dir = f(name)
  adminOk(['init', dir, '--on-prem'])
  assert.is(adminOk(['onprem', 'link', dir, '--virtual-account', 'lab', '--token', token]).mode, 'disconnected')
  return dir
}
let OP1: string

test('disconnected round trip: export → answer (the CSSM counts onPrem, available drops) → import (the On-Prem pool is what was allocated); status not overdue', () => {
  OP1 = newOnPrem('op1')
  const exported = adminOk(['sync', 'export', OP1, '-o', f('req1.json'), '--license', 'rms=6', '--license', 'room=1'])
  assert.equal([exported.sequence, exported.requested], [1, {rms: 6, room: 1, desktop: 0}])
  const request = JSON.parse(readFileSync(f('req1.json'), 'utf8'))
  assert.is(request.payload.token, TOKEN)
  assert.is(request.payload.virtualAccount, 'lab')
  const answered = adminOk(['sync', 'answer', CSSM, f('req1.json'), '-o', f('resp1.json')])
  assert.equal([answered.linked, answered.sequence, answered.licenses], [true, 1, {rms: 6, room: 1, desktop: 0}])
  assert.equal(line(CSSM, 'rms'), {type: 'rms', owned: 10, inUse: 0, reserved: 0, inTransit: 0, onPrem: 6, available: 4, shortage: 0})
  assert.equal(line(CSSM, 'room'), {type: 'room', owned: 4, inUse: 0, reserved: 0, inTransit: 0, onPrem: 1, available: 3, shortage: 0})
  const imported = xwayJson(['license-server', 'sync', 'import', OP1, f('resp1.json')], {env: {XWAY_NOW: '2026-07-01T00:00:00.000Z'}})
  assert.is(imported.code, 0, imported.stderr)
  assert.equal(line(OP1, 'rms'), {type: 'rms', owned: 6, inUse: 0, reserved: 0, inTransit: 0, onPrem: 0, available: 6, shortage: 0})
  assert.is(line(OP1, 'room').owned, 1)
  const status = xwayJson(['license-server', 'status', OP1], {env: {XWAY_NOW: '2026-07-02T00:00:00.000Z'}}).json
  assert.equal(status.sync, {mode: 'disconnected', lastSyncAt: '2026-07-01T00:00:00.000Z', nextSyncAt: '2026-07-31T00:00:00.000Z', overdue: false})
  // the second request carries no token: the On-Prem is linked
  adminOk(['sync', 'export', OP1, '-o', f('req2.json'), '--license', 'rms=6', '--license', 'room=1'])
  assert.is(JSON.parse(readFileSync(f('req2.json'), 'utf8')).payload.token, null)
})

test('hostile files are refused (exit 4) and change nothing on either side: tampered, foreign CSSM, foreign On-Prem, replayed, older', () => {
  const before = snapshot(OP1)
  const req2 = readFileSync(f('req2.json'), 'utf8')
  // tampered request: one byte of a count, then one of the signature
  writeFileSync(f('req2-tampered.json'), req2.replace('"rms": 6', '"rms": 9'))
  assert.ok(refusedWith4(['sync', 'answer', CSSM, f('req2-tampered.json'), '-o', f('x.json')]).includes('signature'))
  const sigAt = req2.indexOf('"signature": "') + 20
  writeFileSync(f('req2-sig.json'), req2.slice(0, sigAt) + (req2[sigAt] === 'A' ? 'B' : 'A') + req2.slice(sigAt + 1))
  refusedWith4(['sync', 'answer', CSSM, f('req2-sig.json'), '-o', f('x.json')])
  assert.is(existsSync(f('x.json')), false)
  assert.is(snapshot(OP1), before)

  adminOk(['sync', 'answer', CSSM, f('req2.json'), '-o', f('resp2.json')])
  const resp2Text = readFileSync(f('resp2.json'), 'utf8')
  const afterAnswer = snapshot(OP1)
  // tampered response
  writeFileSync(f('resp2-tampered.json'), resp2Text.replace('"rms": 6', '"rms": 8'))
  assert.ok(refusedWith4(['sync', 'import', OP1, f('resp2-tampered.json')]).includes('signature'))
  // a response signed by another CSSM (its own CA and key, a consistent file)
  const other = f('cssm2')
  adminOk(['init', other])
  const resp2 = JSON.parse(resp2Text)
  const payload = {...resp2.payload, cssm: {caPem: readFileSync(join(other, 'ca.pem'), 'utf8'), certPem: readFileSync(join(other, 'server.pem'), 'utf8')}}
  const signature = sign('sha256', Buffer.from(canonicalJson(payload)), createPrivateKey(readFileSync(join(other, 'server.key'), 'utf8'))).toString('base64')
  writeFileSync(f('resp2-foreign.json'), JSON.stringify({...resp2, payload, signature}))
  assert.ok(refusedWith4(['sync', 'import', OP1, f('resp2-foreign.json')]).includes('another CSSM'))
  // a request from an On-Prem that is not linked (its token is not one of this CSSM's)
  const stranger = newOnPrem('stranger', 'not-a-token-of-this-cssm')
  adminOk(['sync', 'export', stranger, '-o', f('req-stranger.json'), '--license', 'rms=1'])
  refusedWith4(['sync', 'answer', CSSM, f('req-stranger.json'), '-o', f('x.json')])
  // OP1's response imported at another On-Prem
  refusedWith4(['sync', 'import', stranger, f('resp2.json')])
  // a request meant for another CSSM
  refusedWith4(['sync', 'answer', other, f('req2.json'), '-o', f('x.json')])
  assert.is(snapshot(OP1), afterAnswer)

  adminOk(['sync', 'import', OP1, f('resp2.json')])
  const synced = snapshot(OP1)
  // replayed: the same response imported twice, the same request answered twice
  assert.ok(refusedWith4(['sync', 'import', OP1, f('resp2.json')]).includes('replayed'))
  assert.ok(refusedWith4(['sync', 'answer', CSSM, f('req2.json'), '-o', f('x.json')]).includes('replayed'))
  // older: request 3 answered after request 4; response 1 imported after response 4
  adminOk(['sync', 'export', OP1, '-o', f('req3.json'), '--license', 'rms=2'])
  adminOk(['sync', 'export', OP1, '-o', f('req4.json'), '--license', 'rms=6', '--license', 'room=1'])
  adminOk(['sync', 'answer', CSSM, f('req4.json'), '-o', f('resp4.json')])
  assert.ok(refusedWith4(['sync', 'answer', CSSM, f('req3.json'), '-o', f('x.json')]).includes('older'))
  assert.is(snapshot(OP1), synced)
  adminOk(['sync', 'import', OP1, f('resp4.json')])
  refusedWith4(['sync', 'import', OP1, f('resp1.json')])
  refusedWith4(['sync', 'import', OP1, f('resp2.json')])
  assert.is(snapshot(OP1), synced)
  assert.is(existsSync(f('x.json')), false)
})

test('two On-Prems of one virtual account share its pool: what one holds is never given to the other', () => {
  const op2 = newOnPrem('op2')
  adminOk(['sync', 'export', op2, '-o', f('op2-req.json'), '--license', 'rms=6'])
  assert.equal(adminOk(['sync', 'answer', CSSM, f('op2-req.json'), '-o', f('op2-resp.json')]).licenses, {rms: 4, room: 0, desktop: 0})
  adminOk(['sync', 'import', op2, f('op2-resp.json')])
  assert.is(line(op2, 'rms').owned, 4)
  assert.equal(line(CSSM, 'rms'), {type: 'rms', owned: 10, inUse: 0, reserved: 0, inTransit: 0, onPrem: 10, available: 0, shortage: 0})
  // OP1 keeps its 6 and gets no more, whatever it asks
  adminOk(['sync', 'export', OP1, '-o', f('req5.json'), '--license', 'rms=9', '--license', 'room=1'])
  assert.is(adminOk(['sync', 'answer', CSSM, f('req5.json'), '-o', f('resp5.json')]).licenses.rms, 6)
  assert.is(line(CSSM, 'rms').onPrem, 10)
  // OP2 gives 3 back: they are available again at the CSSM
  adminOk(['sync', 'export', op2, '-o', f('op2-req2.json'), '--license', 'rms=1'])
  adminOk(['sync', 'answer', CSSM, f('op2-req2.json'), '-o', f('op2-resp2.json')])
  adminOk(['sync', 'import', op2, f('op2-resp2.json')])
  assert.equal([line(CSSM, 'rms').onPrem, line(CSSM, 'rms').available, line(op2, 'rms').owned], [7, 3, 1])
})

test('instances registered at an On-Prem are listed by the CSSM after the next synchronization (onPrem: its id), removed there, not here; a forged report is refused', async () => {
  // a product instance registers at OP1 over the agent protocol, with a token of the On-Prem
  const opToken = adminOk(['token', 'create', OP1, '--virtual-account', 'lab']).token
  const server = await startLicenseServer(OP1, {host: '127.0.0.1', port: 0})
  const [agent] = await makeAgents(1, 'OP')
  try {
    await register({target: {url: server.url}, trustAnchors: [readFileSync(join(OP1, 'ca.pem'), 'utf8')], timeoutMs: 10_000}, agent!, opToken, {hostname: 'exp-at-op1'})
  } finally {
    await server.close(1000)
  }
  const atCssm = () => (adminOk(['instances', CSSM, '--virtual-account', 'lab']).instances as any[]).filter((i) => i.onPrem !== null)
  assert.equal(atCssm(), [], 'not before a synchronization')
  adminOk(['sync', 'export', OP1, '-o', f('req6.json'), '--license', 'rms=6', '--license', 'room=1'])
  const request = JSON.parse(readFileSync(f('req6.json'), 'utf8'))
  adminOk(['sync', 'answer', CSSM, f('req6.json'), '-o', f('resp6.json')])
  adminOk(['sync', 'import', OP1, f('resp6.json')])
  const listed = atCssm()
  assert.is(listed.length, 1)
  assert.equal([listed[0].udi, listed[0].hostname, listed[0].virtualAccount, listed[0].onPrem], [agent!.udi, 'exp-at-op1', 'lab', request.payload.onPrem.id])
  assert.match(listed[0].registeredAt, /^\d{4}-\d{2}-\d{2}T/)
  // the CSSM does not remove what an On-Prem holds: it says where to
  const refused = xwayJson(['license-server', 'instances', 'remove', CSSM, agent!.udi])
  assert.is(refused.code, 3, refused.stdout)
  assert.match(refused.json.error.message, /registered at the On-Prem/)

  // a report signed with the On-Prem's key but holding a hostile instance is refused, and changes nothing
  const before = snapshot(OP1)
  adminOk(['sync', 'export', OP1, '-o', f('req7.json'), '--license', 'rms=6', '--license', 'room=1'])
  const forged = JSON.parse(readFileSync(f('req7.json'), 'utf8'))
  const key = createPrivateKey(readFileSync(join(OP1, 'server.key'), 'utf8'))
  for (const [name, instance] of [['script', {...forged.payload.instances[0], hostname: 'x\u0001<script>'}], ['not-udi', {...forged.payload.instances[0], udi: '../../etc'}],
    ['status', {...forged.payload.instances[0], status: 'owner'}], ['counts', {...forged.payload.instances[0], licenses: {rms: -1, room: 0, desktop: 0}}]] as const) {
    const payload = {...forged.payload, instances: [instance]}
    const signature = sign('sha256', Buffer.from(canonicalJson(payload)), key).toString('base64')
    writeFileSync(f(`req7-${name}.json`), JSON.stringify({...forged, payload, signature}))
    assert.ok(refusedWith4(['sync', 'answer', CSSM, f(`req7-${name}.json`), '-o', f('x.json')]).includes('not a valid one'), name)
  }
  assert.is(snapshot(OP1), before)

  // removed at the On-Prem: the CSSM no longer lists it after the next synchronization
  adminOk(['instances', 'remove', OP1, agent!.udi])
  adminOk(['sync', 'answer', CSSM, f('req7.json'), '-o', f('resp7.json')])
  assert.is(atCssm().length, 1, 'request 7 was made before the removal')
  adminOk(['sync', 'import', OP1, f('resp7.json')])
  adminOk(['sync', 'export', OP1, '-o', f('req8.json'), '--license', 'rms=6', '--license', 'room=1'])
  adminOk(['sync', 'answer', CSSM, f('req8.json'), '-o', f('resp8.json')])
  adminOk(['sync', 'import', OP1, f('resp8.json')])
  assert.equal(atCssm(), [])
  assert.is(existsSync(f('x.json')), false)
})

test('connected: onprem link checks the token at the CSSM over HTTPS; sync does export → POST → import in one step; status not overdue after it', async () => {
  const server = await startServer(CSSM)
  try {
    const dir = f('op-connected')
    adminOk(['init', dir, '--on-prem', '--cssm', `https://127.0.0.1:${server.port}/`, '--cssm-ca', join(CSSM, 'ca.pem'), '--sync-interval', '7d'])
    refusedWith4(['onprem', 'link', dir, '--virtual-account', 'lab', '--token', 'wrong'])
    const linked = adminOk(['onprem', 'link', dir, '--virtual-account', 'lab', '--token', TOKEN])
    assert.equal([linked.mode, linked.checked], ['connected', true])
    const r = xwayJson(['license-server', 'sync', dir, '--license', 'room=2', '--license', 'rms=5'], {env: {XWAY_NOW: '2026-08-01T00:00:00.000Z'}})
    assert.is(r.code, 0, r.stdout + r.stderr)
    assert.equal([r.json.sequence, r.json.licenses], [1, {rms: 3, room: 2, desktop: 0}])
    assert.equal(r.json.status.sync, {mode: 'connected', lastSyncAt: '2026-08-01T00:00:00.000Z', nextSyncAt: '2026-08-08T00:00:00.000Z', overdue: false})
    assert.is(r.stderr.includes('Warning'), false)
    assert.equal([line(CSSM, 'room').onPrem, line(CSSM, 'rms').available, line(dir, 'room').owned], [3, 0, 2])
    // a second sync: the next sequence, nothing given twice
    const again = adminOk(['sync', dir])
    assert.equal([again.sequence, again.licenses], [2, {rms: 3, room: 2, desktop: 0}])
    assert.is(line(CSSM, 'rms').onPrem, 10)
    // a disconnected On-Prem cannot `sync` over the network
    assert.is(xwayJson(['license-server', 'sync', OP1]).code, 6)
  } finally {
    await server.stop()
  }
})

test('a running connected On-Prem synchronizes by itself: at start when it never did, then at its interval (the timer)', async () => {
  const cssm = await startServer(CSSM)
  const dir = f('op-running')
  let onPrem: Awaited<ReturnType<typeof startServer>> | undefined
  try {
    adminOk(['init', dir, '--on-prem', '--cssm', `https://127.0.0.1:${cssm.port}/`, '--cssm-ca', join(CSSM, 'ca.pem')])
    adminOk(['onprem', 'link', dir, '--virtual-account', 'lab', '--token', TOKEN])
    onPrem = await startServer(dir)
    // polled (bounded); a read may meet the server's write lock: it is read again
    const read = (): Promise<Awaited<ReturnType<typeof serverStatus>> | null> => serverStatus(dir).catch(() => null)
    let status = await read()
    for (let i = 0; i < 150 && !status?.sync?.lastSyncAt; i++) {
      await new Promise((r) => setTimeout(r, 100))
      status = await read()
    }
    assert.ok(status?.sync?.lastSyncAt, `no synchronization: ${onPrem.stderr()}`)
    assert.is(status?.sync?.overdue, false)
    assert.ok(onPrem.stderr().includes('On-Prem synchronized with its CSSM (request 1)'), onPrem.stderr())
  } finally {
    await onPrem?.stop()
    await cssm.stop()
  }
})

test.run()
