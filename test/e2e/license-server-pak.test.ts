import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {events} from '../../src/server/admin.js'
import {xway, xwayJson} from '../support/run.js'
import {adminOk, ownTempDir} from './license-server-helpers.js'

// SPEC 10 "PAK conversion": classic licenses recorded per PAK, converted into smart licenses of
// the pool; a partial conversion is refused (Cisco's known issue forfeits the rest) unless
// --forfeit-remaining, which removes the rest and says so in the event log.

let temp: ReturnType<typeof ownTempDir>
let DIR: string

const ok = adminOk

function owned(type: 'rms' | 'room' | 'desktop'): number {
  return ok(['pool', DIR, '--virtual-account', 'lab']).licenses.find((l: {type: string}) => l.type === type).owned
}

test.before(() => {
  temp = ownTempDir('xway-ls-pak-')
  DIR = join(temp.path, 'server')
  ok(['init', DIR])
  ok(['account', 'create', DIR, '--name', 'Acme', '--virtual-account', 'lab'])
  ok(['account', 'create', DIR, '--name', 'Acme', '--virtual-account', 'other'])
})

test.after(() => temp?.remove())

test('pak add records classic licenses (not yet in the pool); pak list shows them, per virtual account', async () => {
  const added = ok(['pak', 'add', DIR, '--virtual-account', 'lab', '--pak', 'PAK-RMS-1', '--type', 'rms', '--count', '20'])
  assert.equal([added.pak, added.virtualAccount, added.type, added.count, added.converted, added.forfeited, added.available], ['PAK-RMS-1', 'lab', 'rms', 20, 0, 0, 20])
  ok(['pak', 'add', DIR, '--virtual-account', 'lab', '--pak', 'PAK-ROOM-1', '--type', 'room', '--count', '8'])
  ok(['pak', 'add', DIR, '--virtual-account', 'other', '--pak', 'PAK-DESK-1', '--type', 'desktop', '--count', '3'])
  assert.is(owned('rms'), 0)
  assert.equal(ok(['pak', 'list', DIR, '--virtual-account', 'lab']).paks.map((p: {pak: string}) => p.pak), ['PAK-RMS-1', 'PAK-ROOM-1'])
  assert.is(ok(['pak', 'list', DIR]).paks.length, 3)
  const again = xwayJson(['license-server', 'pak', 'add', DIR, '--virtual-account', 'lab', '--pak', 'PAK-RMS-1', '--type', 'rms', '--count', '5'])
  assert.is(again.code, 3)
  assert.is(xwayJson(['license-server', 'pak', 'add', DIR, '--virtual-account', 'nope', '--pak', 'X1', '--type', 'rms', '--count', '5']).code, 4)
  assert.is(xwayJson(['license-server', 'pak', 'add', DIR, '--virtual-account', 'lab', '--pak', 'X1', '--type', 'gold', '--count', '5']).code, 2)
})

test('converting fewer than are left is refused (exit 3) quoting the known issue, and changes nothing', async () => {
  const r = xwayJson(['license-server', 'pak', 'convert', DIR, '--pak', 'PAK-RMS-1', '--quantity', '5'])
  assert.is(r.code, 3, r.stdout)
  assert.ok(r.json.error.message.includes('if you opt to convert only some licenses, the system automatically forfeits/removes the remaining licenses as well'), r.json.error.message)
  assert.ok(r.json.error.actions.some((a: string) => a.includes('--forfeit-remaining')))
  assert.is(owned('rms'), 0)
  const pak = ok(['pak', 'list', DIR, '--virtual-account', 'lab']).paks[0]
  assert.equal([pak.converted, pak.forfeited, pak.available], [0, 0, 20])
  assert.is(xwayJson(['license-server', 'pak', 'convert', DIR, '--pak', 'PAK-RMS-1', '--quantity', '21']).code, 3)
  assert.is(xwayJson(['license-server', 'pak', 'convert', DIR, '--pak', 'NO-SUCH']).code, 4)
})

test('pak convert of everything adds it to the pool; a converted PAK has nothing left', async () => {
  const r = ok(['pak', 'convert', DIR, '--pak', 'PAK-ROOM-1'])
  assert.equal([r.virtualAccount, r.converted, r.forfeited, r.pak.available, r.line.type, r.line.owned], ['lab', 8, 0, 0, 'room', 8])
  assert.is(owned('room'), 8)
  assert.is(xwayJson(['license-server', 'pak', 'convert', DIR, '--pak', 'PAK-ROOM-1']).code, 3)
})

test('--forfeit-remaining converts the quantity, removes the rest, and the event log says so (newest first)', async () => {
  const human = xway(['license-server', 'pak', 'convert', DIR, '--pak', 'PAK-RMS-1', '--quantity', '5', '--forfeit-remaining'])
  assert.is(human.code, 0, human.stdout + human.stderr)
  assert.match(human.stdout, /15 license\(s\) forfeited/)
  assert.is(owned('rms'), 5)
  const pak = ok(['pak', 'list', DIR, '--virtual-account', 'lab']).paks.find((p: {pak: string}) => p.pak === 'PAK-RMS-1')
  assert.equal([pak.count, pak.converted, pak.forfeited, pak.available], [20, 5, 15, 0])
  const log = await events(DIR, {virtualAccount: 'lab', offset: 0, limit: 2})
  assert.equal(log.events.map((e) => [e.kind, e.detail]), [
    ['pak-forfeited', {pak: 'PAK-RMS-1', type: 'rms', count: 15, reason: 'partial conversion: the licenses not converted are removed'}],
    ['pak-converted', {pak: 'PAK-RMS-1', type: 'rms', count: 5}],
  ])
  assert.ok(log.events[0]!.id > log.events[1]!.id)
})

test('events() pages the log newest first with a total, per virtual account or for the whole server', async () => {
  const all = await events(DIR, {offset: 0, limit: 1000})
  const lab = await events(DIR, {virtualAccount: 'lab', offset: 0, limit: 1000})
  assert.is(all.total, all.events.length)
  assert.ok(lab.total < all.total)
  assert.ok(lab.events.every((e) => e.virtualAccount === 'lab'))
  const second = await events(DIR, {offset: 1, limit: 2})
  assert.equal(second.events.map((e) => e.id), all.events.slice(1, 3).map((e) => e.id))
  assert.is(second.total, all.total)
  assert.equal(all.events.map((e) => e.id), [...all.events.map((e) => e.id)].sort((a, b) => b - a))
})

test('pak commands have a description, examples and --json', async () => {
  for (const cmd of ['add', 'convert', 'list']) {
    const r = xway(['license-server', 'pak', cmd, '--help'])
    assert.is(r.code, 0, cmd)
    assert.ok(r.stdout.includes('EXAMPLES') && r.stdout.includes('--json'), cmd)
  }
})

test.run()
