import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {LicenseServerError, type LicenseCounts} from '../../src/licensing/protocol.js'
import {accountCreate, init, licensesAdd, pool, SERVER_FILES, tokenCreate, tokenHash} from '../../src/server/admin.js'
import {openStore, type LicenseStore} from '../../src/server/store.js'
import {BadInputError, RefusedError} from '../../src/errors.js'
import {ownTempDir} from '../e2e/license-server-helpers.js'

// One server folder for the file (init costs three RSA keys); each test uses its own virtual account.
let temp: ReturnType<typeof ownTempDir>
let DIR: string
let KEY: string
let OTHER_KEY: string
const publicPem = (): string => generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'pem'}) as string

test.before(() => {
  temp = ownTempDir('xway-store-')
  DIR = join(temp.path, 'server')
  init(DIR)
  KEY = publicPem()
  OTHER_KEY = publicPem()
})
let vaCount = 0
let serial = 0

function freshVa(licenses: Partial<LicenseCounts> = {}): string {
  const va = `va-${++vaCount}`
  accountCreate(DIR, {name: 'Acme', virtualAccount: va})
  for (const [type, count] of Object.entries(licenses)) if (count) licensesAdd(DIR, {virtualAccount: va, type, count})
  return va
}

function withStore<T>(fn: (store: LicenseStore) => T): T {
  const store = openStore(join(DIR, SERVER_FILES.db))
  try {
    return fn(store)
  } finally {
    store.close()
  }
}

const nonce = (): string => randomBytes(18).toString('base64url')
const at = (): Date => new Date()

function register(store: LicenseStore, token: string, options: {udi?: string; key?: string; force?: boolean} = {}) {
  const udi = options.udi ?? `PID:EXPWY-VE-M-K9,SN:S${String(++serial).padStart(7, '0')}`
  return store.register({
    tokenHash: tokenHash(token), udi, publicKey: options.key ?? KEY, certSerial: randomBytes(8).toString('hex'),
    product: {pid: 'EXPWY-VE-M-K9', serial: udi.split('SN:')[1]!}, hostname: 'exp', ip: '192.0.2.1', force: options.force ?? false,
    nonce: nonce(), nonceExpires: Date.now() + 60_000, at: at(),
  })
}

function usage(rms = 0, room = 0, desktop = 0): LicenseCounts {
  return {rms, room, desktop}
}

function line(va: string, type: 'rms' | 'room' | 'desktop') {
  return pool(DIR, {virtualAccount: va}).licenses.find((l) => l.type === type)!
}

function serverCode(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof LicenseServerError) return err.serverCode
    throw err
  }
  throw new Error('expected a LicenseServerError')
}

test.after(() => temp?.remove())

test('a new virtual account has a row per type, all zero, and the pool JSON shape of SPEC 4', async () => {
  const va = freshVa()
  const p = pool(DIR, {virtualAccount: va})
  assert.is(p.virtualAccount, va)
  assert.equal(p.licenses.map((l) => l.type), ['rms', 'room', 'desktop'])
  assert.equal(Object.keys(p.licenses[0]!), ['type', 'owned', 'inUse', 'reserved', 'inTransit', 'available', 'shortage'])
  assert.ok(p.licenses.every((l) => l.owned === 0 && l.available === 0))
})

test('refuses a duplicate virtual account, an unknown one, and bad counts', async () => {
  const va = freshVa()
  assert.throws(() => accountCreate(DIR, {name: 'Acme', virtualAccount: va}), (e: unknown) => e instanceof RefusedError)
  assert.throws(() => licensesAdd(DIR, {virtualAccount: 'no-such-va', type: 'rms', count: 1}), (e: unknown) => e instanceof BadInputError)
  assert.throws(() => licensesAdd(DIR, {virtualAccount: va, type: 'gold', count: 1}), (e: unknown) => e instanceof BadInputError)
  assert.throws(() => licensesAdd(DIR, {virtualAccount: va, type: 'rms', count: 0}), (e: unknown) => e instanceof BadInputError)
  assert.throws(() => tokenCreate(DIR, {virtualAccount: va, expiresIn: 'soon'}), (e: unknown) => e instanceof BadInputError)
  assert.throws(() => tokenCreate(DIR, {virtualAccount: va, expiresIn: '400d'}), (e: unknown) => e instanceof BadInputError)
})

