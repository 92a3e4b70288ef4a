import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError, RefusedError, UsageError} from '../../src/errors.js'
import {ENTITLEMENT_TAGS, verifyAuthorizationCode} from '../../src/licensing/authorization-code.js'
import {
  formatUdi, makeConfirmationCode, makeRequestCode, makeReturnCode, parseConfirmationCode, parseRequestCode,
  parseReturnCode, piidForUdi, randomRequestNonce,
} from '../../src/licensing/codes.js'
import {
  accountCreate, init, instances, instancesRemove, licensesAdd, pool, reservationAuthorize, reservationConfirm,
} from '../../src/server/admin.js'
import {ownTempDir} from '../e2e/license-server-helpers.js'
import {BACKENDS, sharedPostgres, type Backend, type PostgresServer} from '../support/postgres.js'

// Reservations on the server: the same cases on SQLite and on PostgreSQL.

const postgres = sharedPostgres()

async function rejects(promise: Promise<unknown>, check: (e: unknown) => boolean): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.ok(check(err), String(err))
    return
  }
  assert.unreachable('expected a refusal')
}

for (const backend of BACKENDS) reservations(backend)

function reservations(backend: Backend): void {
const test = suite(`server reservations (${backend})`)
let temp: ReturnType<typeof ownTempDir>
let DIR: string
let OTHER: string
let CA: string
let OTHER_CA: string
let pg: PostgresServer | null = null

test.before(async () => {
  temp = ownTempDir(`xway-reservation-${backend}-`)
  DIR = join(temp.path, 'server')
  OTHER = join(temp.path, 'other-server')
  if (backend === 'postgres') pg = await postgres.acquire()
  await init(DIR, {database: pg ? await pg.createDatabase() : undefined})
  await init(OTHER, {database: pg ? await pg.createDatabase() : undefined})
  CA = readFileSync(join(DIR, 'ca.pem'), 'utf8')
  OTHER_CA = readFileSync(join(OTHER, 'ca.pem'), 'utf8')
  await accountCreate(DIR, {name: 'Acme', virtualAccount: 'lab'})
  await licensesAdd(DIR, {virtualAccount: 'lab', type: 'rms', count: 20})
  await licensesAdd(DIR, {virtualAccount: 'lab', type: 'room', count: 5})
  await accountCreate(OTHER, {name: 'Other', virtualAccount: 'lab'})
  await licensesAdd(OTHER, {virtualAccount: 'lab', type: 'rms', count: 20})
})

let serialCount = 0
function request(): {code: string; udi: string} {
  const serial = `R${String(++serialCount).padStart(7, '0')}`
  return {code: makeRequestCode('EXPWY-VE-M-K9', serial, randomRequestNonce()), udi: formatUdi('EXPWY-VE-M-K9', serial)}
}

const rms = async () => (await pool(DIR, {virtualAccount: 'lab'})).licenses[0]!

test.after(async () => {
  if (pg) await postgres.release()
  temp?.remove()
})

test('request codes: CB-Z<PID>:<serial>-<nonce>-<check>, parsed back, a changed character fails the check', async () => {
  const code = makeRequestCode('EXPWY-VE-M-K9', '0A1B2C3D', 'A6rZG7jGd')
  assert.match(code, /^CB-ZEXPWY-VE-M-K9:0A1B2C3D-A6rZG7jGd-[0-9A-F]{4}$/)
  assert.equal(parseRequestCode(code), {pid: 'EXPWY-VE-M-K9', serial: '0A1B2C3D', nonce: 'A6rZG7jGd', udi: 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D'})
  assert.throws(() => parseRequestCode(code.replace('0A1B', '0A1C')), (e: unknown) => e instanceof BadInputError && /check/.test((e as Error).message))
  assert.throws(() => parseRequestCode('hello'), (e: unknown) => e instanceof BadInputError)
  assert.match(randomRequestNonce(), /^[A-Za-z0-9]{9}$/)
})

test('confirmation and return codes name the instance and the code timestamp, and match only their UDI', async () => {
  const udi = 'PID:EXPWY-VE-M-K9,SN:0A1B2C3D'
  const cf = parseConfirmationCode(makeConfirmationCode(udi, 1767225600123))
  assert.is(cf.piid, piidForUdi(udi))
  assert.is(cf.timestamp, 1767225600123)
  const rt = parseReturnCode(makeReturnCode(udi, 42))
  assert.is(rt.timestamp, 42)
  assert.throws(() => parseReturnCode(makeConfirmationCode(udi, 42)), (e: unknown) => e instanceof BadInputError)
})

test('SLR: the first code reserves at once; the authorization code verifies against the lab CA and says what it grants', async () => {
  const before = (await rms()).available
  const {code, udi} = request()
  const r = await reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['rms=4', 'room=1']})
  assert.is(r.kind, 'SLR')
  assert.is(r.state, 'confirmed')
  assert.match(r.authorizationCode, /^<specificPLR><authorizationCode><flag>A<\/flag><version>C<\/version><piid>[0-9a-f-]{36}<\/piid><timestamp>\d+<\/timestamp><entitlements><entitlement><tag>/)
  assert.match(r.authorizationCode, /<\/authorizationCode><signature>[A-Za-z0-9+/=]+<\/signature><udi>PID:EXPWY-VE-M-K9,SN:R\d+<\/udi><signingCertificate>[A-Za-z0-9+/=]+<\/signingCertificate><\/specificPLR>$/)
  assert.is((await rms()).reserved - (20 - before), 4)
  const v = verifyAuthorizationCode(r.authorizationCode, [OTHER_CA, CA])
  assert.is(v.kind, 'SLR')
  assert.is(v.udi, udi)
  assert.is(v.timestamp, r.timestamp)
  assert.equal(v.entitlements.map((e) => [e.type, e.count, e.licenseType, e.endDate]), [['rms', 4, 'PERPETUAL', null], ['room', 1, 'PERPETUAL', null]])
  assert.is(v.signer.subject, 'CN=xway lab reservation signing, O=xway lab')
  const listed = (await instances(DIR, {virtualAccount: 'lab'})).instances.find((i) => i.udi === udi)!
  assert.is(listed.status, 'reserved')
  assert.equal(listed.reservation, {kind: 'SLR', state: 'confirmed'})
})

test('SLR update: new counts stay in transit until the confirmation code; an older code is refused', async () => {
  const {code, udi} = request()
  const first = await reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['rms=2']})
  const r0 = await rms()
  const second = await reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['rms=5'], until: '2099-12-31'})
  assert.is(second.state, 'in-transit')
  assert.ok(second.timestamp > first.timestamp)
  const r1 = await rms()
  assert.is(r1.reserved, r0.reserved)
  assert.is(r1.inTransit - r0.inTransit, 3)
  const v = verifyAuthorizationCode(second.authorizationCode, [CA])
  assert.is(v.entitlements[0]!.licenseType, 'TERM')
  assert.is(v.entitlements[0]!.endDate, '2099-12-31T23:59:59.000Z')
  await rejects(reservationConfirm(DIR, {code: makeConfirmationCode(udi, first.timestamp)}), (e: unknown) => e instanceof BadInputError)
  const confirmed = await reservationConfirm(DIR, {code: makeConfirmationCode(udi, second.timestamp)})
  assert.is(confirmed.alreadyConfirmed, false)
  assert.is(confirmed.reserved.rms, 5)
  const r2 = await rms()
  assert.is(r2.reserved - r0.reserved, 3)
  assert.is(r2.inTransit, r0.inTransit)
  assert.is((await reservationConfirm(DIR, {code: makeConfirmationCode(udi, second.timestamp)})).alreadyConfirmed, true)
})

