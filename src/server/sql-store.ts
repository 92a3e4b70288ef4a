import {BadInputError, RefusedError} from '../errors.js'
import {LICENSE_TYPES, zeroCounts, type LicenseCounts, type LicenseType} from '../licensing/license-types.js'
import {LicenseServerError, type ExportControlled} from '../licensing/protocol.js'
import {canonicalPublicKey} from '../licensing/transport-security.js'
import {RegistrationBatcher} from './registration-batch.js'
import {availableOf, checkReservationFits, grantReport, reservationHolding} from './allocation.js'
import {schemaVersionOf} from './migrations.js'
import type {SqlDatabase, SqlRunner} from './sql.js'
import {isCheckViolation} from './sql.js'
import type {
  AccountView, AuthorizationRecord, EventPage, InstanceIdentity, PakConversion, PakView, InstanceView, LicenseStore, PoolLine, PoolView, RegistrationInput, RegistrationRecord,
  PortalSession, Requester, ReservationInput, ReservationRecord, TokenRecord, TokenView, OnPremInstance, OnPremSyncInput, OnPremSyncRecord,
} from './store.js'
import {unknownInstance} from './store.js'

// The license store in the SQL that SQLite and PostgreSQL share. Every public method is one
// transaction. Writers lock what they read before they change it, always in the same order
// (a limited token → instance → reservation → the virtual account's license rows, by type), so that
// PostgreSQL's row locks serialize them as SQLite's write lock does and no two of them wait
// for each other. The counters are also guarded by CHECK constraints: a bug that would
// over-allocate aborts its transaction instead of corrupting the pool.

interface LicenseRow {type: LicenseType; owned: number; in_use: number; reserved: number; in_transit: number; on_prem: number}
interface InstanceRow {
  udi: string; va: string; hostname: string | null; ip: string | null; public_key: string; cert_serial: string
  export_controlled: number; registered_at: string; last_seen_at: string; status: InstanceView['status']; smart_account: string
}
interface PakRow {pak: string; va: string; type: LicenseType; count: number; converted: number; forfeited: number; added_at: string; converted_at: string | null}
const PAK_COLUMNS = 'p.pak, p.va, p.type, p.count, p.converted, p.forfeited, p.added_at, p.converted_at'
interface ReservationRow {
  udi: string; piid: string; va: string; kind: ReservationRecord['kind']; request_code: string; state: ReservationRecord['state']
  auth_timestamp: number; until: string | null; authorization_code: string
}

const INSTANCE_COLUMNS = `i.udi, i.va, i.hostname, i.ip, i.public_key, i.cert_serial, i.export_controlled, i.registered_at,
  i.last_seen_at, i.status, va.smart_account`
const RESERVATION_COLUMNS = 'r.udi, r.piid, r.va, r.kind, r.request_code, r.state, r.auth_timestamp, r.until, r.authorization_code'
/** reserved = what units confirmed; in transit = what the latest codes add on top, until confirmed */
const RESERVED_SUMS = `SELECT c.type, SUM(c.confirmed) AS reserved,
  SUM(CASE WHEN c.pending > c.confirmed THEN c.pending - c.confirmed ELSE 0 END) AS in_transit
  FROM reservation_counts c JOIN reservations r ON r.udi = c.udi WHERE r.va = ? GROUP BY c.type`

function exportText(flag: number | boolean): ExportControlled {
  return flag ? 'Allowed' : 'Not Allowed'
}

function countsOf(rows: Array<{type: LicenseType; n: number}>): LicenseCounts {
  const counts = zeroCounts()
  for (const r of rows) counts[r.type] = r.n
  return counts
}

function pakView(r: PakRow): PakView {
  return {
    pak: r.pak, virtualAccount: r.va, type: r.type, count: r.count, converted: r.converted, forfeited: r.forfeited,
    available: r.count - r.converted - r.forfeited, addedAt: r.added_at, convertedAt: r.converted_at,
  }
}

function byTimeThenUdi(a: {at: string; udi: string}, b: {at: string; udi: string}): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1
  return a.udi < b.udi ? -1 : a.udi > b.udi ? 1 : 0
}

function sameKey(stored: string, presented: string): boolean {
  if (stored === presented) return true
  try {
    return canonicalPublicKey(stored) === presented
  } catch {
    return false
  }
}

export class SqlLicenseStore implements LicenseStore {
  readonly kind: 'sqlite' | 'postgres'

  /** PostgreSQL only: SQLite cannot write inside WITH, and has no round trips to save */
  private readonly batcher: RegistrationBatcher | null

  constructor(private readonly db: SqlDatabase) {
    this.kind = db.dialect
    this.batcher = db.dialect === 'postgres' ? new RegistrationBatcher(db) : null
  }

  close(): Promise<void> {
    return this.db.close()
  }

