import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {LicenseServerError} from '../../src/licensing/protocol.js'
import {accountCreate, databaseOf, init, tokenCreate, tokenHash} from '../../src/server/admin.js'
import {PostgresDatabase} from '../../src/server/postgres.js'
import {RegistrationBatcher} from '../../src/server/registration-batch.js'
import type {SqlDatabase, SqlRunner, TransactionOptions} from '../../src/server/sql.js'
import {openStore, type LicenseStore, type RegistrationInput} from '../../src/server/store.js'
import {ownTempDir} from '../e2e/license-server-helpers.js'
import {sharedPostgres, type PostgresServer} from '../support/postgres.js'

// On PostgreSQL, registrations that arrive while one statement is in flight go together in the
// next: fewer statements than registrations, each registration still made (or judged) alone.

const postgres = sharedPostgres()
const KEY = generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'pem'}) as string
let temp: ReturnType<typeof ownTempDir>
let pg: PostgresServer
let dir: string
let url: string
let store: LicenseStore
let serial = 0

test.before(async () => {
  temp = ownTempDir('xway-batch-')
  pg = await postgres.acquire()
  dir = join(temp.path, 'server')
  await init(dir, {database: await pg.createDatabase()})
  const config = databaseOf(dir)
  url = config.kind === 'postgres' ? config.url : ''
  store = await openStore(config)
})

test.after(async () => {
  await store?.close()
  await postgres.release()
  temp?.remove()
})

function input(token: string, overrides: Partial<RegistrationInput> = {}): RegistrationInput {
  const sn = `B${String(++serial).padStart(7, '0')}`
  return {
    tokenHash: tokenHash(token), udi: `PID:EXPWY-VE-M-K9,SN:${sn}`, publicKey: KEY, certSerial: randomBytes(8).toString('hex'),
    product: {pid: 'EXPWY-VE-M-K9', serial: sn}, hostname: 'exp', ip: '192.0.2.1', force: false, at: new Date(), ...overrides,
  }
}

/** The database, counting the statements sent. */
function counting(db: PostgresDatabase): {db: SqlDatabase; statements: () => number} {
  let n = 0
  const wrapped = Object.create(db) as SqlDatabase
  wrapped.transaction = <T>(fn: (q: SqlRunner) => Promise<T>, options?: TransactionOptions) => {
    n++
    return db.transaction(fn, options)
  }
  return {db: wrapped, statements: () => n}
}

test('40 registrations at once take a few statements, and each is made', async () => {
  await accountCreate(dir, {name: 'Acme', virtualAccount: 'batch'})
  const {token} = await tokenCreate(dir, {virtualAccount: 'batch'})
  const db = new PostgresDatabase(url)
  try {
    const {db: counted, statements} = counting(db)
    const batcher = new RegistrationBatcher(counted)
    const inputs = Array.from({length: 40}, () => input(token))
    const made = await Promise.all(inputs.map((i) => batcher.register(i)))
    assert.ok(made.every((m) => m?.va === 'batch' && m.smartAccount === 'Acme'), JSON.stringify(made))
    assert.ok(statements() <= 3, `${statements()} statements for 40 registrations`)
    const listed = new Set((await store.instances('batch')).map((i) => i.udi))
    assert.ok(inputs.every((i) => listed.has(i.udi)))
    // a known UDI and a bad token are not made by the shared statement: the store's transaction judges them
    const again = await Promise.all([batcher.register(inputs[0]!), batcher.register(input('no-such-token')), batcher.register(input(token))])
    assert.is(again[0], undefined)
    assert.is(again[1], undefined)
    assert.is(again[2]?.va, 'batch')
  } finally {
    await db.close()
  }
})

test('a statement that fails leaves its registrations to the transaction: the good ones are made, the bad one fails alone', async () => {
  await accountCreate(dir, {name: 'Acme', virtualAccount: 'batch-2'})
  const {token} = await tokenCreate(dir, {virtualAccount: 'batch-2'})
  // PostgreSQL text holds no NUL: this one breaks the statement it is in
  const inputs = [...Array.from({length: 9}, () => input(token)), input(token, {hostname: 'bad\u0000name'})]
  const outcomes = await Promise.allSettled(inputs.map((i) => store.register(i)))
  assert.equal(outcomes.slice(0, 9).map((o) => o.status), Array(9).fill('fulfilled'))
  assert.is(outcomes[9]!.status, 'rejected')
  assert.not.instance((outcomes[9] as PromiseRejectedResult).reason, LicenseServerError)
  assert.is((await store.instances('batch-2')).length, 9)
})

test.run()
