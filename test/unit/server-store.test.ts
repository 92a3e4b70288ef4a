import {spawn, spawnSync} from 'node:child_process'
import {generateKeyPairSync, randomBytes} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import Database from 'better-sqlite3'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError, RefusedError} from '../../src/errors.js'
import type {LicenseCounts} from '../../src/licensing/license-types.js'
import {LicenseServerError} from '../../src/licensing/protocol.js'
import {accountCreate, databaseOf, init, licensesAdd, pakAdd, pool, reservationAuthorize, tokenCreate, tokenHash} from '../../src/server/admin.js'
import {makeRequestCode} from '../../src/licensing/codes.js'
import {migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersionOf} from '../../src/server/migrations.js'
import {PostgresDatabase} from '../../src/server/postgres.js'
import type {SqlDatabase} from '../../src/server/sql.js'
import {SqliteDatabase} from '../../src/server/sqlite.js'
import {openStore, type DatabaseConfig, type LicenseStore, type Requester} from '../../src/server/store.js'
import {ownTempDir} from '../e2e/license-server-helpers.js'
import {BACKENDS, sharedPostgres, type Backend, type PostgresServer} from '../support/postgres.js'
import {hasCommand, ROOT} from '../support/run.js'

// The store contract: the same cases against SQLite and against PostgreSQL. One server folder
// per backend (init costs three RSA keys); each case uses its own virtual account.

const postgres = sharedPostgres()
const publicPem = (): string => generateKeyPairSync('rsa', {modulusLength: 2048}).publicKey.export({type: 'spki', format: 'pem'}) as string
const KEY = publicPem()
const OTHER_KEY = publicPem()
const at = (): Date => new Date()
const usage = (rms = 0, room = 0, desktop = 0): LicenseCounts => ({rms, room, desktop})

async function serverCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (err instanceof LicenseServerError) return err.serverCode
    throw err
  }
  throw new Error('expected a LicenseServerError')
}

async function rejects(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
  try {
    await promise
  } catch (err) {
    assert.instance(err, type)
    return
  }
  assert.unreachable(`expected ${type.name}`)
}

for (const backend of BACKENDS) contract(backend)
migrations('sqlite')
migrations('postgres')