test('grants a report whole when the pool covers it, and its allocation becomes exactly the request', async () => {
  const va = freshVa({rms: 10, desktop: 5})
  const {token} = tokenCreate(DIR, {virtualAccount: va})
  withStore((store) => {
    const {udi} = register(store, token)
    let r = store.authorize(udi, usage(4, 0, 5), nonce(), Date.now() + 60_000, at())
    assert.is(r.status, 'authorized')
    assert.equal(r.licenses.map((l) => l.granted), [4, 0, 5])
    r = store.authorize(udi, usage(2, 0, 1), nonce(), Date.now() + 60_000, at())
    assert.is(r.status, 'authorized', 'a lower report gives licenses back')
    assert.is(store.pool(va).licenses[0]!.inUse, 2)
    assert.is(store.pool(va).licenses[2]!.inUse, 1)
    r = store.authorize(udi, usage(0, 0, 0), nonce(), Date.now() + 60_000, at())
    assert.is(r.status, 'no-licenses-in-use')
    assert.ok(store.pool(va).licenses.every((l) => l.inUse === 0))
    assert.ok(store.consistency(va).ok, store.consistency(va).problems.join('; '))
  })
})

test('a report the pool cannot cover changes nothing held, is out of compliance, and counts under shortage', async () => {
  const va = freshVa({rms: 10, room: 3})
  const {token} = tokenCreate(DIR, {virtualAccount: va})
  withStore((store) => {
    const a = register(store, token).udi
    const b = register(store, token).udi
    assert.is(store.authorize(a, usage(6, 1), nonce(), Date.now() + 60_000, at()).status, 'authorized')
    // b asks 5 rms (4 available) and 1 room (2 available): whole or nothing → nothing
    const r = store.authorize(b, usage(5, 1), nonce(), Date.now() + 60_000, at())
    assert.is(r.status, 'out-of-compliance')
    assert.equal(r.licenses.map((l) => [l.requested, l.granted, l.shortage]), [[5, 0, 1], [1, 0, 0], [0, 0, 0]])
    const p = store.pool(va)
    assert.equal(p.licenses[0], {type: 'rms', owned: 10, inUse: 6, reserved: 0, inTransit: 0, available: 4, shortage: 1})
    assert.is(p.licenses[1]!.inUse, 1, 'the covered type was not granted either')
    // a's own holdings count: it may grow into what is available plus what it holds
    assert.is(store.authorize(a, usage(10, 3), nonce(), Date.now() + 60_000, at()).status, 'authorized')
    // b still short until its next report; then it fits once a gives back
    assert.is(store.authorize(a, usage(0, 0), nonce(), Date.now() + 60_000, at()).status, 'no-licenses-in-use')
    assert.is(store.authorize(b, usage(5, 1), nonce(), Date.now() + 60_000, at()).status, 'authorized')
    assert.is(store.pool(va).licenses[0]!.shortage, 0)
    assert.ok(store.consistency(va).ok)
  })
})

test('an instance already holding licenses keeps them when its larger report is refused', async () => {
  const va = freshVa({rms: 5})
  const {token} = tokenCreate(DIR, {virtualAccount: va})
  withStore((store) => {
    const a = register(store, token).udi
    store.authorize(a, usage(3), nonce(), Date.now() + 60_000, at())
    const r = store.authorize(a, usage(9), nonce(), Date.now() + 60_000, at())
    assert.is(r.status, 'out-of-compliance')
    assert.is(r.licenses[0]!.granted, 3)
    assert.is(r.licenses[0]!.shortage, 4)
    assert.is(line(va, 'rms').inUse, 3)
    assert.is(line(va, 'rms').shortage, 4)
  })
})

test('token errors: invalid, expired, used up; uses are counted in the registering transaction', async () => {
  const va = freshVa({rms: 1})
  const once = tokenCreate(DIR, {virtualAccount: va, uses: 1})
  withStore((store) => {
    assert.is(serverCode(() => register(store, 'not-a-token')), 'token-invalid')
    register(store, once.token)
    assert.is(serverCode(() => register(store, once.token)), 'token-used-up')
  })
  const past = tokenCreate(DIR, {virtualAccount: va, expiresIn: '1h'})
  withStore((store) => {
    const later = new Date(Date.now() + 2 * 3600_000)
    assert.is(serverCode(() => store.checkToken(tokenHash(past.token), later)), 'token-expired')
  })
})

