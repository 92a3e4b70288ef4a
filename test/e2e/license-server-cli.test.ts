import {statSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {makeConfirmationCode, makeRequestCode, makeReturnCode} from '../../src/licensing/codes.js'
import {xway, xwayJson} from '../support/run.js'
import {ownTempDir} from './license-server-helpers.js'

let temp: ReturnType<typeof ownTempDir>
let DIR: string

test.before(() => {
  temp = ownTempDir('xway-ls-cli-')
  DIR = join(temp.path, 'server')
})

test.after(() => temp?.remove())

test('init creates the database, the lab CA and the keys (0600), prints the ca.pem path; a second init is refused', async () => {
  const r = xwayJson(['license-server', 'init', DIR, '--hostname', 'licensing.lab.example'])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.equal(r.json, {dir: DIR, caPath: join(DIR, 'ca.pem')})
  for (const key of ['ca.key', 'server.key', 'reservation.key']) assert.is(statSync(join(DIR, key)).mode & 0o777, 0o600, key)
  const again = xwayJson(['license-server', 'init', DIR])
  assert.is(again.code, 3)
  assert.is(again.json.error.code, 'refused')
  const human = xway(['license-server', 'init', join(DIR, '..', 'second')])
  assert.is(human.code, 0)
  assert.ok(human.stdout.includes(join(DIR, '..', 'second', 'ca.pem')))
})

test('account create, licenses add, token create, pool and instances give the SPEC 4 JSON', async () => {
  const account = xwayJson(['license-server', 'account', 'create', DIR, '--name', 'Acme Corp', '--virtual-account', 'lab'])
  assert.is(account.code, 0, account.stdout)
  assert.equal(account.json, {smartAccount: 'Acme Corp', virtualAccount: 'lab'})
  const add = xwayJson(['license-server', 'licenses', 'add', DIR, '--virtual-account', 'lab', '--type', 'rms', '--count', '25'])
  assert.is(add.code, 0, add.stdout)
  assert.is(add.json.owned, 25)
  const token = xwayJson(['license-server', 'token', 'create', DIR, '--virtual-account', 'lab', '--expires-in', '12h', '--uses', '3', '--no-export-controlled'],
    {env: {XWAY_NOW: '2026-03-01T00:00:00Z'}})
  assert.is(token.code, 0, token.stdout)
  assert.match(token.json.token, /^[A-Za-z0-9]{64}$/)
  assert.is(token.json.expiresAt, '2026-03-01T12:00:00.000Z')
  assert.is(token.json.exportControlled, false)
  const defaults = xwayJson(['license-server', 'token', 'create', DIR, '--virtual-account', 'lab'], {env: {XWAY_NOW: '2026-03-01T00:00:00Z'}})
  assert.is(defaults.json.expiresAt, '2026-03-31T00:00:00.000Z')
  assert.is(defaults.json.uses, null)
  assert.is(defaults.json.exportControlled, true)
  const pool = xwayJson(['license-server', 'pool', DIR, '--virtual-account', 'lab'])
  assert.is(pool.code, 0)
  assert.equal(pool.json, {
    virtualAccount: 'lab',
    licenses: [
      {type: 'rms', owned: 25, inUse: 0, reserved: 0, inTransit: 0, onPrem: 0, available: 25, shortage: 0},
      {type: 'room', owned: 0, inUse: 0, reserved: 0, inTransit: 0, onPrem: 0, available: 0, shortage: 0},
      {type: 'desktop', owned: 0, inUse: 0, reserved: 0, inTransit: 0, onPrem: 0, available: 0, shortage: 0},
    ],
  })
  const list = xwayJson(['license-server', 'instances', DIR])
  assert.is(list.code, 0)
  assert.equal(list.json, {instances: []})
})

test('errors: unknown virtual account (4), bad type (2), bad duration (2), not a server folder (4)', async () => {
  assert.is(xwayJson(['license-server', 'pool', DIR, '--virtual-account', 'nope']).code, 4)
  assert.is(xwayJson(['license-server', 'licenses', 'add', DIR, '--virtual-account', 'lab', '--type', 'gold', '--count', '1']).code, 2)
  const duration = xwayJson(['license-server', 'token', 'create', DIR, '--virtual-account', 'lab', '--expires-in', 'forever'])
  assert.is(duration.code, 2)
  assert.match(duration.json.error.message, /not a duration/)
  const notServer = xwayJson(['license-server', 'pool', temp.path, '--virtual-account', 'lab'])
  assert.is(notServer.code, 4)
  assert.match(notServer.json.error.message, /not a license server folder/)
})

test('reservation authorize → confirm → instances remove with the return code, through the CLI', async () => {
  const code = makeRequestCode('EXPWY-VE-M-K9', '0A1B2C3D', 'A6rZG7jGd')
  const udi = 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D'
  const first = xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'lab', '--request-code', code, '--license', 'rms=5'])
  assert.is(first.code, 0, first.stdout)
  assert.match(first.json.authorizationCode, /^<specificPLR><authorizationCode>.*<\/specificPLR>$/)
  const update = xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'lab', '--request-code', code, '--license', 'rms=8'])
  assert.is(update.code, 0)
  let pool = xwayJson(['license-server', 'pool', DIR, '--virtual-account', 'lab']).json.licenses[0]
  assert.equal([pool.reserved, pool.inTransit, pool.available], [5, 3, 17])
  const confirm = xwayJson(['license-server', 'reservation', 'confirm', DIR, '--code', makeConfirmationCode(udi, update.json.timestamp)])
  assert.is(confirm.code, 0, confirm.stdout)
  pool = xwayJson(['license-server', 'pool', DIR, '--virtual-account', 'lab']).json.licenses[0]
  assert.equal([pool.reserved, pool.inTransit], [8, 0])
  const listed = xwayJson(['license-server', 'instances', DIR, '--virtual-account', 'lab']).json.instances
  assert.equal(listed.map((i: {udi: string; hostname: string | null}) => [i.udi, i.hostname]), [[udi, null]])
  assert.is(xwayJson(['license-server', 'instances', 'remove', DIR, udi]).code, 3)
  const removed = xwayJson(['license-server', 'instances', 'remove', DIR, udi, '--return-code', makeReturnCode(udi, update.json.timestamp)])
  assert.is(removed.code, 0, removed.stdout)
  assert.is(xwayJson(['license-server', 'pool', DIR, '--virtual-account', 'lab']).json.licenses[0].available, 25)
  const bad = xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'lab', '--request-code', code.slice(0, -1) + '0', '--plr'])
  assert.is(bad.code, 4)
})

test('every license-server command has a description, examples and --json', async () => {
  for (const cmd of [['init'], ['start'], ['account', 'create'], ['licenses', 'add'], ['token', 'create'], ['pool'], ['instances'],
    ['instances', 'remove'], ['reservation', 'authorize'], ['reservation', 'confirm']]) {
    const r = xway(['license-server', ...cmd, '--help'])
    assert.is(r.code, 0, cmd.join(' '))
    assert.ok(r.stdout.includes('EXAMPLES'), `${cmd.join(' ')} has examples`)
    assert.ok(r.stdout.includes('--json'), `${cmd.join(' ')} has --json`)
  }
})

test.run()