function contract(backend: Backend): void {
  const it = suite(`license store contract (${backend})`)
  let temp: ReturnType<typeof ownTempDir>
  let DIR: string
  let pg: PostgresServer | null = null
  let store: LicenseStore
  let vaCount = 0
  let serial = 0

  it.before(async () => {
    temp = ownTempDir(`xway-store-${backend}-`)
    DIR = join(temp.path, 'server')
    if (backend === 'postgres') pg = await postgres.acquire()
    await init(DIR, {database: pg ? await pg.createDatabase() : undefined})
    store = await openStore(databaseOf(DIR))
  })

  it.after(async () => {
    await store?.close()
    if (pg) await postgres.release()
    temp?.remove()
  })

  const freshVa = async (licenses: Partial<LicenseCounts> = {}): Promise<string> => {
    const va = `va-${++vaCount}`
    await accountCreate(DIR, {name: 'Acme', virtualAccount: va})
    for (const [type, count] of Object.entries(licenses)) if (count) await licensesAdd(DIR, {virtualAccount: va, type, count})
    return va
  }

  const register = async (token: string, options: {udi?: string; key?: string; force?: boolean} = {}): Promise<Requester & {exportControlled: string; virtualAccount: string; reregistered: boolean}> => {
    const udi = options.udi ?? `PID:EXPWY-VE-M-K9,SN:S${String(++serial).padStart(7, '0')}`
    const key = options.key ?? KEY
    const r = await store.register({
      tokenHash: tokenHash(token), udi, publicKey: key, certSerial: randomBytes(8).toString('hex'),
      product: {pid: 'EXPWY-VE-M-K9', serial: udi.split('SN:')[1]!}, hostname: 'exp', ip: '192.0.2.1', force: options.force ?? false, at: at(),
    })
    return {udi, publicKey: key, exportControlled: r.exportControlled, virtualAccount: r.virtualAccount, reregistered: r.reregistered}
  }

  const line = async (va: string, type: 'rms' | 'room' | 'desktop') => (await store.pool(va)).licenses.find((l) => l.type === type)!
  const consistent = async (va: string): Promise<void> => {
    const c = await store.consistency(va)
    assert.ok(c.ok, c.problems.join('; '))
  }

  it('is the backend it was initialised with, at the current schema version', async () => {
    assert.is(store.kind, backend)
    assert.is(await store.schemaVersion(), SCHEMA_VERSION)
  })

  it('a new virtual account has a row per type, all zero, and the pool JSON shape of SPEC 4', async () => {
    const va = await freshVa()
    const p = await pool(DIR, {virtualAccount: va})
    assert.is(p.virtualAccount, va)
    assert.equal(p.licenses.map((l) => l.type), ['rms', 'room', 'desktop'])
    assert.equal(Object.keys(p.licenses[0]!), ['type', 'owned', 'inUse', 'reserved', 'inTransit', 'onPrem', 'available', 'shortage'])
    assert.ok(p.licenses.every((l) => l.owned === 0 && l.available === 0))
  })

  it('refuses a duplicate virtual account, an unknown one, and bad counts', async () => {
    const va = await freshVa()
    await rejects(accountCreate(DIR, {name: 'Acme', virtualAccount: va}), RefusedError)
    await rejects(licensesAdd(DIR, {virtualAccount: 'no-such-va', type: 'rms', count: 1}), BadInputError)
    await rejects(licensesAdd(DIR, {virtualAccount: va, type: 'gold', count: 1}), BadInputError)
    await rejects(licensesAdd(DIR, {virtualAccount: va, type: 'rms', count: 0}), BadInputError)
    await rejects(tokenCreate(DIR, {virtualAccount: va, expiresIn: 'soon'}), BadInputError)
    await rejects(tokenCreate(DIR, {virtualAccount: va, expiresIn: '400d'}), BadInputError)
  })

  it('grants a report the pool covers: the allocation becomes exactly the request, a lower one gives back', async () => {
    const va = await freshVa({rms: 10, desktop: 5})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const a = await register(token)
    let r = await store.authorize(a, usage(4, 0, 5), at())
    assert.is(r.status, 'authorized')
    assert.equal(r.licenses.map((l) => [l.granted, l.status]), [[4, 'authorized'], [0, 'no-licenses-in-use'], [5, 'authorized']])
    r = await store.authorize(a, usage(2, 0, 1), at())
    assert.is(r.status, 'authorized')
    assert.is((await line(va, 'rms')).inUse, 2)
    assert.is((await line(va, 'desktop')).inUse, 1)
    r = await store.authorize(a, usage(0, 0, 0), at())
    assert.is(r.status, 'no-licenses-in-use')
    assert.ok((await store.pool(va)).licenses.every((l) => l.inUse === 0))
    await consistent(va)
  })

  it('grants per type: Room is Authorized while RMS, which the pool cannot cover, is Out of compliance and counts under shortage', async () => {
    const va = await freshVa({rms: 10, room: 3})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const a = await register(token)
    const b = await register(token)
    assert.is((await store.authorize(a, usage(6, 1), at())).status, 'authorized')
    // b asks 5 rms (4 available) and 1 room (2 available)
    const r = await store.authorize(b, usage(5, 1), at())
    assert.is(r.status, 'out-of-compliance')
    assert.equal(r.licenses.map((l) => [l.type, l.requested, l.granted, l.shortage, l.status]), [
      ['rms', 5, 0, 1, 'out-of-compliance'], ['room', 1, 1, 0, 'authorized'], ['desktop', 0, 0, 0, 'no-licenses-in-use'],
    ])
    assert.equal(await line(va, 'rms'), {type: 'rms', owned: 10, inUse: 6, reserved: 0, inTransit: 0, onPrem: 0, available: 4, shortage: 1})
    assert.equal(await line(va, 'room'), {type: 'room', owned: 3, inUse: 2, reserved: 0, inTransit: 0, onPrem: 0, available: 1, shortage: 0})
    const listed = (await store.instances(va)).find((i) => i.udi === b.udi)!
    assert.equal([listed.status, listed.licenses], ['out-of-compliance', {rms: 0, room: 1, desktop: 0}])
    // once a gives rms back, b's next report fits
    assert.is((await store.authorize(a, usage(0, 1), at())).status, 'authorized')
    assert.is((await store.authorize(b, usage(5, 1), at())).status, 'authorized')
    assert.is((await line(va, 'rms')).shortage, 0)
    await consistent(va)
  })

  it('a shortage leaves the pool as soon as its instance no longer asks for it: a lower report, deregistration, removal, reregistration', async () => {
    const va = await freshVa({rms: 2, room: 5})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const [a, b, c, d] = [await register(token), await register(token), await register(token), await register(token)]
    for (const x of [a, b, c, d]) await store.authorize(x, usage(3, 1), at())
    // each asks 3 rms of 2 available: each is short of 1 (and gets none: a short type keeps what it held)
    const shortNow = async (): Promise<number> => (await line(va, 'rms')).shortage
    assert.is(await shortNow(), 4)
    assert.is((await line(va, 'room')).inUse, 4)
    // a no longer asks for rms: its shortage leaves at once, its room stays granted
    const lower = await store.authorize(a, usage(0, 1), at())
    assert.equal(lower.licenses.map((l) => [l.type, l.granted, l.shortage]), [['rms', 0, 0], ['room', 1, 0], ['desktop', 0, 0]])
    assert.is(lower.status, 'authorized')
    assert.is(await shortNow(), 3)
    await store.deregister(b, at())
    assert.is(await shortNow(), 2)
    await store.removeInstance(c.udi, at(), () => undefined)
    assert.is(await shortNow(), 1)
    await register(token, {udi: d.udi})
    assert.is(await shortNow(), 0)
    await consistent(va)
  })

  it('an instance keeps what it held of a type when its larger report of that type is short', async () => {
    const va = await freshVa({rms: 5})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const a = await register(token)
    await store.authorize(a, usage(3), at())
    const r = await store.authorize(a, usage(9), at())
    assert.is(r.status, 'out-of-compliance')
    assert.equal([r.licenses[0]!.granted, r.licenses[0]!.shortage], [3, 4])
    assert.equal([(await line(va, 'rms')).inUse, (await line(va, 'rms')).shortage], [3, 4])
  })

  it('token errors: invalid, expired, used up; uses are counted in the registering transaction', async () => {
    const va = await freshVa({rms: 1})
    const once = await tokenCreate(DIR, {virtualAccount: va, uses: 1})
    assert.is(await serverCode(register('not-a-token')), 'token-invalid')
    await register(once.token)
    assert.is(await serverCode(register(once.token)), 'token-used-up')
    const past = await tokenCreate(DIR, {virtualAccount: va, expiresIn: '1h'})
    assert.is(await serverCode(store.checkToken(tokenHash(past.token), new Date(Date.now() + 2 * 3600_000))), 'token-expired')
  })

  /** Rows of a query straight on the database (SQLite file or PostgreSQL), beside the store. */
  const raw = async <T>(sql: string, params: unknown[] = []): Promise<T[]> => {
    if (backend === 'sqlite') {
      const db = new Database(join(DIR, 'server.db'), {readonly: true})
      try {
        return db.prepare(sql).all(...params) as T[]
      } finally {
        db.close()
      }
    }
    const url = new URL((databaseOf(DIR) as Extract<DatabaseConfig, {kind: 'postgres'}>).url)
    let n = 0
    return pg!.query<T>(url.pathname.slice(1), sql.replace(/\?/g, () => `$${++n}`), params)
  }

  it('a registration stores the instance and logs an event naming its token; a second one with the same key is a reregistration', async () => {
    const va = await freshVa({rms: 2})
    const {token} = await tokenCreate(DIR, {virtualAccount: va, exportControlled: false})
    const a = await register(token)
    assert.equal([a.virtualAccount, a.exportControlled, a.reregistered], [va, 'Not Allowed', false])
    const listed = (await store.instances(va))[0]!
    assert.equal([listed.udi, listed.hostname, listed.status, listed.exportControlled], [a.udi, 'exp', 'registered', 'Not Allowed'])
    assert.is((await store.identity(a.udi))!.publicKey, KEY)
    const tokenId = (await raw<{id: string}>('SELECT id FROM tokens WHERE hash = ?', [tokenHash(token)]))[0]!.id
    const events = await raw<{kind: string; va: string; detail: string}>('SELECT kind, va, detail FROM events WHERE udi = ? ORDER BY id', [a.udi])
    assert.equal(events.map((e) => [e.kind, e.va, JSON.parse(e.detail).token, JSON.parse(e.detail).hostname]), [['registered', va, tokenId, 'exp']])
    assert.is((await store.authorize(a, usage(2), at())).status, 'authorized')
    const again = await register(token, {udi: a.udi})
    assert.is(again.reregistered, true)
    assert.is((await line(va, 'rms')).inUse, 0, 'a reregistration releases what it held')
    assert.is(await serverCode(register(token, {udi: a.udi, key: OTHER_KEY})), 'already-registered')
    assert.equal((await raw<{kind: string}>('SELECT kind FROM events WHERE udi = ? ORDER BY id', [a.udi])).map((e) => e.kind), ['registered', 'authorization', 'reregistered'])
    await consistent(va)
  })

  it('export control follows the token', async () => {
    const va = await freshVa()
    const allowed = await tokenCreate(DIR, {virtualAccount: va})
    const notAllowed = await tokenCreate(DIR, {virtualAccount: va, exportControlled: false})
    assert.is((await register(allowed.token)).exportControlled, 'Allowed')
    assert.is((await register(notAllowed.token)).exportControlled, 'Not Allowed')
  })

  it('a registered UDI needs force under another key; force may move it to another virtual account and releases its licenses', async () => {
    const va1 = await freshVa({rms: 4})
    const va2 = await freshVa({rms: 4})
    const t1 = (await tokenCreate(DIR, {virtualAccount: va1})).token
    const t2 = (await tokenCreate(DIR, {virtualAccount: va2})).token
    const first = await register(t1)
    await store.authorize(first, usage(3), at())
    assert.is(await serverCode(register(t2, {udi: first.udi, key: OTHER_KEY})), 'already-registered')
    // the same key again is a retry of the same instance, not a second one
    assert.is((await register(t1, {udi: first.udi})).reregistered, true)
    await store.authorize(first, usage(3), at())
    const moved = await register(t2, {udi: first.udi, key: OTHER_KEY, force: true})
    assert.is(moved.virtualAccount, va2)
    assert.is(moved.reregistered, true)
    assert.is((await line(va1, 'rms')).inUse, 0)
    assert.equal(await store.instances(va1), [])
    assert.is((await store.instances(va2))[0]!.udi, first.udi)
    // the old key no longer speaks for the UDI
    assert.is(await serverCode(store.ping(first, at())), 'unknown-instance')
    assert.is((await store.ping(moved, at())).va, va2)
    await consistent(va1)
    await consistent(va2)
  })

  it('deregister releases everything; an unknown instance is refused', async () => {
    const va = await freshVa({room: 2})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const a = await register(token)
    await store.authorize(a, usage(0, 2), at())
    assert.equal(await store.deregister(a, at()), {rms: 0, room: 2, desktop: 0})
    assert.is((await line(va, 'room')).available, 2)
    assert.is(await serverCode(store.ping(a, at())), 'unknown-instance')
    assert.is(await store.identity(a.udi), null)
  })

  it('50 concurrent reports against a short pool: never over-allocated, never negative, counters match', async () => {
    const va = await freshVa({rms: 30, room: 10})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const instances = await Promise.all(Array.from({length: 50}, () => register(token)))
    const replies = await Promise.all(instances.map((x, i) => store.authorize(x, usage(1 + (i % 3), i % 2), at())))
    const granted = replies.reduce((sum, r) => sum + r.licenses[0]!.granted, 0)
    const rms = await line(va, 'rms')
    assert.is(rms.inUse, granted)
    assert.ok(rms.inUse <= rms.owned && rms.inUse > 25, `inUse ${rms.inUse}`)
    assert.ok(replies.some((r) => r.licenses[0]!.status === 'out-of-compliance'))
    // and all give back at once
    await Promise.all(instances.map((x) => store.authorize(x, usage(), at())))
    assert.equal(((await store.pool(va)).licenses.map((l) => [l.inUse, l.shortage])), [[0, 0], [0, 0], [0, 0]])
    await consistent(va)
  })

  it('20 registrations at once with a token for 5 uses: exactly 5 succeed; a bad token among them fails alone', async () => {
    const va = await freshVa()
    const limited = await tokenCreate(DIR, {virtualAccount: va, uses: 5})
    const outcomes = await Promise.allSettled([
      ...Array.from({length: 20}, () => register(limited.token)),
      register('no-such-token'),
    ])
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'registered' : (o.reason as LicenseServerError).serverCode))
    assert.is(codes.filter((c) => c === 'registered').length, 5)
    assert.is(codes.filter((c) => c === 'token-used-up').length, 15)
    assert.is(codes.at(-1), 'token-invalid')
    assert.is((await store.instances(va)).length, 5)
    assert.is(await serverCode(store.checkToken(tokenHash(limited.token), at())), 'token-used-up')
  })

  it('30 registrations at once with an unlimited token: each stored once with its event; a UDI twice among them is registered once; bad tokens fail alone', async () => {
    const va = await freshVa()
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    const twice = `PID:EXPWY-VE-M-K9,SN:T${String(++serial).padStart(7, '0')}`
    const outcomes = await Promise.allSettled([
      ...Array.from({length: 30}, () => register(token)),
      register(token, {udi: twice, key: KEY}),
      register(token, {udi: twice, key: OTHER_KEY}),
      register('no-such-token'),
    ])
    const codes = outcomes.map((o) => (o.status === 'fulfilled' ? 'registered' : (o.reason as LicenseServerError).serverCode))
    assert.equal(codes.slice(0, 30), Array(30).fill('registered'))
    // the first of the two is registered, the second (another key, no force) refused
    assert.equal(codes.slice(30), ['registered', 'already-registered', 'token-invalid'])
    const listed = await store.instances(va)
    assert.is(listed.length, 31)
    assert.is(new Set(listed.map((i) => i.udi)).size, 31)
    const registered = (await store.events({va, offset: 0, limit: 100})).events.filter((e) => e.kind === 'registered')
    assert.is(registered.length, 31)
    assert.equal(new Set(registered.map((e) => e.udi)), new Set(listed.map((i) => i.udi)))
    assert.is((await store.identity(twice))?.publicKey, KEY)
  })

  it('pages of tokens, PAKs and product instances, cut by the database, are the lists cut in order, with their totals', async () => {
    const va = await freshVa({rms: 20})
    const {token} = await tokenCreate(DIR, {virtualAccount: va})
    for (let i = 0; i < 6; i++) await tokenCreate(DIR, {virtualAccount: va, description: `t${i}`})
    // PAK ids whose order differs between code points and a linguistic collation
    for (const pak of ['b-2', 'B-1', 'a-3', 'A-4', 'z']) await pakAdd(DIR, {virtualAccount: va, pak: `${pak}-${va}`, type: 'rms', count: 1})
    for (const sn of ['b', 'A', 'a', 'B']) await register(token, {udi: `PID:EXPWY-VE-M-K9,SN:${sn}${va.toUpperCase()}`})
    // reservations without a registered instance are listed after the registered ones
    for (const serial of ['R1', 'R2']) {
      await reservationAuthorize(DIR, {virtualAccount: va, requestCode: makeRequestCode('EXPWY-VE-M-K9', `${serial}${vaCount}`, 'Q6rZG7jGd'), licenses: ['rms=1']})
    }
    const all = {tokens: await store.tokens(va), paks: await store.paks(va), instances: await store.instances(va)}
    assert.is(all.instances.length, 6)
    assert.equal(all.instances.slice(4).map((i) => i.status), ['reserved', 'reserved'])
    for (const size of [1, 2, 4, 50]) {
      const pages = {tokens: [] as unknown[], paks: [] as unknown[], instances: [] as unknown[]}
      for (let offset = 0; offset < 10; offset += size) {
        const t = await store.tokenPage(va, offset, size)
        const p = await store.pakPage(va, offset, size)
        const i = await store.instancePage(va, offset, size)
        assert.equal([t.total, p.total, i.total], [7, 5, 6])
        pages.tokens.push(...t.tokens)
        pages.paks.push(...p.paks)
        pages.instances.push(...i.instances)
      }
      assert.equal(pages, all, `pages of ${size}`)
    }
  })

  it('the database refuses over-allocation and negative counts even when code would try it (CHECK constraints)', async () => {
    const va = await freshVa({rms: 2})
    const attempt = async (sql: string): Promise<string> => {
      try {
        if (backend === 'sqlite') {
          const db = new Database(join(DIR, 'server.db'))
          try {
            db.prepare(sql).run(va)
          } finally {
            db.close()
          }
        } else {
          const url = new URL((databaseOf(DIR) as Extract<DatabaseConfig, {kind: 'postgres'}>).url)
          await pg!.query(url.pathname.slice(1), sql.replace('?', '$1'), [va])
        }
      } catch (err) {
        return (err as Error).message
      }
      return 'accepted'
    }
    assert.match(await attempt(`UPDATE licenses SET in_use = 3 WHERE va = ? AND type = 'rms'`), /check constraint/i)
    assert.match(await attempt(`UPDATE licenses SET in_use = -1 WHERE va = ? AND type = 'rms'`), /check constraint/i)
    assert.is((await line(va, 'rms')).inUse, 0)
  })

  if (backend === 'sqlite') {
    it('SQLite runs in WAL mode with a busy timeout; the WAL is synced by the store itself (synchronous NORMAL)', () => {
      const db = new SqliteDatabase(join(DIR, 'server.db'))
      try {
        assert.is(db.db.pragma('journal_mode', {simple: true}), 'wal')
        assert.is(db.db.pragma('synchronous', {simple: true}), 1)
        assert.ok(Number(db.db.pragma('busy_timeout', {simple: true})) >= 1000)
      } finally {
        void db.close()
      }
    })

    it('a write is reported only after the WAL holding it is fsynced (traced with strace)', async () => {
      if (!hasCommand('strace')) {
        console.log('  (strace is not installed: the fsync order is not traced)')
        return
      }
      const trace = join(temp.path, 'strace.log')
      const script = `
        const {SqliteDatabase} = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/server/sqlite.ts')).href)})
        const db = new SqliteDatabase(process.argv[1])
        await db.transaction((q) => q.run("INSERT INTO meta (key, value) VALUES ('durability-probe', 'x') ON CONFLICT (key) DO UPDATE SET value = value || 'x'"))
        process.stdout.write('ACKNOWLEDGED')
        await db.close()`
      // -y prints the file behind each descriptor: `fdatasync(27</…/server.db-wal>)`
      const r = spawnSync('strace', ['-f', '-qq', '-y', '-e', 'trace=pwrite64,fdatasync,fsync,write', '-o', trace, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, join(DIR, 'server.db')],
        {cwd: ROOT, encoding: 'utf8', timeout: 60_000})
      assert.is(r.status, 0, r.stderr)
      assert.is(r.stdout, 'ACKNOWLEDGED')
      const lines = readFileSync(trace, 'utf8').split('\n')
      const ack = lines.findIndex((l) => /write\(1<[^>]*>, "ACKNOWLEDGED"/.test(l) || /write\(1, "ACKNOWLEDGED"/.test(l))
      let lastWalWrite = -1
      for (let i = 0; i < ack; i++) if (/pwrite64\(\d+<[^>]*server\.db-wal>/.test(lines[i]!)) lastWalWrite = i
      // a sync of the WAL that starts after the commit's last write and completes (= 0) before the acknowledgement
      let synced = false
      for (let i = lastWalWrite + 1; i < ack && !synced; i++) {
        const start = /^(\d+)\s+(?:fdatasync|fsync)\(\d+<[^>]*server\.db-wal>\)(.*)$/.exec(lines[i]!)
        if (!start) continue
        if (/= 0\s*$/.test(start[2]!)) synced = true
        else synced = lines.slice(i + 1, ack).some((l) => l.startsWith(`${start[1]} `) && /<\.\.\. (?:fdatasync|fsync) resumed>.*= 0\s*$/.test(l))
      }
      assert.ok(ack > 0, 'the acknowledgement was traced')
      assert.ok(lastWalWrite >= 0, 'the commit wrote the WAL')
      assert.ok(synced, `an fsync of the WAL comes after the commit's writes and before the acknowledgement:\n${lines.slice(Math.max(0, lastWalWrite - 2), ack + 1).join('\n')}`)
    })
  }

  it.run()
}

function migrations(backend: Backend): void {
  const it = suite(`license database migrations (${backend})`)
  let temp: ReturnType<typeof ownTempDir>
  let pg: PostgresServer | null = null

  it.before(async () => {
    temp = ownTempDir(`xway-migrate-${backend}-`)
    if (backend === 'postgres') pg = await postgres.acquire()
  })

  it.after(async () => {
    if (pg) await postgres.release()
    temp?.remove()
  })

  let n = 0
  const fresh = async (): Promise<{config: DatabaseConfig; db: () => SqlDatabase}> => {
    if (backend === 'sqlite') {
      const path = join(temp.path, `m${++n}.db`)
      return {config: {kind: 'sqlite', path}, db: () => new SqliteDatabase(path, {create: true})}
    }
    const url = await pg!.createDatabase(`m${++n}`)
    return {config: {kind: 'postgres', url}, db: () => new PostgresDatabase(url)}
  }

  it('migrations are numbered 1, 2, … in order, and the last is the schema version', () => {
    assert.equal(MIGRATIONS.map((m) => m.version), MIGRATIONS.map((_, i) => i + 1))
    assert.is(SCHEMA_VERSION, MIGRATIONS.length)
  })

  it('a database at version 1 with its data: the current version refuses it until migrated; migrating applies the rest and keeps the data', async () => {
    const {config, db} = await fresh()
    const old = db()
    try {
      assert.equal(await migrate(old, 1), {from: 0, to: 1})
      await old.transaction(async (q) => {
        await q.run(`INSERT INTO smart_accounts (name, created_at) VALUES ('Acme', '2025-01-01T00:00:00.000Z')`)
        await q.run(`INSERT INTO virtual_accounts (name, smart_account, created_at) VALUES ('lab', 'Acme', '2025-01-01T00:00:00.000Z')`)
        for (const type of ['rms', 'room', 'desktop']) await q.run(`INSERT INTO licenses (va, type, owned) VALUES ('lab', ?, 7)`, [type])
        await q.run(`INSERT INTO nonces (udi, nonce, expires) VALUES ('PID:X,SN:1', 'n', 1)`)
        await q.run(`INSERT INTO tokens (id, hash, va, created_at, expires_at, uses_left, uses, export_controlled)
          VALUES ('t1', 'h1', 'lab', '2025-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z', 2, 3, 1)`)
      })
    } finally {
      await old.close()
    }
    try {
      await openStore(config)
      assert.unreachable('a current open of an older database must be refused')
    } catch (err) {
      assert.instance(err, BadInputError)
      assert.match((err as Error).message, new RegExp(`schema version 1; this xway needs version ${SCHEMA_VERSION}`))
    }
    const store = await openStore(config, {mode: 'migrate'})
    try {
      assert.is(await store.schemaVersion(), SCHEMA_VERSION)
      assert.equal((await store.pool('lab')).licenses.map((l) => l.owned), [7, 7, 7])
      assert.is((await store.checkToken('h1', new Date())).usesLeft, 2, 'a limited token keeps what it has left')
    } finally {
      await store.close()
    }
    const check = db()
    try {
      const recorded = await check.transaction((q) => q.all<{version: number}>('SELECT version FROM schema_migrations ORDER BY version'), {readOnly: true})
      assert.equal(recorded.map((r) => r.version), MIGRATIONS.map((m) => m.version))
      assert.is(await check.transaction(async (q) => {
        try {
          await q.get('SELECT COUNT(*) AS n FROM nonces')
          return 'still there'
        } catch {
          return 'dropped'
        }
      }), 'dropped')
    } finally {
      await check.close()
    }
    // a second start finds nothing to do
    const again = db()
    try {
      assert.equal(await migrate(again), {from: SCHEMA_VERSION, to: SCHEMA_VERSION})
    } finally {
      await again.close()
    }
  })

  it('two processes migrating one database at once apply each migration once', async () => {
    const {config, db} = await fresh()
    const script = `
      const {openStore} = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/server/store.ts')).href)})
      const config = JSON.parse(process.argv[1])
      await new Promise((r) => setTimeout(r, Math.max(0, Number(process.argv[2]) - Date.now())))
      const store = await openStore(config, {mode: 'migrate'})
      process.stdout.write(String(await store.schemaVersion()))
      await store.close()`
    const startAt = String(Date.now() + 1500)
    const run = (): Promise<{code: number | null; out: string}> => new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(config), startAt], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
      let out = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (out += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({code, out})
      })
    })
    if (backend === 'sqlite') await db().close() // the file exists: both processes open it
    const results = await Promise.all([run(), run()])
    for (const r of results) assert.equal([r.code, r.out.trim()], [0, String(SCHEMA_VERSION)], r.out)
    const check = db()
    try {
      const versions = await check.transaction((q) => q.all<{version: number}>('SELECT version FROM schema_migrations ORDER BY version'), {readOnly: true})
      assert.equal(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version))
    } finally {
      await check.close()
    }
  })

  it('a database newer than this xway is refused, also by start', async () => {
    const {config, db} = await fresh()
    const newer = db()
    try {
      await migrate(newer)
      await newer.transaction((q) => q.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from the future', 'x')`, [SCHEMA_VERSION + 1]))
      assert.is(await schemaVersionOf(newer), SCHEMA_VERSION + 1)
    } finally {
      await newer.close()
    }
    for (const mode of ['current', 'migrate'] as const) {
      try {
        await openStore(config, {mode})
        assert.unreachable(`${mode} must refuse a newer schema`)
      } catch (err) {
        assert.match((err as Error).message, /newer than this xway knows/)
      }
    }
  })

  if (backend === 'sqlite') {
    it('a database from before schema_migrations (meta schemaVersion 1) counts as version 1 and is migrated', async () => {
      const {config} = await fresh()
      const path = (config as {path: string}).path
      const legacy = new Database(path)
      legacy.exec(MIGRATIONS[0]!.sql.sqlite)
      legacy.prepare(`INSERT INTO meta (key, value) VALUES ('schemaVersion', '1')`).run()
      legacy.close()
      const store = await openStore(config, {mode: 'migrate'})
      try {
        assert.is(await store.schemaVersion(), SCHEMA_VERSION)
      } finally {
        await store.close()
      }
      const check = new Database(path)
      assert.equal((check.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as Array<{version: number}>).map((r) => r.version), MIGRATIONS.map((m) => m.version))
      check.close()
    })
  }

  it.run()
}