test('export control follows the token', async () => {
  const va = freshVa()
  const allowed = tokenCreate(DIR, {virtualAccount: va})
  const notAllowed = tokenCreate(DIR, {virtualAccount: va, exportControlled: false})
  withStore((store) => {
    assert.is(register(store, allowed.token).exportControlled, 'Allowed')
    assert.is(register(store, notAllowed.token).exportControlled, 'Not Allowed')
  })
})

test('a registered UDI needs force under another key; force may move it to another virtual account and releases its licenses', async () => {
  const va1 = freshVa({rms: 4})
  const va2 = freshVa({rms: 4})
  const t1 = tokenCreate(DIR, {virtualAccount: va1}).token
  const t2 = tokenCreate(DIR, {virtualAccount: va2}).token
  withStore((store) => {
    const {udi} = register(store, t1)
    store.authorize(udi, usage(3), nonce(), Date.now() + 60_000, at())
    assert.is(serverCode(() => register(store, t2, {udi, key: OTHER_KEY})), 'already-registered')
    // the same key again is a retry of the same instance, not a second one
    assert.is(register(store, t1, {udi}).reregistered, true)
    store.authorize(udi, usage(3), nonce(), Date.now() + 60_000, at())
    const moved = register(store, t2, {udi, key: OTHER_KEY, force: true})
    assert.is(moved.virtualAccount, va2)
    assert.is(moved.reregistered, true)
    assert.is(store.pool(va1).licenses[0]!.inUse, 0)
    assert.equal(store.instances(va1), [])
    assert.is(store.instances(va2)[0]!.udi, udi)
    assert.ok(store.consistency(va1).ok && store.consistency(va2).ok)
  })
})

test('a nonce is accepted once per instance (replay refused), and the refused request changes nothing', async () => {
  const va = freshVa({rms: 5})
  const {token} = tokenCreate(DIR, {virtualAccount: va})
  withStore((store) => {
    const {udi} = register(store, token)
    const n = nonce()
    store.authorize(udi, usage(1), n, Date.now() + 60_000, at())
    assert.is(serverCode(() => store.authorize(udi, usage(5), n, Date.now() + 60_000, at())), 'replayed')
    assert.is(store.pool(va).licenses[0]!.inUse, 1)
    assert.is(store.pruneNonces(Date.now() + 120_000) > 0, true)
  })
})

test('deregister releases everything; an unknown instance is refused', async () => {
  const va = freshVa({room: 2})
  const {token} = tokenCreate(DIR, {virtualAccount: va})
  withStore((store) => {
    const {udi} = register(store, token)
    store.authorize(udi, usage(0, 2), nonce(), Date.now() + 60_000, at())
    assert.equal(store.deregister(udi, nonce(), Date.now() + 60_000, at()), {rms: 0, room: 2, desktop: 0})
    assert.is(store.pool(va).licenses[1]!.available, 2)
    assert.is(serverCode(() => store.ping(udi, nonce(), Date.now() + 60_000, at())), 'unknown-instance')
  })
})

test('the database refuses over-allocation even when code would try it (CHECK constraints)', async () => {
  const va = freshVa({rms: 2})
  withStore((store) => {
    assert.throws(() => store.db.prepare('UPDATE licenses SET in_use = 3 WHERE va = ? AND type = ?').run(va, 'rms'), /CHECK constraint/)
    assert.throws(() => store.db.prepare('UPDATE licenses SET in_use = -1 WHERE va = ? AND type = ?').run(va, 'rms'), /CHECK constraint/)
    assert.is(store.pool(va).licenses[0]!.inUse, 0)
  })
})

test('the store runs in WAL mode with full sync and a busy timeout', async () => {
  withStore((store) => {
    assert.is(store.db.pragma('journal_mode', {simple: true}), 'wal')
    assert.is(store.db.pragma('synchronous', {simple: true}), 2)
    assert.ok(Number(store.db.pragma('busy_timeout', {simple: true})) >= 1000)
  })
})

test.run()