  private write<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(fn)
  }

  private read<T>(fn: (q: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(fn, {readOnly: true})
  }

  schemaVersion(): Promise<number> {
    return schemaVersionOf(this.db)
  }

  async meta(key: string): Promise<string | null> {
    return (await this.read((q) => q.get<{value: string}>('SELECT value FROM meta WHERE key = ?', [key])))?.value ?? null
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.write((q) => q.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]))
  }

  // ---------------------------------------------------------------- helpers inside a transaction

  private async event(q: SqlRunner, at: Date, kind: string, va: string | null, udi: string | null, detail?: unknown): Promise<void> {
    await q.run('INSERT INTO events (at, kind, va, udi, detail) VALUES (?, ?, ?, ?, ?)', [at.toISOString(), kind, va, udi, detail === undefined ? null : JSON.stringify(detail)])
  }

  private async requireVa(q: SqlRunner, va: string): Promise<{name: string; smart_account: string; export_control: number}> {
    const row = await q.get<{name: string; smart_account: string; export_control: number}>(`SELECT v.name, v.smart_account, s.export_control
      FROM virtual_accounts v JOIN smart_accounts s ON s.name = v.smart_account WHERE v.name = ?`, [va])
    if (!row) {
      throw new BadInputError(`There is no virtual account named ${JSON.stringify(va)} on this license server.`, {
        actions: ['Create it with `xway license-server account create DIR --name SA --virtual-account VA`.'],
      })
    }
    return row
  }

  /** The virtual account's license rows; `lock` when the transaction goes on to change them. */
  private async licenseRows(q: SqlRunner, va: string, lock: boolean): Promise<Map<LicenseType, LicenseRow>> {
    const rows = await q.all<LicenseRow>(`SELECT type, owned, in_use, reserved, in_transit, on_prem FROM licenses WHERE va = ? ORDER BY type${lock ? this.db.forUpdate() : ''}`, [va])
    return new Map(rows.map((r) => [r.type, r]))
  }

  private static available(rows: Map<LicenseType, LicenseRow>): LicenseCounts {
    const available = zeroCounts()
    for (const type of LICENSE_TYPES) {
      const r = rows.get(type)
      if (r) available[type] = availableOf({owned: r.owned, inUse: r.in_use, reserved: r.reserved, inTransit: r.in_transit, onPrem: r.on_prem})
    }
    return available
  }

  private async addInUse(q: SqlRunner, va: string, type: LicenseType, delta: number): Promise<void> {
    try {
      await q.run('UPDATE licenses SET in_use = in_use + ? WHERE va = ? AND type = ?', [delta, va, type])
    } catch (err) {
      // unreachable by construction; the CHECK constraint is the last line of defence
      if (isCheckViolation(err)) throw new LicenseServerError('internal', 'The pool would be over-allocated or go negative; the change was not applied.')
      throw err
    }
  }

  private async instanceRow(q: SqlRunner, udi: string, lock: boolean): Promise<InstanceRow | undefined> {
    return q.get<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM instances i JOIN virtual_accounts va ON va.name = i.va WHERE i.udi = ?${lock ? this.db.forUpdate('i') : ''}`, [udi])
  }

  /** The requester's instance, locked: it must exist and be registered under the key that authenticated the request. */
  private async requireInstance(q: SqlRunner, who: Requester): Promise<InstanceRow> {
    const row = await this.instanceRow(q, who.udi, true)
    if (!row || !sameKey(row.public_key, who.publicKey)) throw unknownInstance(who.udi)
    return row
  }

  private async held(q: SqlRunner, udi: string): Promise<LicenseCounts> {
    return countsOf(await q.all<{type: LicenseType; n: number}>('SELECT type, count AS n FROM allocations WHERE udi = ?', [udi]))
  }

  /** Gives back everything an instance holds (its row is locked by the caller); returns what was released. */
  private async releaseAllocations(q: SqlRunner, udi: string, va: string): Promise<LicenseCounts> {
    const released = await this.held(q, udi)
    if (LICENSE_TYPES.some((t) => released[t] > 0)) {
      await this.licenseRows(q, va, true)
      for (const type of LICENSE_TYPES) if (released[type] > 0) await this.addInUse(q, va, type, -released[type])
    }
    await q.run('DELETE FROM allocations WHERE udi = ?', [udi])
    return released
  }

  private async poolOf(q: SqlRunner, va: string): Promise<PoolView> {
    const rows = await this.licenseRows(q, va, false)
    const shortages = countsOf(await q.all<{type: LicenseType; n: number}>(`SELECT a.type, SUM(a.shortage) AS n FROM allocations a JOIN instances i ON i.udi = a.udi
      WHERE i.va = ? GROUP BY a.type`, [va]))
    return {
      virtualAccount: va,
      licenses: LICENSE_TYPES.map((type): PoolLine => {
        const r = rows.get(type) ?? {type, owned: 0, in_use: 0, reserved: 0, in_transit: 0, on_prem: 0}
        const counters = {owned: r.owned, inUse: r.in_use, reserved: r.reserved, inTransit: r.in_transit, onPrem: r.on_prem}
        return {type, ...counters, available: availableOf(counters), shortage: shortages[type]}
      }),
    }
  }

  private async reservationIn(q: SqlRunner, column: 'udi' | 'piid', value: string, lock: boolean): Promise<ReservationRecord | null> {
    const row = await q.get<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations r WHERE r.${column} = ?${lock ? this.db.forUpdate('r') : ''}`, [value])
    if (!row) return null
    const confirmed = zeroCounts()
    const pending = zeroCounts()
    for (const c of await q.all<{type: LicenseType; confirmed: number; pending: number}>('SELECT type, confirmed, pending FROM reservation_counts WHERE udi = ?', [row.udi])) {
      confirmed[c.type] = c.confirmed
      pending[c.type] = c.pending
    }
    return {
      udi: row.udi, piid: row.piid, virtualAccount: row.va, kind: row.kind, requestCode: row.request_code, state: row.state,
      timestamp: Number(row.auth_timestamp), until: row.until, confirmed, pending, authorizationCode: row.authorization_code,
    }
  }

  /** Sets reserved and in transit from the reservations they summarize (the license rows are locked first). */
  private async recomputeReserved(q: SqlRunner, va: string): Promise<void> {
    await this.licenseRows(q, va, true)
    const sums = new Map((await q.all<{type: LicenseType; reserved: number; in_transit: number}>(RESERVED_SUMS, [va])).map((r) => [r.type, r]))
    for (const type of LICENSE_TYPES) {
      const s = sums.get(type)
      try {
        await q.run('UPDATE licenses SET reserved = ?, in_transit = ? WHERE va = ? AND type = ?', [s?.reserved ?? 0, s?.in_transit ?? 0, va, type])
      } catch (err) {
        if (isCheckViolation(err)) throw new LicenseServerError('internal', 'The pool would be over-allocated; the reservation was not applied.')
        throw err
      }
    }
  }

  // ---------------------------------------------------------------- accounts and licenses

  createAccount(smartAccount: string, virtualAccount: string, at: Date, exportControl = true): Promise<{smartAccount: string; virtualAccount: string}> {
    return this.write(async (q) => {
      const existing = await q.get<{smart_account: string}>('SELECT smart_account FROM virtual_accounts WHERE name = ?', [virtualAccount])
      if (existing) {
        throw new RefusedError(`The virtual account ${JSON.stringify(virtualAccount)} already exists (in smart account ${JSON.stringify(existing.smart_account)}).`, {
          actions: ['Use it as it is, or choose another --virtual-account name.'],
        })
      }
      const sa = await q.get<{export_control: number}>(`SELECT export_control FROM smart_accounts s WHERE s.name = ?${this.db.forUpdate('s')}`, [smartAccount])
      if (sa && (sa.export_control === 1) !== exportControl) {
        throw new RefusedError(`The smart account ${JSON.stringify(smartAccount)} exists and is ${sa.export_control === 1 ? '' : 'not '}permitted export-controlled functionality; ` +
          'the permission belongs to the smart account, not to one of its virtual accounts.', {
          actions: [sa.export_control === 1 ? 'Drop --no-export-control, or use another smart account.' : 'Add --no-export-control, or use another smart account.'],
        })
      }
      const iso = at.toISOString()
      if (!sa) await q.run('INSERT INTO smart_accounts (name, created_at, export_control) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [smartAccount, iso, exportControl ? 1 : 0])
      await q.run('INSERT INTO virtual_accounts (name, smart_account, created_at) VALUES (?, ?, ?)', [virtualAccount, smartAccount, iso])
      for (const type of LICENSE_TYPES) await q.run('INSERT INTO licenses (va, type) VALUES (?, ?)', [virtualAccount, type])
      await this.event(q, at, 'account-created', virtualAccount, null, {smartAccount, exportControl})
      return {smartAccount, virtualAccount}
    })
  }

  accounts(va?: string): Promise<AccountView[]> {
    return this.read(async (q) => {
      if (va !== undefined) await this.requireVa(q, va)
      const rows = await q.all<{va: string; sa: string; export_control: number; created_at: string}>(`SELECT v.name AS va, v.smart_account AS sa, s.export_control, v.created_at
        FROM virtual_accounts v JOIN smart_accounts s ON s.name = v.smart_account ${va === undefined ? '' : 'WHERE v.name = ?'} ORDER BY v.name`, va === undefined ? [] : [va])
      return rows.map((r) => ({smartAccount: r.sa, virtualAccount: r.va, exportControl: r.export_control === 1, createdAt: r.created_at}))
    })
  }

  // ---------------------------------------------------------------- classic (PAK) licenses

  private async pakRow(q: SqlRunner, pak: string, lock: boolean): Promise<PakRow | undefined> {
    return q.get<PakRow>(`SELECT ${PAK_COLUMNS} FROM paks p WHERE p.pak = ?${lock ? this.db.forUpdate('p') : ''}`, [pak])
  }

  addPak(input: {pak: string; va: string; type: LicenseType; count: number; at: Date}): Promise<PakView> {
    return this.write(async (q) => {
      await this.requireVa(q, input.va)
      const existing = await this.pakRow(q, input.pak, false)
      if (existing) {
        throw new RefusedError(`The PAK ${input.pak} is already recorded (${existing.count} ${existing.type} in virtual account ${existing.va}).`, {
          actions: ['Each PAK is recorded once: check the PAK number, or list them with `xway license-server pak list DIR`.'],
        })
      }
      await q.run('INSERT INTO paks (pak, va, type, count, added_at) VALUES (?, ?, ?, ?, ?)', [input.pak, input.va, input.type, input.count, input.at.toISOString()])
      await this.event(q, input.at, 'pak-added', input.va, null, {pak: input.pak, type: input.type, count: input.count})
      return pakView((await this.pakRow(q, input.pak, false))!)
    })
  }

  convertPak(pak: string, quantity: number | null, at: Date, checkPartial: (pak: PakView, quantity: number) => void): Promise<PakConversion> {
    return this.write(async (q) => {
      const row = await this.pakRow(q, pak, true)
      if (!row) {
        throw new BadInputError(`There is no PAK ${JSON.stringify(pak)} on this license server.`, {
          actions: ['Record it with `xway license-server pak add DIR --virtual-account VA --pak ID --type TYPE --count N`.'],
        })
      }
      const before = pakView(row)
      if (before.available === 0) {
        throw new RefusedError(`The PAK ${pak} has no license left to convert (${before.converted} converted, ${before.forfeited} forfeited).`, {
          actions: ['List the PAKs with `xway license-server pak list DIR`.'],
        })
      }
      const take = quantity ?? before.available
      if (take > before.available) {
        throw new RefusedError(`The PAK ${pak} has ${before.available} ${before.type} license(s) left to convert, not ${take}.`, {actions: [`Convert at most ${before.available}.`]})
      }
      const forfeit = before.available - take
      if (forfeit > 0) checkPartial(before, take)
      await this.licenseRows(q, row.va, true)
      await q.run('UPDATE paks SET converted = converted + ?, forfeited = forfeited + ?, converted_at = ? WHERE pak = ?', [take, forfeit, at.toISOString(), pak])
      await q.run('UPDATE licenses SET owned = owned + ? WHERE va = ? AND type = ?', [take, row.va, row.type])
      await this.event(q, at, 'pak-converted', row.va, null, {pak, type: row.type, count: take})
      if (forfeit > 0) await this.event(q, at, 'pak-forfeited', row.va, null, {pak, type: row.type, count: forfeit, reason: 'partial conversion: the licenses not converted are removed'})
      const after = pakView((await this.pakRow(q, pak, false))!)
      return {pak: after, converted: take, forfeited: forfeit, line: (await this.poolOf(q, row.va)).licenses.find((l) => l.type === row.type)!}
    })
  }

  paks(va?: string): Promise<PakView[]> {
    return this.read(async (q) => {
      if (va !== undefined) await this.requireVa(q, va)
      const rows = await q.all<PakRow>(`SELECT ${PAK_COLUMNS} FROM paks p ${va === undefined ? '' : 'WHERE p.va = ?'} ORDER BY p.added_at, ${this.collated('p.pak')}`, va === undefined ? [] : [va])
      return rows.map(pakView)
    })
  }

  /** One page of `paks` of a virtual account, cut in SQL. */
  pakPage(va: string, offset: number, limit: number): Promise<{total: number; paks: PakView[]}> {
    return this.read(async (q) => {
      await this.requireVa(q, va)
      const total = Number((await q.get<{n: number | string}>('SELECT COUNT(*) AS n FROM paks WHERE va = ?', [va]))?.n ?? 0)
      const rows = await q.all<PakRow>(`SELECT ${PAK_COLUMNS} FROM paks p WHERE p.va = ? ORDER BY p.added_at, ${this.collated('p.pak')} LIMIT ? OFFSET ?`, [va, limit, offset])
      return {total, paks: rows.map(pakView)}
    })
  }

  // ---------------------------------------------------------------- the event log

  events(query: {va?: string; offset: number; limit: number}): Promise<EventPage> {
    return this.read(async (q) => {
      const filter = query.va === undefined ? '' : 'WHERE va = ?'
      const params = query.va === undefined ? [] : [query.va]
      const total = Number((await q.get<{n: number | string}>(`SELECT COUNT(*) AS n FROM events ${filter}`, params))?.n ?? 0)
      const rows = await q.all<{id: number | string; at: string; kind: string; va: string | null; udi: string | null; detail: string | null}>(
        `SELECT id, at, kind, va, udi, detail FROM events ${filter} ORDER BY id DESC LIMIT ? OFFSET ?`, [...params, query.limit, query.offset])
      return {
        total, offset: query.offset, limit: query.limit,
        events: rows.map((r) => ({id: Number(r.id), at: r.at, kind: r.kind, virtualAccount: r.va, udi: r.udi, detail: r.detail === null ? null : JSON.parse(r.detail) as unknown})),
      }
    })
  }

  addLicenses(va: string, type: LicenseType, count: number, at: Date): Promise<PoolLine> {
    return this.write(async (q) => {
      await this.requireVa(q, va)
      await q.run('UPDATE licenses SET owned = owned + ? WHERE va = ? AND type = ?', [count, va, type])
      await this.event(q, at, 'licenses-added', va, null, {type, count})
      return (await this.poolOf(q, va)).licenses.find((l) => l.type === type)!
    })
  }

  createToken(input: {id: string; hash: string; va: string; expiresAt: Date; usesLeft: number | null; exportControlled: boolean; description?: string | null; at: Date}): Promise<void> {
    return this.write(async (q) => {
      const va = await this.requireVa(q, input.va)
      if (input.exportControlled && !va.export_control) {
        throw new RefusedError(`The smart account ${JSON.stringify(va.smart_account)} is not permitted export-controlled functionality: the tokens of virtual account ${input.va} are always "Not Allowed".`, {
          actions: ['Create the token with --no-export-controlled.'],
        })
      }
      await q.run('INSERT INTO tokens (id, hash, va, created_at, expires_at, uses_left, export_controlled, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [input.id, input.hash, input.va, input.at.toISOString(), input.expiresAt.toISOString(), input.usesLeft, input.exportControlled ? 1 : 0, input.description ?? null])
      await this.event(q, input.at, 'token-created', input.va, null, {id: input.id, expiresAt: input.expiresAt.toISOString(), uses: input.usesLeft, exportControlled: input.exportControlled})
    })
  }

  virtualAccounts(): Promise<{smartAccount: string; virtualAccount: string}[]> {
    return this.read(async (q) => {
      const rows = await q.all<{name: string; smart_account: string}>('SELECT name, smart_account FROM virtual_accounts')
      return rows.map((r) => ({smartAccount: r.smart_account, virtualAccount: r.name})).sort((a, b) => (a.virtualAccount < b.virtualAccount ? -1 : a.virtualAccount > b.virtualAccount ? 1 : 0))
    })
  }

  private async tokenViews(q: SqlRunner, where: string, params: unknown[], page?: {offset: number; limit: number}): Promise<TokenView[]> {
    const cut = page ? ` ORDER BY t.created_at DESC, ${this.collated('t.id')} LIMIT ? OFFSET ?` : ''
    const rows = await q.all<{id: string; va: string; description: string | null; created_at: string; expires_at: string; uses_left: number | null; export_controlled: number; revoked_at: string | null; uses: number | string}>(
      `SELECT t.id, t.va, t.description, t.created_at, t.expires_at, t.uses_left, t.export_controlled, t.revoked_at,
        (SELECT COUNT(*) FROM instances i WHERE i.token_id = t.id) AS uses
        FROM tokens t WHERE ${where}${cut}`, page ? [...params, page.limit, page.offset] : params)
    return rows.map((r) => ({
      id: r.id, virtualAccount: r.va, description: r.description, createdAt: r.created_at, expiresAt: r.expires_at, usesLeft: r.uses_left,
      uses: Number(r.uses), exportControlled: r.export_controlled === 1, revokedAt: r.revoked_at,
    })).sort((a, b) => (a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? -1 : 1))
  }

  tokens(va: string): Promise<TokenView[]> {
    return this.read(async (q) => {
      await this.requireVa(q, va)
      return this.tokenViews(q, 't.va = ?', [va])
    })
  }

  /** One page of `tokens`, cut in SQL. */
  tokenPage(va: string, offset: number, limit: number): Promise<{total: number; tokens: TokenView[]}> {
    return this.read(async (q) => {
      await this.requireVa(q, va)
      const total = Number((await q.get<{n: number | string}>('SELECT COUNT(*) AS n FROM tokens WHERE va = ?', [va]))?.n ?? 0)
      return {total, tokens: await this.tokenViews(q, 't.va = ?', [va], {offset, limit})}
    })
  }

  revokeToken(id: string, at: Date): Promise<TokenView> {
    return this.write(async (q) => {
      const [token] = await this.tokenViews(q, 't.id = ?', [id])
      if (!token) throw new BadInputError(`There is no token ${JSON.stringify(id)} on this license server.`, {actions: ['List the tokens with `xway license-server token list DIR --virtual-account VA`.']})
      if (token.revokedAt !== null) return token
      await q.run('UPDATE tokens SET revoked_at = ? WHERE id = ?', [at.toISOString(), id])
      await this.event(q, at, 'token-revoked', token.virtualAccount, null, {id})
      return {...token, revokedAt: at.toISOString()}
    })
  }

  // ---------------------------------------------------------------- portal users and sessions

  addUser(name: string, passwordHash: string, at: Date): Promise<void> {
    return this.write(async (q) => {
      const inserted = await q.run('INSERT INTO portal_users (name, password_hash, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING', [name, passwordHash, at.toISOString()])
      if (inserted === 0) throw new RefusedError(`The portal user ${JSON.stringify(name)} already exists.`, {actions: ['Choose another --name.']})
      await this.event(q, at, 'portal-user-added', null, null, {name})
    })
  }

  async userPasswordHash(name: string): Promise<string | null> {
    return (await this.read((q) => q.get<{password_hash: string}>('SELECT password_hash FROM portal_users WHERE name = ?', [name])))?.password_hash ?? null
  }

  async createSession(idHash: string, user: string, csrf: string, at: Date): Promise<void> {
    await this.write((q) => q.run('INSERT INTO portal_sessions (id_hash, user_name, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)', [idHash, user, csrf, at.toISOString(), at.toISOString()]))
  }

  touchSession(idHash: string, at: Date): Promise<PortalSession | null> {
    return this.write(async (q) => {
      const row = await q.get<{user_name: string; csrf: string; created_at: string; last_seen_at: string}>(
        'SELECT user_name, csrf, created_at, last_seen_at FROM portal_sessions WHERE id_hash = ?', [idHash])
      if (!row) return null
      await q.run('UPDATE portal_sessions SET last_seen_at = ? WHERE id_hash = ?', [at.toISOString(), idHash])
      return {user: row.user_name, csrf: row.csrf, createdAt: row.created_at, lastSeenAt: row.last_seen_at}
    })
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.write((q) => q.run('DELETE FROM portal_sessions WHERE id_hash = ?', [idHash]))
  }

  expireSessions(idleBefore: Date, createdBefore: Date): Promise<number> {
    return this.write((q) => q.run('DELETE FROM portal_sessions WHERE last_seen_at < ? OR created_at < ?', [idleBefore.toISOString(), createdBefore.toISOString()]))
  }

  async loginFailures(keys: string[], since: Date): Promise<number> {
    if (keys.length === 0) return 0
    const rows = await this.read((q) => q.all<{failures: number}>(
      `SELECT failures FROM portal_login_failures WHERE key IN (${keys.map(() => '?').join(', ')}) AND last_at >= ?`, [...keys, since.toISOString()]))
    return rows.reduce((max, r) => Math.max(max, Number(r.failures)), 0)
  }

  async recordLoginFailure(keys: string[], at: Date, since: Date): Promise<void> {
    await this.write(async (q) => {
      for (const key of keys) {
        // a failure after a quiet period starts counting again from one
        await q.run(`INSERT INTO portal_login_failures (key, failures, last_at) VALUES (?, 1, ?)
          ON CONFLICT (key) DO UPDATE SET failures = CASE WHEN portal_login_failures.last_at < ? THEN 1 ELSE portal_login_failures.failures + 1 END, last_at = excluded.last_at`,
        [key, at.toISOString(), since.toISOString()])
      }
    })
  }

  async clearLoginFailures(keys: string[]): Promise<void> {
    if (keys.length === 0) return
    await this.write((q) => q.run(`DELETE FROM portal_login_failures WHERE key IN (${keys.map(() => '?').join(', ')})`, keys))
  }

  pool(va: string): Promise<PoolView> {
    return this.read(async (q) => {
      await this.requireVa(q, va)
      return this.poolOf(q, va)
    })
  }

  consistency(va: string): Promise<{ok: boolean; problems: string[]}> {
    return this.read(async (q) => {
      const problems: string[] = []
      const rows = await this.licenseRows(q, va, false)
      const used = countsOf(await q.all<{type: LicenseType; n: number}>(`SELECT a.type, SUM(a.count) AS n FROM allocations a JOIN instances i ON i.udi = a.udi
        WHERE i.va = ? GROUP BY a.type`, [va]))
      const res = new Map((await q.all<{type: LicenseType; reserved: number; in_transit: number}>(RESERVED_SUMS, [va])).map((r) => [r.type, r]))
      for (const type of LICENSE_TYPES) {
        const r = rows.get(type)
        if (!r) {
          problems.push(`${type}: no row`)
          continue
        }
        if (r.in_use !== used[type]) problems.push(`${type}: in_use ${r.in_use} but allocations sum to ${used[type]}`)
        if (r.reserved !== (res.get(type)?.reserved ?? 0)) problems.push(`${type}: reserved ${r.reserved} but reservations sum to ${res.get(type)?.reserved ?? 0}`)
        if (r.in_transit !== (res.get(type)?.in_transit ?? 0)) problems.push(`${type}: in_transit ${r.in_transit} but reservations sum to ${res.get(type)?.in_transit ?? 0}`)
        if (r.in_use < 0 || r.reserved < 0 || r.in_transit < 0) problems.push(`${type}: negative count`)
        if (r.in_use + r.reserved + r.in_transit + r.on_prem > r.owned) problems.push(`${type}: over-allocated`)
      }
      return {ok: problems.length === 0, problems}
    })
  }

  instances(va?: string): Promise<InstanceView[]> {
    return this.read(async (q) => {
      if (va !== undefined) await this.requireVa(q, va)
      return [...await this.directInstances(q, va, null), ...await this.onPremInstances(q, va)]
    })
  }

  /** One page of a virtual account's product instances, in the order `instances` lists them, cut in SQL. */
  instancePage(va: string, offset: number, limit: number): Promise<{total: number; instances: InstanceView[]}> {
    return this.read(async (q) => {
      await this.requireVa(q, va)
      const keys = `SELECT i.udi AS udi, i.registered_at AS at, 0 AS grp FROM instances i WHERE i.va = ?
        UNION ALL SELECT r.udi AS udi, r.created_at AS at, 1 AS grp FROM reservations r
        WHERE r.va = ? AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.udi = r.udi AND i.va = ?)`
      const direct = Number((await q.get<{n: number | string}>(`SELECT COUNT(*) AS n FROM (${keys}) x`, [va, va, va]))?.n ?? 0)
      const page = await q.all<{udi: string}>(`SELECT udi FROM (${keys}) x ORDER BY grp, ${this.collated('at')}, ${this.collated('udi')} LIMIT ? OFFSET ?`, [va, va, va, limit, offset])
      const views = page.length === 0 ? [] : await this.directInstances(q, va, page.map((r) => r.udi))
      const onPrem = await this.onPremInstances(q, va)
      const rest = Math.max(0, limit - views.length)
      return {total: direct + onPrem.length, instances: [...views, ...onPrem.slice(Math.max(0, offset - direct), Math.max(0, offset - direct) + rest)]}
    })
  }

  /** ORDER BY a text column by code point on both databases (SQLite's BINARY; PostgreSQL's collation would differ). */
  private collated(column: string): string {
    return this.db.dialect === 'postgres' ? `${column} COLLATE "C"` : column
  }

  /**
   * The instances registered here (then the reservations without one), of a virtual account
   * or all, or only those UDIs: registered ones by registration, then reserved ones by reservation.
   */
  private async directInstances(q: SqlRunner, va: string | undefined, udis: string[] | null): Promise<InstanceView[]> {
    // the same filter on instances (i) and on reservations (r)
    const conditions = (alias: string): string[] => [
      ...(va === undefined ? [] : [`${alias}.va = ?`]),
      ...(udis ? [`${alias}.udi IN (${udis.map(() => '?').join(', ')})`] : []),
    ]
    const where = conditions('i')
    const params: unknown[] = [...(va === undefined ? [] : [va]), ...(udis ?? [])]
    const byInstance = where.length ? `WHERE ${where.join(' AND ')}` : ''
    const registered = await q.all<{
      udi: string; va: string; hostname: string | null; ip: string | null; registered_at: string; last_seen_at: string; export_controlled: number; status: InstanceView['status']
    }>(`SELECT i.udi, i.va, i.hostname, i.ip, i.registered_at, i.last_seen_at, i.export_controlled, i.status FROM instances i ${byInstance}`, params)
    const allocations = await q.all<{udi: string; type: LicenseType; count: number}>(
      `SELECT a.udi, a.type, a.count FROM allocations a ${where.length ? `JOIN instances i ON i.udi = a.udi ${byInstance}` : ''}`, params)
    const byReservation = conditions('r').join(' AND ')
    const reservations = await q.all<{udi: string; va: string; kind: ReservationRecord['kind']; state: ReservationRecord['state']; created_at: string}>(
      `SELECT r.udi, r.va, r.kind, r.state, r.created_at FROM reservations r ${byReservation ? `WHERE ${byReservation}` : ''}`, params)
    const counts = await q.all<{udi: string; type: LicenseType; confirmed: number; pending: number}>(
      `SELECT c.udi, c.type, c.confirmed, c.pending FROM reservation_counts c ${udis ? `WHERE c.udi IN (${udis.map(() => '?').join(', ')})` : ''}`, udis ?? [])
    // ordered here, by code point, so that both databases list alike whatever their collation
    registered.sort((a, b) => byTimeThenUdi({at: a.registered_at, udi: a.udi}, {at: b.registered_at, udi: b.udi}))
    reservations.sort((a, b) => byTimeThenUdi({at: a.created_at, udi: a.udi}, {at: b.created_at, udi: b.udi}))
    const byUdi = new Map<string, InstanceView>()
    for (const r of registered) {
      byUdi.set(r.udi, {
        udi: r.udi, virtualAccount: r.va, hostname: r.hostname, registeredAt: r.registered_at, ip: r.ip, lastSeenAt: r.last_seen_at,
        exportControlled: exportText(r.export_controlled), status: r.status, licenses: zeroCounts(), reservation: null, onPrem: null,
      })
    }
    for (const a of allocations) byUdi.get(a.udi)!.licenses[a.type] = a.count
    for (const r of reservations) {
      const existing = byUdi.get(r.udi)
      const reservation = {kind: r.kind, state: r.state}
      if (existing) {
        existing.reservation = reservation
        continue
      }
      byUdi.set(r.udi, {
        udi: r.udi, virtualAccount: r.va, hostname: null, registeredAt: r.created_at, ip: null, lastSeenAt: null,
        exportControlled: null, status: 'reserved', licenses: zeroCounts(), reservation, onPrem: null,
      })
    }
    for (const c of counts) {
      const view = byUdi.get(c.udi)
      if (view && view.status === 'reserved') view.licenses[c.type] = Math.max(c.confirmed, c.pending)
    }
    return [...byUdi.values()]
  }

  /** At a CSSM, the instances its On-Prems registered, as each one's last synchronization reported them. */
  private async onPremInstances(q: SqlRunner, va: string | undefined): Promise<InstanceView[]> {
    const sites = await q.all<{id: string; va: string; linked_at: string; instances: string}>(
      `SELECT id, va, linked_at, instances FROM onprem_sites ${va === undefined ? '' : 'WHERE va = ?'}`, va === undefined ? [] : [va])
    sites.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const out: InstanceView[] = []
    for (const site of sites) {
      for (const i of JSON.parse(site.instances) as OnPremInstance[]) {
        out.push({
          udi: i.udi, virtualAccount: site.va, hostname: i.hostname, registeredAt: i.registeredAt ?? site.linked_at, ip: null, lastSeenAt: i.lastSeenAt,
          exportControlled: i.exportControlled, status: i.status, licenses: {...zeroCounts(), ...i.licenses}, reservation: null, onPrem: site.id,
        })
      }
    }
    return out.sort((a, b) => byTimeThenUdi({at: a.registeredAt, udi: a.udi}, {at: b.registeredAt, udi: b.udi}))
  }

  // ---------------------------------------------------------------- agent exchanges

  private async token(q: SqlRunner, tokenHash: string, at: Date): Promise<TokenRecord> {
    const row = await q.get<{id: string; va: string; smart_account: string; expires_at: string; uses_left: number | null; export_controlled: number; revoked_at: string | null}>(
      `SELECT t.id, t.va, va.smart_account, t.expires_at, t.uses_left, t.export_controlled, t.revoked_at
        FROM tokens t JOIN virtual_accounts va ON va.name = t.va WHERE t.hash = ?`, [tokenHash])
    if (!row) throw new LicenseServerError('token-invalid', 'The registration token is not valid: no such token on this license server.')
    if (row.revoked_at !== null) throw new LicenseServerError('token-invalid', `The registration token is not valid: it was revoked at ${row.revoked_at}.`)
    if (Date.parse(row.expires_at) <= at.getTime()) {
      throw new LicenseServerError('token-expired', `The registration token expired at ${row.expires_at}.`)
    }
    if (row.uses_left !== null && row.uses_left <= 0) {
      throw new LicenseServerError('token-used-up', 'The registration token has been used as many times as it allows.')
    }
    return {id: row.id, va: row.va, smartAccount: row.smart_account, expiresAt: row.expires_at, usesLeft: row.uses_left, exportControlled: row.export_controlled === 1}
  }

  checkToken(tokenHash: string, at: Date): Promise<TokenRecord> {
    return this.db.transaction((q) => this.token(q, tokenHash, at), {readOnly: true, oneStatement: true})
  }

  async identity(udi: string): Promise<InstanceIdentity | null> {
    const row = await this.db.transaction((q) => this.instanceRow(q, udi, false), {readOnly: true, oneStatement: true})
    if (!row) return null
    return {udi: row.udi, va: row.va, smartAccount: row.smart_account, publicKey: row.public_key, exportControlled: exportText(row.export_controlled)}
  }

  async register(input: RegistrationInput): Promise<RegistrationRecord> {
    if (this.batcher) {
      // the common case, a new UDI with a valid unlimited token, in a statement shared with
      // the registrations that arrive meanwhile (registration-batch.ts); anything else, and
      // every refusal with its reason, takes the transaction below
      const created = await this.batcher.register(input)
      if (created) {
        return {udi: input.udi, smartAccount: created.smartAccount, virtualAccount: created.va, exportControlled: exportText(created.exportControlled), reregistered: false}
      }
    }
    return this.write(async (q) => {
      const token = await this.token(q, input.tokenHash, input.at)
      if (token.usesLeft !== null) {
        // a token with a use limit: one use, under its row's lock (another registration may have taken the last)
        const taken = await q.run('UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ? AND uses_left > 0', [token.id])
        if (taken === 0) throw new LicenseServerError('token-used-up', 'The registration token has been used as many times as it allows.')
      }
      const at = input.at.toISOString()
      const values = [token.va, input.hostname, input.ip, input.publicKey, input.certSerial, JSON.stringify(input.product), token.exportControlled ? 1 : 0, token.id, at, at]
      // a new UDI, the common case, in one statement; one already there is locked and judged
      const inserted = await q.run(`INSERT INTO instances (va, hostname, ip, public_key, cert_serial, product, export_controlled, token_id, registered_at, last_seen_at, udi, renewed_at, status)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'registered') ON CONFLICT (udi) DO NOTHING`, [...values, input.udi])
      const existing = inserted === 1 ? undefined : await this.instanceRow(q, input.udi, true)
      if (existing && !input.force && !sameKey(existing.public_key, input.publicKey)) {
        throw new LicenseServerError('already-registered', `The product instance ${input.udi} is already registered (virtual account ${existing.va}).`, {
          actions: ['Reregister with force ("Reregister this product instance if it is already registered"), or remove the instance on the license server.'],
        })
      }
      if (existing) {
        // a reregistration starts from nothing held: the agent reports its usage right after registering
        await this.releaseAllocations(q, existing.udi, existing.va)
        await q.run(`UPDATE instances SET va = ?, hostname = ?, ip = ?, public_key = ?, cert_serial = ?, product = ?, export_controlled = ?, token_id = ?,
          registered_at = ?, renewed_at = NULL, last_seen_at = ?, status = 'registered' WHERE udi = ?`, [...values, input.udi])
      }
      await this.event(q, input.at, existing ? 'reregistered' : 'registered', token.va, input.udi, {
        token: token.id, hostname: input.hostname, from: existing && existing.va !== token.va ? existing.va : undefined,
      })
      return {
        udi: input.udi, smartAccount: token.smartAccount, virtualAccount: token.va,
        exportControlled: exportText(token.exportControlled), reregistered: existing !== undefined,
      }
    })
  }

  authorize(who: Requester, usage: LicenseCounts, at: Date): Promise<AuthorizationRecord> {
    return this.write(async (q) => {
      const inst = await this.requireInstance(q, who)
      const held = await this.held(q, who.udi)
      const rows = await this.licenseRows(q, inst.va, true)
      const grant = grantReport(usage, held, SqlLicenseStore.available(rows))
      for (const type of LICENSE_TYPES) if (grant.delta[type] !== 0) await this.addInUse(q, inst.va, type, grant.delta[type])
      const values = grant.licenses.flatMap((l) => [who.udi, l.type, l.granted, l.requested, l.shortage])
      await q.run(`INSERT INTO allocations (udi, type, count, requested, shortage) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)
        ON CONFLICT (udi, type) DO UPDATE SET count = excluded.count, requested = excluded.requested, shortage = excluded.shortage`, values)
      await q.run('UPDATE instances SET status = ?, last_seen_at = ? WHERE udi = ?', [grant.status, at.toISOString(), who.udi])
      const short = grant.licenses.filter((l) => l.shortage > 0)
      await this.event(q, at, 'authorization', inst.va, who.udi, {
        status: grant.status, usage, shortage: short.length > 0 ? Object.fromEntries(short.map((l) => [l.type, l.shortage])) : undefined,
      })
      return {status: grant.status, licenses: grant.licenses, smartAccount: inst.smart_account, virtualAccount: inst.va, exportControlled: exportText(inst.export_controlled)}
    })
  }

  renewRegistration(who: Requester, hostname: string | null, ip: string | null, certSerial: string, at: Date): Promise<InstanceIdentity> {
    return this.write(async (q) => {
      const inst = await this.requireInstance(q, who)
      await q.run('UPDATE instances SET hostname = ?, ip = ?, cert_serial = ?, renewed_at = ?, last_seen_at = ? WHERE udi = ?', [hostname, ip, certSerial, at.toISOString(), at.toISOString(), who.udi])
      await this.event(q, at, 'registration-renewed', inst.va, who.udi, {hostname})
      return {udi: who.udi, va: inst.va, smartAccount: inst.smart_account, publicKey: inst.public_key, exportControlled: exportText(inst.export_controlled)}
    })
  }

  deregister(who: Requester, at: Date): Promise<LicenseCounts> {
    return this.write(async (q) => {
      const inst = await this.requireInstance(q, who)
      const released = await this.releaseAllocations(q, who.udi, inst.va)
      await q.run('DELETE FROM instances WHERE udi = ?', [who.udi])
      await this.event(q, at, 'deregistered', inst.va, who.udi, {released})
      return released
    })
  }

  ping(who: Requester, at: Date): Promise<InstanceIdentity> {
    return this.write(async (q) => {
      const inst = await this.requireInstance(q, who)
      await q.run('UPDATE instances SET last_seen_at = ? WHERE udi = ?', [at.toISOString(), who.udi])
      return {udi: who.udi, va: inst.va, smartAccount: inst.smart_account, publicKey: inst.public_key, exportControlled: exportText(inst.export_controlled)}
    })
  }

  // ---------------------------------------------------------------- admin removal

  removeInstance(udi: string, at: Date, checkReturn: (reservation: ReservationRecord) => void): Promise<{udi: string; released: LicenseCounts; reservationReturned: boolean}> {
    return this.write(async (q) => {
      const inst = await this.instanceRow(q, udi, true)
      const reservation = await this.reservationIn(q, 'udi', udi, true)
      if (!inst && !reservation) {
        const site = (await q.all<{id: string; instances: string}>('SELECT id, instances FROM onprem_sites'))
          .find((s) => (JSON.parse(s.instances) as OnPremInstance[]).some((i) => i.udi === udi))
        if (site) {
          throw new RefusedError(`The product instance ${udi} is registered at the On-Prem ${site.id.slice(0, 16)}…, which reported it at its last synchronization: remove it there.`, {
            actions: ['At the On-Prem: `xway license-server instances remove DIR UDI`; the CSSM no longer lists it after the next synchronization.'],
          })
        }
        throw new BadInputError(`There is no product instance ${udi} on this license server.`, {
          actions: ['List them with `xway license-server instances DIR`.'],
        })
      }
      if (reservation) checkReturn(reservation)
      const released = zeroCounts()
      if (inst) {
        Object.assign(released, await this.releaseAllocations(q, udi, inst.va))
        await q.run('DELETE FROM instances WHERE udi = ?', [udi])
        await this.event(q, at, 'instance-removed', inst.va, udi, {released})
      }
      if (reservation) {
        for (const type of LICENSE_TYPES) released[type] += reservationHolding(reservation.confirmed, reservation.pending, type)
        await q.run('DELETE FROM reservation_counts WHERE udi = ?', [udi])
        await q.run('DELETE FROM reservations WHERE udi = ?', [udi])
        await this.recomputeReserved(q, reservation.virtualAccount)
        await this.event(q, at, 'reservation-returned', reservation.virtualAccount, udi, {kind: reservation.kind})
      }
      return {udi, released, reservationReturned: reservation !== null}
    })
  }

  // ---------------------------------------------------------------- reservations

  reservation(udi: string): Promise<ReservationRecord | null> {
    return this.read((q) => this.reservationIn(q, 'udi', udi, false))
  }

  reservationByPiid(piid: string): Promise<ReservationRecord | null> {
    return this.read((q) => this.reservationIn(q, 'piid', piid, false))
  }

  /** The first code of a reservation is reserved at once (CSSM reserves on generation); an update stays in transit until confirmed. */
  authorizeReservation(input: ReservationInput, sign: (timestamp: number) => string): Promise<ReservationRecord> {
    return this.write(async (q) => {
      await this.requireVa(q, input.va)
      const existing = await this.reservationIn(q, 'udi', input.udi, true)
      if (existing && existing.virtualAccount !== input.va) {
        throw new RefusedError(`The product instance ${input.udi} holds a reservation in virtual account ${existing.virtualAccount}, not ${input.va}.`, {
          actions: [`Update it in ${existing.virtualAccount}, or have the unit return it first (instances remove with --return-code).`],
        })
      }
      if (existing && existing.kind !== input.kind) {
        throw new RefusedError(`The product instance ${input.udi} holds a ${existing.kind} reservation; it cannot become ${input.kind} by an update.`, {
          actions: ['Have the unit return the reservation (`xway licensing reservation return UNIT`), remove the instance with that return code, then reserve again.'],
        })
      }
      const first = existing === null
      const confirmed = existing ? existing.confirmed : zeroCounts()
      const pending = existing ? existing.pending : zeroCounts()
      const rows = await this.licenseRows(q, input.va, true)
      checkReservationFits(input.va, {first, confirmed, pending, counts: input.counts}, SqlLicenseStore.available(rows))
      const timestamp = Math.max(input.at.getTime(), (existing?.timestamp ?? 0) + 1)
      const code = sign(timestamp)
      const iso = input.at.toISOString()
      const newConfirmed = first ? input.counts : confirmed
      const state = first || input.kind === 'PLR' ? 'confirmed' : 'in-transit'
      if (existing) {
        await q.run('UPDATE reservations SET request_code = ?, state = ?, auth_timestamp = ?, until = ?, authorization_code = ?, updated_at = ? WHERE udi = ?',
          [input.requestCode, state, timestamp, input.until, code, iso, input.udi])
      } else {
        await q.run(`INSERT INTO reservations (udi, piid, va, kind, request_code, state, auth_timestamp, until, authorization_code, created_at, updated_at, confirmed_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [input.udi, input.piid, input.va, input.kind, input.requestCode, state, timestamp, input.until, code, iso, iso, iso])
      }
      const values = LICENSE_TYPES.flatMap((type) => [input.udi, type, newConfirmed[type], input.counts[type]])
      await q.run(`INSERT INTO reservation_counts (udi, type, confirmed, pending) VALUES (?, ?, ?, ?), (?, ?, ?, ?), (?, ?, ?, ?)
        ON CONFLICT (udi, type) DO UPDATE SET confirmed = excluded.confirmed, pending = excluded.pending`, values)
      await this.recomputeReserved(q, input.va)
      await this.event(q, input.at, first ? 'reservation-authorized' : 'reservation-updated', input.va, input.udi, {kind: input.kind, counts: input.counts, timestamp})
      return (await this.reservationIn(q, 'udi', input.udi, false))!
    })
  }

  confirmReservation(udi: string, timestamp: number, at: Date): Promise<{reservation: ReservationRecord; alreadyConfirmed: boolean}> {
    return this.write(async (q) => {
      const existing = await this.reservationIn(q, 'udi', udi, true)
      if (!existing) throw new BadInputError(`There is no reservation for ${udi} on this license server.`)
      if (timestamp !== existing.timestamp) {
        throw new BadInputError(`This confirmation code is for an authorization code (timestamp ${timestamp}) that is not the latest for ${udi} (timestamp ${existing.timestamp}).`, {
          actions: ['Install the latest authorization code on the unit and enter the confirmation code it prints.'],
        })
      }
      if (existing.state === 'confirmed' && LICENSE_TYPES.every((t) => existing.confirmed[t] === existing.pending[t])) {
        return {reservation: existing, alreadyConfirmed: true}
      }
      await q.run('UPDATE reservation_counts SET confirmed = pending WHERE udi = ?', [udi])
      await q.run(`UPDATE reservations SET state = 'confirmed', confirmed_at = ?, updated_at = ? WHERE udi = ?`, [at.toISOString(), at.toISOString(), udi])
      await this.recomputeReserved(q, existing.virtualAccount)
      await this.event(q, at, 'reservation-confirmed', existing.virtualAccount, udi, {timestamp})
      return {reservation: (await this.reservationIn(q, 'udi', udi, false))!, alreadyConfirmed: false}
    })
  }

  // ---------------------------------------------------------------- On-Prem synchronization

  onPremSync(input: OnPremSyncInput): Promise<OnPremSyncRecord> {
    return this.write(async (q) => {
      const site = await q.get<{va: string; public_key: string; last_seq: number}>(`SELECT s.va, s.public_key, s.last_seq FROM onprem_sites s WHERE s.id = ?${this.db.forUpdate('s')}`, [input.site])
      const iso = input.at.toISOString()
      let linked = false
      if (!site) {
        if (input.tokenHash === null) {
          throw new BadInputError(`This On-Prem (${input.site.slice(0, 16)}…) is not linked to this CSSM, and its request holds no token.`, {
            actions: ['At the On-Prem: `xway license-server onprem link DIR --virtual-account VA --token T` with a token of this CSSM, then export a new request.'],
          })
        }
        let token: TokenRecord
        try {
          token = await this.token(q, input.tokenHash, input.at)
        } catch (err) {
          if (err instanceof LicenseServerError) throw new BadInputError(`The On-Prem's token is refused: ${err.message}`)
          throw err
        }
        if (token.va !== input.virtualAccount) throw new BadInputError(`The On-Prem's token belongs to virtual account ${token.va}, not ${input.virtualAccount}.`)
        await q.run('INSERT INTO onprem_sites (id, va, public_key, last_seq, linked_at, synced_at, usage, instances) VALUES (?, ?, ?, 0, ?, ?, ?, ?)',
          [input.site, input.virtualAccount, input.publicKey, iso, iso, '{}', '[]'])
        await this.event(q, input.at, 'onprem-linked', input.virtualAccount, null, {site: input.site, token: token.id})
        linked = true
      } else {
        if (site.va !== input.virtualAccount) throw new BadInputError(`This On-Prem is linked to virtual account ${site.va}, not ${input.virtualAccount}.`)
        if (!sameKey(site.public_key, input.publicKey)) throw new BadInputError('This request is signed by another key than the one the On-Prem was linked with.')
      }
      const last = Number(site?.last_seq ?? 0)
      if (input.sequence <= last) {
        throw new BadInputError(`This request (sequence ${input.sequence}) is ${input.sequence === last ? 'already answered (replayed)' : 'older than the last answered'}: the last request of this On-Prem answered was ${last}.`, {
          actions: ['At the On-Prem, export a new request (`xway license-server sync export DIR -o REQUEST`).'],
        })
      }
      const va = await this.requireVa(q, input.virtualAccount)
      const rows = await this.licenseRows(q, input.virtualAccount, true)
      const free = SqlLicenseStore.available(rows)
      const held = countsOf(await q.all<{type: LicenseType; n: number}>('SELECT type, count AS n FROM onprem_allocations WHERE site = ?', [input.site]))
      const licenses = zeroCounts()
      for (const type of LICENSE_TYPES) {
        licenses[type] = Math.min(input.requested[type], held[type] + free[type])
        const delta = licenses[type] - held[type]
        if (delta !== 0) {
          try {
            await q.run('UPDATE licenses SET on_prem = on_prem + ? WHERE va = ? AND type = ?', [delta, input.virtualAccount, type])
          } catch (err) {
            if (isCheckViolation(err)) throw new LicenseServerError('internal', 'The pool would go negative; the synchronization was not applied.')
            throw err
          }
        }
        await q.run('INSERT INTO onprem_allocations (site, type, count) VALUES (?, ?, ?) ON CONFLICT (site, type) DO UPDATE SET count = excluded.count', [input.site, type, licenses[type]])
      }
      await q.run('UPDATE onprem_sites SET last_seq = ?, synced_at = ?, usage = ?, instances = ? WHERE id = ?',
        [input.sequence, iso, JSON.stringify(input.usage), JSON.stringify(input.instances), input.site])
      await this.event(q, input.at, 'onprem-synchronized', input.virtualAccount, null, {site: input.site, sequence: input.sequence, usage: input.usage, allocated: licenses})
      return {smartAccount: va.smart_account, virtualAccount: input.virtualAccount, licenses, linked}
    })
  }

  onPremImport(input: {smartAccount: string; virtualAccount: string; licenses: LicenseCounts; meta: Record<string, string>; at: Date},
    keys: string[], check: (meta: Record<string, string | null>) => void): Promise<PoolView> {
    return this.write(async (q) => {
      // the first write takes SQLite's write lock (PostgreSQL: the meta rows' locks) before the check
      await q.run(`INSERT INTO meta (key, value) VALUES ('onpremImportLock', '') ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      const current: Record<string, string | null> = {}
      for (const key of keys) current[key] = (await q.get<{value: string}>(`SELECT value FROM meta WHERE key = ?${this.db.forUpdate()}`, [key]))?.value ?? null
      check(current)
      const iso = input.at.toISOString()
      const existing = await q.get<{smart_account: string}>('SELECT smart_account FROM virtual_accounts WHERE name = ?', [input.virtualAccount])
      if (!existing) {
        await q.run('INSERT INTO smart_accounts (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [input.smartAccount, iso])
        await q.run('INSERT INTO virtual_accounts (name, smart_account, created_at) VALUES (?, ?, ?)', [input.virtualAccount, input.smartAccount, iso])
        for (const type of LICENSE_TYPES) await q.run('INSERT INTO licenses (va, type) VALUES (?, ?)', [input.virtualAccount, type])
        await this.event(q, input.at, 'account-created', input.virtualAccount, null, {smartAccount: input.smartAccount, fromCssm: true})
      }
      const rows = await this.licenseRows(q, input.virtualAccount, true)
      for (const type of LICENSE_TYPES) {
        const r = rows.get(type)!
        // what units already hold stays counted: the pool never goes below it
        const owned = Math.max(input.licenses[type], r.in_use + r.reserved + r.in_transit)
        await q.run('UPDATE licenses SET owned = ? WHERE va = ? AND type = ?', [owned, input.virtualAccount, type])
      }
      for (const [key, value] of Object.entries(input.meta)) {
        await q.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value])
      }
      await this.event(q, input.at, 'onprem-imported', input.virtualAccount, null, {licenses: input.licenses})
      return this.poolOf(q, input.virtualAccount)
    })
  }
}
