import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {ENTITLEMENT_TAGS} from '../../src/licensing/authorization-code.js'
import {makeRequestCode} from '../../src/licensing/codes.js'
import {accounts} from '../../src/server/admin.js'
import {xwayJson} from '../support/run.js'
import {adminOk, ownTempDir} from './license-server-helpers.js'

// SPEC 10 "Export-control permission": a smart account created with --no-export-control has
// tokens that are always "Not Allowed" and reservations without Advanced Account Security; an
// SLR of 0 of every type is refused for every account (Cisco: "do not choose 0").

let temp: ReturnType<typeof ownTempDir>
let DIR: string

const ok = adminOk

function pool(va: string): unknown {
  return ok(['pool', DIR, '--virtual-account', va])
}

test.before(() => {
  temp = ownTempDir('xway-ls-ec-')
  DIR = join(temp.path, 'server')
  ok(['init', DIR])
  ok(['account', 'create', DIR, '--name', 'Open Corp', '--virtual-account', 'open'])
  assert.equal(ok(['account', 'create', DIR, '--name', 'Closed Corp', '--virtual-account', 'closed', '--no-export-control']),
    {smartAccount: 'Closed Corp', virtualAccount: 'closed'})
  for (const va of ['open', 'closed']) ok(['licenses', 'add', DIR, '--virtual-account', va, '--type', 'rms', '--count', '10'])
})

test.after(() => temp?.remove())

test('the permission is kept per smart account and read back by accounts()', async () => {
  const listed = (await accounts(DIR)).accounts.map((a) => [a.smartAccount, a.virtualAccount, a.exportControl])
  assert.equal(listed, [['Closed Corp', 'closed', false], ['Open Corp', 'open', true]])
  // a second virtual account of a smart account cannot claim the other permission
  const mismatch = xwayJson(['license-server', 'account', 'create', DIR, '--name', 'Closed Corp', '--virtual-account', 'closed2'])
  assert.is(mismatch.code, 3, mismatch.stdout)
  assert.match(mismatch.json.error.message, /not permitted export-controlled functionality/)
  assert.is((await accounts(DIR)).accounts.length, 2)
  ok(['account', 'create', DIR, '--name', 'Closed Corp', '--virtual-account', 'closed2', '--no-export-control'])
})

test('token create asking for export control on a non-permitted account is refused (exit 3); --no-export-controlled gives Not Allowed', async () => {
  const refused = xwayJson(['license-server', 'token', 'create', DIR, '--virtual-account', 'closed'])
  assert.is(refused.code, 3, refused.stdout)
  assert.is(refused.json.error.code, 'refused')
  assert.match(refused.json.error.message, /always "Not Allowed"/)
  assert.ok(refused.json.error.actions.some((a: string) => a.includes('--no-export-controlled')))
  const allowedElsewhere = ok(['token', 'create', DIR, '--virtual-account', 'open'])
  assert.is(allowedElsewhere.exportControlled, true)
  const notAllowed = ok(['token', 'create', DIR, '--virtual-account', 'closed', '--no-export-controlled'])
  assert.is(notAllowed.exportControlled, false)
})

test('an SLR with Advanced Account Security: in the code for a permitted account, refused (exit 3, nothing reserved) for one not permitted', async () => {
  const open = makeRequestCode('EXPWY-VE-M-K9', '0A1B2C3D', 'A6rZG7jGd')
  const granted = ok(['reservation', 'authorize', DIR, '--virtual-account', 'open', '--request-code', open, '--license', 'rms=2', '--advanced-account-security'])
  assert.ok(granted.authorizationCode.includes(ENTITLEMENT_TAGS.aas), 'the AAS entitlement is in the code')
  const plain = makeRequestCode('EXPWY-VE-M-K9', '0A1B2C3E', 'A6rZG7jGd')
  const withoutAas = ok(['reservation', 'authorize', DIR, '--virtual-account', 'open', '--request-code', plain, '--license', 'rms=1'])
  assert.not.ok(withoutAas.authorizationCode.includes(ENTITLEMENT_TAGS.aas))

  const closed = makeRequestCode('EXPWY-VE-M-K9', '0B1B2C3D', 'A6rZG7jGd')
  const before = pool('closed')
  const refused = xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', 'closed', '--request-code', closed, '--license', 'rms=2', '--advanced-account-security'])
  assert.is(refused.code, 3, refused.stdout)
  assert.match(refused.json.error.message, /Advanced Account Security/)
  assert.equal(pool('closed'), before)
  // the same SLR without it is fine
  const fine = ok(['reservation', 'authorize', DIR, '--virtual-account', 'closed', '--request-code', closed, '--license', 'rms=2'])
  assert.not.ok(fine.authorizationCode.includes(ENTITLEMENT_TAGS.aas))
})

test('an SLR that would reserve 0 of every type is refused (exit 3) quoting "Make sure that you do not choose 0", and reserves nothing', async () => {
  const code = makeRequestCode('EXPWY-VE-M-K9', '0C1B2C3D', 'A6rZG7jGd')
  for (const va of ['open', 'closed']) {
    const before = pool(va)
    const r = xwayJson(['license-server', 'reservation', 'authorize', DIR, '--virtual-account', va, '--request-code', code, '--license', 'rms=0', '--license', 'room=0'])
    assert.is(r.code, 3, r.stdout)
    assert.ok(r.json.error.message.includes('Make sure that you do not choose 0'), r.json.error.message)
    assert.equal(pool(va), before)
  }
})

test.run()
