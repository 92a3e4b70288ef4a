import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {serverStatus} from '../../src/server/admin.js'
import {xway, xwayJson} from '../support/run.js'
import {adminOk, ownTempDir} from './license-server-helpers.js'

// SPEC 10 "On-Prem", the part landed so far: init --on-prem (connected or disconnected, its
// interval), and `status` (role, synchronization, overdue after 30 days without one).
// Synchronization itself (link, sync, export/answer/import) is not written yet.

let temp: ReturnType<typeof ownTempDir>
let CSSM: string
const T0 = '2026-05-01T00:00:00.000Z'

test.before(() => {
  temp = ownTempDir('xway-ls-onprem-')
  CSSM = join(temp.path, 'cssm')
  adminOk(['init', CSSM])
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

test.run()