test('a reservation beyond the available licenses is refused and changes nothing', async () => {
  const before = await rms()
  const {code} = request()
  await rejects(reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['rms=500']}), (e: unknown) => e instanceof RefusedError)
  assert.equal(await rms(), before)
})

test('PLR: permanentPLR with the PLR entitlement; --until and mixing with --license are usage errors', async () => {
  const {code, udi} = request()
  await rejects(reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, plr: true, until: '2099-01-01'}), (e: unknown) => e instanceof UsageError)
  await rejects(reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, plr: true, licenses: ['rms=1']}), (e: unknown) => e instanceof UsageError)
  const r = await reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, plr: true})
  assert.match(r.authorizationCode, /^<permanentPLR>.*<\/permanentPLR>$/)
  const v = verifyAuthorizationCode(r.authorizationCode, [CA])
  assert.is(v.kind, 'PLR')
  assert.is(v.udi, udi)
  assert.equal(v.entitlements.map((e) => [e.tag, e.type, e.count]), [[ENTITLEMENT_TAGS.plr, 'plr', 1]])
  await rejects(reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['rms=1']}), (e: unknown) => e instanceof RefusedError)
})

test('tampered, re-addressed, foreign and malformed authorization codes are refused (BadInputError)', async () => {
  const {code} = request()
  const xml = (await reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['rms=1']})).authorizationCode
  const refuses = (text: string, anchors: string[], pattern: RegExp): void => {
    assert.throws(() => verifyAuthorizationCode(text, anchors), (e: unknown) => e instanceof BadInputError && pattern.test((e as Error).message))
  }
  refuses(xml.replace('<count>1</count>', '<count>9</count>'), [CA], /signature does not verify/)
  refuses(xml.replace(/<udi>[^<]+<\/udi>/, '<udi>PID:EXPWY-VE-M-K9,SN:FFFFFFFF</udi>'), [CA], /does not match/)
  refuses(xml, [OTHER_CA], /Unknown CA/)
  refuses(xml, [], /Unknown CA/)
  // signed by another server's signing key: verifies only against that server's CA
  const {code: code2} = request()
  const foreign = (await reservationAuthorize(OTHER, {virtualAccount: 'lab', requestCode: code2, licenses: ['rms=1']})).authorizationCode
  refuses(foreign, [CA], /Unknown CA/)
  refuses(xml.slice(0, -5), [CA], /malformed/)
  refuses('<specificPLR>' + 'x'.repeat(70_000) + '</specificPLR>', [CA], /malformed/)
  refuses('', [CA], /malformed/)
  refuses(xml.replace('<flag>A</flag>', ''), [CA], /malformed/)
})

test('removing a reserved instance needs its return code; a wrong one is refused; the right one frees the licenses', async () => {
  const {code, udi} = request()
  const r = await reservationAuthorize(DIR, {virtualAccount: 'lab', requestCode: code, licenses: ['room=2']})
  const room = async () => (await pool(DIR, {virtualAccount: 'lab'})).licenses[1]!
  const held = (await room()).reserved
  await rejects(instancesRemove(DIR, udi), (e: unknown) => e instanceof RefusedError)
  await rejects(instancesRemove(DIR, udi, makeReturnCode('PID:EXPWY-VE-M-K9,SN:OTHER1', r.timestamp)), (e: unknown) => e instanceof BadInputError)
  await rejects(instancesRemove(DIR, udi, makeReturnCode(udi, r.timestamp + 1)), (e: unknown) => e instanceof BadInputError)
  const removed = await instancesRemove(DIR, udi, makeReturnCode(udi, r.timestamp))
  assert.is(removed.reservationReturned, true)
  assert.is(removed.released.room, 2)
  assert.is((await room()).reserved, held - 2)
  await rejects(instancesRemove(DIR, udi), (e: unknown) => e instanceof BadInputError)
})

test.run()
}
