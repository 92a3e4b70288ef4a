import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {makeRequestCode} from '../../src/licensing/codes.js'
import {accounts, events, pakConvert, paks} from '../../src/server/admin.js'
import {xwayJson} from '../support/run.js'
import {sharedPostgres} from '../support/postgres.js'
import {adminOk, ownTempDir} from './license-server-helpers.js'

// Export-control permission and PAK conversion with the state in PostgreSQL: the same admin
// commands, the same counts, and concurrent conversions of one PAK that never convert twice.

const postgres = sharedPostgres()
let temp: ReturnType<typeof ownTempDir>
let DIR: string

test.before(async () => {
  temp = ownTempDir('xway-ls-pak-pg-')
  const pg = await postgres.acquire()
  const url = await pg.createDatabase('paks')
  DIR = join(temp.path, 'server')
  adminOk(['init', DIR, '--database', url])
  adminOk(['account', 'create', DIR, '--name', 'Acme', '--virtual-account', 'lab'])
  adminOk(['account', 'create', DIR, '--name', 'Closed', '--virtual-account', 'closed', '--no-export-control'])
})

test.after(async () => {
  await postgres.release()
  temp?.remove()
})

test('PostgreSQL: the export-control permission refuses tokens and AAS, and the 0 SLR', async () => {
  assert.equal((await accounts(DIR)).accounts.map((a) => [a.virtualAccount, a.exportControl]), [['closed', false], ['lab', true]])
  assert.is(xwayJson(['license-server', 'token', 'create', DIR, '--virtual-account', 'closed']).code, 3)
  assert.is(adminOk(['token', 'create', DIR, '--virtual-account', 'closed', '--no-export-controlled']).exportControlled, false)
  adminOk(['licenses', 'add', DIR, '--virtual-account', 'closed', '--type', 'rms', '--count', '2'])
  const code = makeRequestCode('EXPWY-VE-M-K9', '0D1B2C3D', 'A6rZG7jGd')
  assert.is(xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'closed', '--request-code', code, '--license', 'rms=1', '--advanced-account-security']).code, 3)
  assert.is(xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'closed', '--request-code', code, '--license', 'rms=0']).code, 3)
})

test('PostgreSQL: PAK add, refused partial conversion, forfeit, counts in the pool and the event log', async () => {
  adminOk(['pak', 'add', DIR, '--virtual-account', 'lab', '--pak', 'PG-1', '--type', 'room', '--count', '12'])
  assert.is(xwayJson(['license-server', 'pak', 'convert', DIR, '--pak', 'PG-1', '--quantity', '4']).code, 3)
  assert.is(adminOk(['pool', DIR, '--virtual-account', 'lab']).licenses[1].owned, 0)
  const r = adminOk(['pak', 'convert', DIR, '--pak', 'PG-1', '--quantity', '4', '--forfeit-remaining'])
  assert.equal([r.converted, r.forfeited, r.line.type, r.line.owned], [4, 8, 'room', 4])
  assert.equal((await paks(DIR, {virtualAccount: 'lab'})).paks.map((p) => [p.pak, p.converted, p.forfeited, p.available]), [['PG-1', 4, 8, 0]])
  const log = await events(DIR, {virtualAccount: 'lab', offset: 0, limit: 2})
  assert.equal(log.events.map((e) => e.kind), ['pak-forfeited', 'pak-converted'])
  assert.is(typeof log.total, 'number')
})

test('PostgreSQL: concurrent conversions of one PAK convert it once', async () => {
  adminOk(['pak', 'add', DIR, '--virtual-account', 'lab', '--pak', 'PG-2', '--type', 'desktop', '--count', '7'])
  const results = await Promise.allSettled(Array.from({length: 5}, () => pakConvert(DIR, {pak: 'PG-2'})))
  assert.is(results.filter((x) => x.status === 'fulfilled').length, 1)
  const desktop = adminOk(['pool', DIR, '--virtual-account', 'lab']).licenses[2]
  assert.is(desktop.owned, 7)
})

test.run()
