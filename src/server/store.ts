import Database from 'better-sqlite3'
import {BadInputError, RefusedError} from '../errors.js'
import {
  LICENSE_TYPES, LicenseServerError,
  type AuthorizationResult, type ExportControlled, type LicenseCounts, type LicenseType, type ProductInfo, type ReservationKind,
} from '../licensing/protocol.js'

// The license server's state: one SQLite database (WAL) that the HTTPS server and the admin
// commands open at the same time. Every change is one IMMEDIATE transaction, so writers
// (several processes included) are serialized by SQLite's write lock and each sees the
// effects of the previous one. Counts are also guarded by CHECK constraints: a bug that
// would over-allocate aborts its transaction instead of corrupting the pool.

export const SCHEMA_VERSION = 1
const BUSY_TIMEOUT_MS = 10_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS smart_accounts (
  name TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS virtual_accounts (
  name TEXT PRIMARY KEY,
  smart_account TEXT NOT NULL REFERENCES smart_accounts(name),
  created_at TEXT NOT NULL
);
-- one row per virtual account and type; in_use = sum of allocations, reserved/in_transit = sums over reservations
CREATE TABLE IF NOT EXISTS licenses (
  va TEXT NOT NULL REFERENCES virtual_accounts(name),
  type TEXT NOT NULL CHECK (type IN ('rms', 'room', 'desktop')),
  owned INTEGER NOT NULL DEFAULT 0 CHECK (owned >= 0),
  in_use INTEGER NOT NULL DEFAULT 0 CHECK (in_use >= 0),
  reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
  in_transit INTEGER NOT NULL DEFAULT 0 CHECK (in_transit >= 0),
  PRIMARY KEY (va, type),
  CHECK (in_use + reserved + in_transit <= owned)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  va TEXT NOT NULL REFERENCES virtual_accounts(name),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  uses_left INTEGER CHECK (uses_left IS NULL OR uses_left >= 0),
  uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
  export_controlled INTEGER NOT NULL CHECK (export_controlled IN (0, 1))
);
CREATE TABLE IF NOT EXISTS instances (
  udi TEXT PRIMARY KEY,
  va TEXT NOT NULL REFERENCES virtual_accounts(name),
  hostname TEXT,
  ip TEXT,
  public_key TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  product TEXT NOT NULL,
  export_controlled INTEGER NOT NULL CHECK (export_controlled IN (0, 1)),
  token_id TEXT,
  registered_at TEXT NOT NULL,
  renewed_at TEXT,
  last_seen_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'registered'
    CHECK (status IN ('registered', 'authorized', 'out-of-compliance', 'no-licenses-in-use'))
);
CREATE INDEX IF NOT EXISTS instances_by_va ON instances(va);
-- what each instance holds (count), last asked for (requested) and lacked (shortage)
CREATE TABLE IF NOT EXISTS allocations (
  udi TEXT NOT NULL REFERENCES instances(udi) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('rms', 'room', 'desktop')),
  count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
  requested INTEGER NOT NULL DEFAULT 0 CHECK (requested >= 0),
  shortage INTEGER NOT NULL DEFAULT 0 CHECK (shortage >= 0),
  PRIMARY KEY (udi, type)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations (
  udi TEXT PRIMARY KEY,
  piid TEXT NOT NULL UNIQUE,
  va TEXT NOT NULL REFERENCES virtual_accounts(name),
  kind TEXT NOT NULL CHECK (kind IN ('SLR', 'PLR')),
  request_code TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('in-transit', 'confirmed')),
  auth_timestamp INTEGER NOT NULL,
  until TEXT,
  authorization_code TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  confirmed_at TEXT
);
-- confirmed: what the unit confirmed installing; pending: the latest authorization code
CREATE TABLE IF NOT EXISTS reservation_counts (
  udi TEXT NOT NULL REFERENCES reservations(udi) ON DELETE CASCADE,
  type TEXT NOT NULL CHECK (type IN ('rms', 'room', 'desktop')),
  confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed >= 0),
  pending INTEGER NOT NULL DEFAULT 0 CHECK (pending >= 0),
  PRIMARY KEY (udi, type)
) WITHOUT ROWID;
-- nonces of signed requests, kept while their timestamp is fresh, to refuse replays
CREATE TABLE IF NOT EXISTS nonces (
  udi TEXT NOT NULL,
  nonce TEXT NOT NULL,
  expires INTEGER NOT NULL,
  PRIMARY KEY (udi, nonce)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_by_expiry ON nonces(expires);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  kind TEXT NOT NULL,
  va TEXT,
  udi TEXT,
  detail TEXT
);
`

export interface PoolLine {
  type: LicenseType
  owned: number
  inUse: number
  reserved: number
  inTransit: number
  available: number
  shortage: number
}

export interface PoolView {
  virtualAccount: string
  licenses: PoolLine[]
}

export interface InstanceView {
  udi: string
  virtualAccount: string
  hostname: string | null
  registeredAt: string
  ip: string | null
  lastSeenAt: string | null
  exportControlled: ExportControlled | null
  status: 'registered' | AuthorizationResult | 'reserved'
  licenses: LicenseCounts
  reservation: {kind: ReservationKind; state: 'in-transit' | 'confirmed'} | null
}

export interface TokenRecord {
  id: string
  va: string
  smartAccount: string
  expiresAt: string
  usesLeft: number | null
  exportControlled: boolean
}

export interface RegistrationInput {
  tokenHash: string
  udi: string
  publicKey: string
  certSerial: string
  product: ProductInfo
  hostname: string | null
  ip: string | null
  force: boolean
  nonce: string
  nonceExpires: number
  at: Date
}

export interface RegistrationRecord {
  udi: string
  smartAccount: string
  virtualAccount: string
  exportControlled: ExportControlled
  reregistered: boolean
}

export interface AuthorizationRecord {
  status: AuthorizationResult
  licenses: Array<{type: LicenseType; requested: number; granted: number; shortage: number}>
  smartAccount: string
  virtualAccount: string
  exportControlled: ExportControlled
}

export interface InstanceIdentity {
  udi: string
  va: string
  smartAccount: string
  publicKey: string
  exportControlled: ExportControlled
}

export interface ReservationRecord {
  udi: string
  piid: string
  virtualAccount: string
  kind: ReservationKind
  requestCode: string
  state: 'in-transit' | 'confirmed'
  timestamp: number
  until: string | null
  confirmed: LicenseCounts
  pending: LicenseCounts
  authorizationCode: string
}

interface LicenseRow {type: LicenseType; owned: number; in_use: number; reserved: number; in_transit: number}
interface InstanceRow {
  udi: string; va: string; hostname: string | null; ip: string | null; public_key: string; cert_serial: string
  export_controlled: number; registered_at: string; last_seen_at: string; status: InstanceView['status']; smart_account: string
}

export function zeroCounts(): LicenseCounts {
  return {rms: 0, room: 0, desktop: 0}
}

function exportText(flag: number | boolean): ExportControlled {
  return flag ? 'Allowed' : 'Not Allowed'
}

function isConstraint(err: unknown): boolean {
  return typeof (err as {code?: unknown})?.code === 'string' && (err as {code: string}).code.startsWith('SQLITE_CONSTRAINT')
}

/**
 * The store. Open one per process (the server keeps it open; admin commands open, act and
 * close). Methods are synchronous: better-sqlite3 runs each transaction to completion.
 */
export class LicenseStore {
  readonly db: Database.Database
  private readonly stmt: ReturnType<LicenseStore['prepare']>

  constructor(path: string, options: {create?: boolean} = {}) {
    this.db = new Database(path, {fileMustExist: options.create !== true})
    // WAL: readers never block the writer; FULL: a commit is on disk (fsync of the WAL)
    // before the reply that reports it is sent. busy_timeout: admin commands wait for the
    // running server's write lock instead of failing.
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    this.db.pragma('foreign_keys = ON')
    if (options.create) {
      this.db.exec(SCHEMA)
      this.db.prepare('INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)').run('schemaVersion', String(SCHEMA_VERSION))
    }
    const version = (this.db.prepare('SELECT value FROM meta WHERE key = ?').get('schemaVersion') as {value: string} | undefined)?.value
    if (version !== String(SCHEMA_VERSION)) {
      this.db.close()
      throw new BadInputError(`${path} is not a license server database of this version (schema ${version ?? 'missing'}, expected ${SCHEMA_VERSION}).`)
    }
    this.stmt = this.prepare()
  }

  private prepare() {
    const db = this.db
    return {
      vaGet: db.prepare('SELECT va.name, va.smart_account FROM virtual_accounts va WHERE va.name = ?'),
      licensesOfVa: db.prepare('SELECT type, owned, in_use, reserved, in_transit FROM licenses WHERE va = ?'),
      addInUse: db.prepare('UPDATE licenses SET in_use = in_use + ? WHERE va = ? AND type = ?'),
      tokenByHash: db.prepare(`SELECT t.id, t.va, va.smart_account, t.expires_at, t.uses_left, t.export_controlled
        FROM tokens t JOIN virtual_accounts va ON va.name = t.va WHERE t.hash = ?`),
      tokenUse: db.prepare('UPDATE tokens SET uses = uses + 1, uses_left = CASE WHEN uses_left IS NULL THEN NULL ELSE uses_left - 1 END WHERE id = ?'),
      instanceGet: db.prepare(`SELECT i.udi, i.va, i.hostname, i.ip, i.public_key, i.cert_serial, i.export_controlled, i.registered_at,
        i.last_seen_at, i.status, va.smart_account FROM instances i JOIN virtual_accounts va ON va.name = i.va WHERE i.udi = ?`),
      instanceInsert: db.prepare(`INSERT INTO instances (udi, va, hostname, ip, public_key, cert_serial, product, export_controlled, token_id,
        registered_at, renewed_at, last_seen_at, status) VALUES (@udi, @va, @hostname, @ip, @publicKey, @certSerial, @product, @exportControlled,
        @tokenId, @at, NULL, @at, 'registered')`),
      instanceReplace: db.prepare(`UPDATE instances SET va = @va, hostname = @hostname, ip = @ip, public_key = @publicKey, cert_serial = @certSerial,
        product = @product, export_controlled = @exportControlled, token_id = @tokenId, registered_at = @at, renewed_at = NULL, last_seen_at = @at,
        status = 'registered' WHERE udi = @udi`),
      instanceRenew: db.prepare('UPDATE instances SET hostname = ?, ip = ?, cert_serial = ?, renewed_at = ?, last_seen_at = ? WHERE udi = ?'),
      instanceSeen: db.prepare('UPDATE instances SET last_seen_at = ? WHERE udi = ?'),
      instanceStatus: db.prepare('UPDATE instances SET status = ?, last_seen_at = ? WHERE udi = ?'),
      instanceDelete: db.prepare('DELETE FROM instances WHERE udi = ?'),
      allocationsOf: db.prepare('SELECT type, count, requested, shortage FROM allocations WHERE udi = ?'),
      allocationUpsert: db.prepare(`INSERT INTO allocations (udi, type, count, requested, shortage) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (udi, type) DO UPDATE SET count = excluded.count, requested = excluded.requested, shortage = excluded.shortage`),
      allocationsDelete: db.prepare('DELETE FROM allocations WHERE udi = ?'),
      nonceInsert: db.prepare('INSERT OR IGNORE INTO nonces (udi, nonce, expires) VALUES (?, ?, ?)'),
      noncesPrune: db.prepare('DELETE FROM nonces WHERE expires < ?'),
      event: db.prepare('INSERT INTO events (at, kind, va, udi, detail) VALUES (?, ?, ?, ?, ?)'),
    }
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  /** Runs fn in one IMMEDIATE transaction (takes the write lock first, so reads inside see the latest commit). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate()
  }

  private event(at: Date, kind: string, va: string | null, udi: string | null, detail?: unknown): void {
    this.stmt.event.run(at.toISOString(), kind, va, udi, detail === undefined ? null : JSON.stringify(detail))
  }

  private requireVa(va: string): {name: string; smart_account: string} {
    const row = this.stmt.vaGet.get(va) as {name: string; smart_account: string} | undefined
    if (!row) {
      throw new BadInputError(`There is no virtual account named ${JSON.stringify(va)} on this license server.`, {
        actions: ['Create it with `xway license-server account create DIR --name SA --virtual-account VA`.'],
      })
    }
    return row
  }

  private licenseRows(va: string): Map<LicenseType, LicenseRow> {
    const rows = this.stmt.licensesOfVa.all(va) as LicenseRow[]
    return new Map(rows.map((r) => [r.type, r]))
  }

  /** Records a signed request's nonce; a nonce seen before (within its freshness window) is a replay. */
  private useNonce(udi: string, nonce: string, expires: number): void {
    if (this.stmt.nonceInsert.run(udi, nonce, expires).changes === 0) {
      throw new LicenseServerError('replayed', 'This request was already received (same nonce): replays are refused.')
    }
  }

  pruneNonces(nowMs: number): number {
    return this.stmt.noncesPrune.run(nowMs).changes
  }

  // ---------------------------------------------------------------- accounts and licenses

  createAccount(smartAccount: string, virtualAccount: string, at: Date): {smartAccount: string; virtualAccount: string} {
    return this.transaction(() => {
      const existing = this.stmt.vaGet.get(virtualAccount) as {smart_account: string} | undefined
      if (existing) {
        throw new RefusedError(`The virtual account ${JSON.stringify(virtualAccount)} already exists (in smart account ${JSON.stringify(existing.smart_account)}).`, {
          actions: ['Use it as it is, or choose another --virtual-account name.'],
        })
      }
      const iso = at.toISOString()
      this.db.prepare('INSERT OR IGNORE INTO smart_accounts (name, created_at) VALUES (?, ?)').run(smartAccount, iso)
      this.db.prepare('INSERT INTO virtual_accounts (name, smart_account, created_at) VALUES (?, ?, ?)').run(virtualAccount, smartAccount, iso)
      const insert = this.db.prepare('INSERT INTO licenses (va, type) VALUES (?, ?)')
      for (const type of LICENSE_TYPES) insert.run(virtualAccount, type)
      this.event(at, 'account-created', virtualAccount, null, {smartAccount})
      return {smartAccount, virtualAccount}
    })
  }

  addLicenses(va: string, type: LicenseType, count: number, at: Date): PoolLine {
    return this.transaction(() => {
      this.requireVa(va)
      this.db.prepare('UPDATE licenses SET owned = owned + ? WHERE va = ? AND type = ?').run(count, va, type)
      this.event(at, 'licenses-added', va, null, {type, count})
      return this.poolOf(va).licenses.find((l) => l.type === type)!
    })
  }

  createToken(input: {id: string; hash: string; va: string; expiresAt: Date; usesLeft: number | null; exportControlled: boolean; at: Date}): void {
    this.transaction(() => {
      this.requireVa(input.va)
      this.db.prepare(`INSERT INTO tokens (id, hash, va, created_at, expires_at, uses_left, export_controlled) VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(input.id, input.hash, input.va, input.at.toISOString(), input.expiresAt.toISOString(), input.usesLeft, input.exportControlled ? 1 : 0)
      this.event(input.at, 'token-created', input.va, null, {id: input.id, expiresAt: input.expiresAt.toISOString(), uses: input.usesLeft, exportControlled: input.exportControlled})
    })
  }

  pool(va: string): PoolView {
    const read = this.db.transaction(() => {
      this.requireVa(va)
      return this.poolOf(va)
    })
    return read.deferred()
  }

  private poolOf(va: string): PoolView {
    const rows = this.licenseRows(va)
    const shortages = new Map(
      (this.db.prepare(`SELECT a.type, SUM(a.shortage) AS shortage FROM allocations a JOIN instances i ON i.udi = a.udi
        WHERE i.va = ? GROUP BY a.type`).all(va) as Array<{type: LicenseType; shortage: number}>).map((r) => [r.type, r.shortage]),
    )
    return {
      virtualAccount: va,
      licenses: LICENSE_TYPES.map((type) => {
        const r = rows.get(type) ?? {type, owned: 0, in_use: 0, reserved: 0, in_transit: 0}
        return {
          type,
          owned: r.owned,
          inUse: r.in_use,
          reserved: r.reserved,
          inTransit: r.in_transit,
          available: Math.max(0, r.owned - r.in_use - r.reserved - r.in_transit),
          shortage: shortages.get(type) ?? 0,
        }
      }),
    }
  }

  /** Checks the counters against the allocations and reservations they summarize (tests and `verify`). */
  consistency(va: string): {ok: boolean; problems: string[]} {
    const problems: string[] = []
    const rows = this.licenseRows(va)
    const used = new Map((this.db.prepare(`SELECT a.type, SUM(a.count) AS n FROM allocations a JOIN instances i ON i.udi = a.udi
      WHERE i.va = ? GROUP BY a.type`).all(va) as Array<{type: LicenseType; n: number}>).map((r) => [r.type, r.n]))
    const res = this.db.prepare(`SELECT c.type, SUM(c.confirmed) AS reserved, SUM(MAX(0, c.pending - c.confirmed)) AS in_transit
      FROM reservation_counts c JOIN reservations r ON r.udi = c.udi WHERE r.va = ? GROUP BY c.type`).all(va) as Array<{type: LicenseType; reserved: number; in_transit: number}>
    const resBy = new Map(res.map((r) => [r.type, r]))
    for (const type of LICENSE_TYPES) {
      const r = rows.get(type)
      if (!r) { problems.push(`${type}: no row`); continue }
      if (r.in_use !== (used.get(type) ?? 0)) problems.push(`${type}: in_use ${r.in_use} but allocations sum to ${used.get(type) ?? 0}`)
      if (r.reserved !== (resBy.get(type)?.reserved ?? 0)) problems.push(`${type}: reserved ${r.reserved} but reservations sum to ${resBy.get(type)?.reserved ?? 0}`)
      if (r.in_transit !== (resBy.get(type)?.in_transit ?? 0)) problems.push(`${type}: in_transit ${r.in_transit} but reservations sum to ${resBy.get(type)?.in_transit ?? 0}`)
      if (r.in_use + r.reserved + r.in_transit > r.owned) problems.push(`${type}: over-allocated`)
    }
    return {ok: problems.length === 0, problems}
  }

  instances(va?: string): InstanceView[] {
    const read = this.db.transaction(() => {
      if (va !== undefined) this.requireVa(va)
      const registered = this.db.prepare(`SELECT i.udi, i.va, i.hostname, i.ip, i.registered_at, i.last_seen_at, i.export_controlled, i.status
        FROM instances i ${va === undefined ? '' : 'WHERE i.va = ?'} ORDER BY i.registered_at, i.udi`).all(...(va === undefined ? [] : [va])) as Array<{
        udi: string; va: string; hostname: string | null; ip: string | null; registered_at: string; last_seen_at: string; export_controlled: number; status: InstanceView['status']
      }>
      const allocations = this.db.prepare(`SELECT a.udi, a.type, a.count FROM allocations a ${va === undefined ? '' : 'JOIN instances i ON i.udi = a.udi WHERE i.va = ?'}`)
        .all(...(va === undefined ? [] : [va])) as Array<{udi: string; type: LicenseType; count: number}>
      const reservations = this.db.prepare(`SELECT udi, va, kind, state, created_at FROM reservations ${va === undefined ? '' : 'WHERE va = ?'} ORDER BY created_at, udi`)
        .all(...(va === undefined ? [] : [va])) as Array<{udi: string; va: string; kind: ReservationKind; state: 'in-transit' | 'confirmed'; created_at: string}>
      const counts = this.db.prepare('SELECT udi, type, MAX(confirmed, pending) AS n FROM reservation_counts').all() as Array<{udi: string; type: LicenseType; n: number}>
      const byUdi = new Map<string, InstanceView>()
      for (const r of registered) {
        byUdi.set(r.udi, {
          udi: r.udi, virtualAccount: r.va, hostname: r.hostname, registeredAt: r.registered_at, ip: r.ip, lastSeenAt: r.last_seen_at,
          exportControlled: exportText(r.export_controlled), status: r.status, licenses: zeroCounts(), reservation: null,
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
          exportControlled: null, status: 'reserved', licenses: zeroCounts(), reservation,
        })
      }
      for (const c of counts) {
        const view = byUdi.get(c.udi)
        if (view && view.status === 'reserved') view.licenses[c.type] = c.n
      }
      return [...byUdi.values()]
    })
    return read.deferred()
  }

  // ---------------------------------------------------------------- agent exchanges

  /** Read-only token check, so that a bad token costs no certificate. Throws the protocol's token errors. */
  checkToken(tokenHash: string, at: Date): TokenRecord {
    const row = this.stmt.tokenByHash.get(tokenHash) as
      | {id: string; va: string; smart_account: string; expires_at: string; uses_left: number | null; export_controlled: number}
      | undefined
    if (!row) throw new LicenseServerError('token-invalid', 'The registration token is not valid: no such token on this license server.')
    if (Date.parse(row.expires_at) <= at.getTime()) {
      throw new LicenseServerError('token-expired', `The registration token expired at ${row.expires_at}.`)
    }
    if (row.uses_left !== null && row.uses_left <= 0) {
      throw new LicenseServerError('token-used-up', 'The registration token has been used as many times as it allows.')
    }
    return {
      id: row.id, va: row.va, smartAccount: row.smart_account, expiresAt: row.expires_at,
      usesLeft: row.uses_left, exportControlled: row.export_controlled === 1,
    }
  }

  /** The public key and account of a registered instance, or null. */
  identity(udi: string): InstanceIdentity | null {
    const row = this.stmt.instanceGet.get(udi) as InstanceRow | undefined
    if (!row) return null
    return {udi: row.udi, va: row.va, smartAccount: row.smart_account, publicKey: row.public_key, exportControlled: exportText(row.export_controlled)}
  }

  private requireInstance(udi: string): InstanceRow {
    const row = this.stmt.instanceGet.get(udi) as InstanceRow | undefined
    if (!row) {
      throw new LicenseServerError('unknown-instance', `The product instance ${udi} is not registered on this license server (it was deregistered or removed).`)
    }
    return row
  }

  /** Gives back everything an instance holds; returns what was released. */
  private releaseAllocations(udi: string, va: string): LicenseCounts {
    const released = zeroCounts()
    for (const a of this.stmt.allocationsOf.all(udi) as Array<{type: LicenseType; count: number}>) {
      if (a.count > 0) this.stmt.addInUse.run(-a.count, va, a.type)
      released[a.type] = a.count
    }
    this.stmt.allocationsDelete.run(udi)
    return released
  }

  register(input: RegistrationInput): RegistrationRecord {
    return this.transaction(() => {
      this.useNonce(input.udi, input.nonce, input.nonceExpires)
      const token = this.checkToken(input.tokenHash, input.at)
      const existing = this.stmt.instanceGet.get(input.udi) as InstanceRow | undefined
      if (existing && !input.force && existing.public_key !== input.publicKey) {
        throw new LicenseServerError('already-registered', `The product instance ${input.udi} is already registered (virtual account ${existing.va}).`, {
          actions: ['Reregister with force ("Reregister this product instance if it is already registered"), or remove the instance on the license server.'],
        })
      }
      const row = {
        udi: input.udi, va: token.va, hostname: input.hostname, ip: input.ip, publicKey: input.publicKey, certSerial: input.certSerial,
        product: JSON.stringify(input.product), exportControlled: token.exportControlled ? 1 : 0, tokenId: token.id, at: input.at.toISOString(),
      }
      if (existing) {
        // a reregistration starts from nothing held: the agent reports its usage right after registering
        this.releaseAllocations(existing.udi, existing.va)
        this.stmt.instanceReplace.run(row)
      } else {
        this.stmt.instanceInsert.run(row)
      }
      this.stmt.tokenUse.run(token.id)
      this.event(input.at, existing ? 'reregistered' : 'registered', token.va, input.udi, {
        token: token.id, hostname: input.hostname, from: existing && existing.va !== token.va ? existing.va : undefined,
      })
      return {
        udi: input.udi, smartAccount: token.smartAccount, virtualAccount: token.va,
        exportControlled: exportText(token.exportControlled), reregistered: existing !== undefined,
      }
    })
  }

  /**
   * One usage report, granted whole or not at all. The instance asks for `usage` (its full
   * need, not a delta). Per type, it can have what it holds plus what the pool has
   * available. If every type is covered, its allocation becomes exactly the request
   * (lower counts give licenses back). Otherwise nothing changes in what it holds, it is
   * out of compliance, and per type the part of the request beyond (held + available) is
   * recorded as its shortage until its next report.
   */
  authorize(udi: string, usage: LicenseCounts, nonce: string, nonceExpires: number, at: Date): AuthorizationRecord {
    return this.transaction(() => {
      this.useNonce(udi, nonce, nonceExpires)
      const inst = this.requireInstance(udi)
      const held = zeroCounts()
      for (const a of this.stmt.allocationsOf.all(udi) as Array<{type: LicenseType; count: number}>) held[a.type] = a.count
      const rows = this.licenseRows(inst.va)
      const shortage = zeroCounts()
      let short = false
      for (const type of LICENSE_TYPES) {
        const r = rows.get(type)!
        const available = Math.max(0, r.owned - r.in_use - r.reserved - r.in_transit)
        shortage[type] = Math.max(0, usage[type] - (held[type] + available))
        if (shortage[type] > 0) short = true
      }
      const total = LICENSE_TYPES.reduce((sum, t) => sum + usage[t], 0)
      let status: AuthorizationResult
      const granted = short ? held : usage
      if (short) {
        status = 'out-of-compliance'
        for (const type of LICENSE_TYPES) this.stmt.allocationUpsert.run(udi, type, held[type], usage[type], shortage[type])
      } else {
        status = total === 0 ? 'no-licenses-in-use' : 'authorized'
        for (const type of LICENSE_TYPES) {
          const delta = usage[type] - held[type]
          if (delta !== 0) {
            try {
              this.stmt.addInUse.run(delta, inst.va, type)
            } catch (err) {
              // unreachable by construction; the CHECK constraint is the last line of defence
              if (isConstraint(err)) throw new LicenseServerError('internal', 'The pool would be over-allocated; the report was not applied.')
              throw err
            }
          }
          this.stmt.allocationUpsert.run(udi, type, usage[type], usage[type], 0)
        }
      }
      this.stmt.instanceStatus.run(status, at.toISOString(), udi)
      this.event(at, 'authorization', inst.va, udi, {status, usage, shortage: short ? shortage : undefined})
      return {
        status,
        licenses: LICENSE_TYPES.map((type) => ({type, requested: usage[type], granted: granted[type], shortage: shortage[type]})),
        smartAccount: inst.smart_account,
        virtualAccount: inst.va,
        exportControlled: exportText(inst.export_controlled),
      }
    })
  }

  renewRegistration(udi: string, hostname: string | null, ip: string | null, certSerial: string, nonce: string, nonceExpires: number, at: Date): InstanceIdentity {
    return this.transaction(() => {
      this.useNonce(udi, nonce, nonceExpires)
      const inst = this.requireInstance(udi)
      this.stmt.instanceRenew.run(hostname, ip, certSerial, at.toISOString(), at.toISOString(), udi)
      this.event(at, 'registration-renewed', inst.va, udi, {hostname})
      return {udi, va: inst.va, smartAccount: inst.smart_account, publicKey: inst.public_key, exportControlled: exportText(inst.export_controlled)}
    })
  }

  deregister(udi: string, nonce: string, nonceExpires: number, at: Date): LicenseCounts {
    return this.transaction(() => {
      this.useNonce(udi, nonce, nonceExpires)
      const inst = this.requireInstance(udi)
      const released = this.releaseAllocations(udi, inst.va)
      this.stmt.instanceDelete.run(udi)
      this.event(at, 'deregistered', inst.va, udi, {released})
      return released
    })
  }

  ping(udi: string, nonce: string, nonceExpires: number, at: Date): InstanceIdentity {
    return this.transaction(() => {
      this.useNonce(udi, nonce, nonceExpires)
      const inst = this.requireInstance(udi)
      this.stmt.instanceSeen.run(at.toISOString(), udi)
      return {udi, va: inst.va, smartAccount: inst.smart_account, publicKey: inst.public_key, exportControlled: exportText(inst.export_controlled)}
    })
  }

  // ---------------------------------------------------------------- admin removal

  /**
   * Removes a product instance: a registered one (its licenses go back to the pool) and/or
   * a reserved one, which needs the return code the unit printed (checked by `checkReturn`).
   */
  removeInstance(udi: string, at: Date, checkReturn: (reservation: ReservationRecord) => void): {udi: string; released: LicenseCounts; reservationReturned: boolean} {
    return this.transaction(() => {
      const inst = this.stmt.instanceGet.get(udi) as InstanceRow | undefined
      const reservation = this.reservation(udi)
      if (!inst && !reservation) {
        throw new BadInputError(`There is no product instance ${udi} on this license server.`, {
          actions: ['List them with `xway license-server instances DIR`.'],
        })
      }
      if (reservation) checkReturn(reservation)
      const released = zeroCounts()
      if (inst) {
        Object.assign(released, this.releaseAllocations(udi, inst.va))
        this.stmt.instanceDelete.run(udi)
        this.event(at, 'instance-removed', inst.va, udi, {released})
      }
      if (reservation) {
        for (const type of LICENSE_TYPES) released[type] += Math.max(reservation.confirmed[type], reservation.pending[type])
        this.db.prepare('DELETE FROM reservations WHERE udi = ?').run(udi)
        this.recomputeReserved(reservation.virtualAccount)
        this.event(at, 'reservation-returned', reservation.virtualAccount, udi, {kind: reservation.kind})
      }
      return {udi, released, reservationReturned: reservation !== null}
    })
  }

  // ---------------------------------------------------------------- reservations

  reservation(udi: string): ReservationRecord | null {
    const row = this.db.prepare('SELECT * FROM reservations WHERE udi = ?').get(udi) as
      | {udi: string; piid: string; va: string; kind: ReservationKind; request_code: string; state: 'in-transit' | 'confirmed'; auth_timestamp: number; until: string | null; authorization_code: string}
      | undefined
    if (!row) return null
    const confirmed = zeroCounts()
    const pending = zeroCounts()
    for (const c of this.db.prepare('SELECT type, confirmed, pending FROM reservation_counts WHERE udi = ?').all(udi) as Array<{type: LicenseType; confirmed: number; pending: number}>) {
      confirmed[c.type] = c.confirmed
      pending[c.type] = c.pending
    }
    return {
      udi: row.udi, piid: row.piid, virtualAccount: row.va, kind: row.kind, requestCode: row.request_code, state: row.state,
      timestamp: row.auth_timestamp, until: row.until, confirmed, pending, authorizationCode: row.authorization_code,
    }
  }

  reservationByPiid(piid: string): ReservationRecord | null {
    const row = this.db.prepare('SELECT udi FROM reservations WHERE piid = ?').get(piid) as {udi: string} | undefined
    return row ? this.reservation(row.udi) : null
  }

  /** reserved = what units confirmed; in transit = what the latest codes add on top, until confirmed. */
  private recomputeReserved(va: string): void {
    const sums = new Map((this.db.prepare(`SELECT c.type, SUM(c.confirmed) AS reserved, SUM(MAX(0, c.pending - c.confirmed)) AS in_transit
      FROM reservation_counts c JOIN reservations r ON r.udi = c.udi WHERE r.va = ? GROUP BY c.type`).all(va) as Array<{type: LicenseType; reserved: number; in_transit: number}>)
      .map((r) => [r.type, r]))
    const update = this.db.prepare('UPDATE licenses SET reserved = ?, in_transit = ? WHERE va = ? AND type = ?')
    for (const type of LICENSE_TYPES) {
      const s = sums.get(type)
      update.run(s?.reserved ?? 0, s?.in_transit ?? 0, va, type)
    }
  }

  /**
   * Creates or updates the reservation of a UDI and returns it with the authorization code
   * `sign` builds for it (inside the transaction, so the stored code is the one handed out).
   * The first code of a reservation is reserved at once (CSSM reserves on generation);
   * an update stays in transit until the unit's confirmation code is entered.
   */
  authorizeReservation(
    input: {va: string; udi: string; piid: string; requestCode: string; kind: ReservationKind; counts: LicenseCounts; until: string | null; at: Date},
    sign: (timestamp: number) => string,
  ): ReservationRecord {
    return this.transaction(() => {
      this.requireVa(input.va)
      const existing = this.reservation(input.udi)
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
      const confirmed = existing ? existing.confirmed : zeroCounts()
      const oldPending = existing ? existing.pending : zeroCounts()
      const first = existing === null
      const rows = this.licenseRows(input.va)
      for (const type of LICENSE_TYPES) {
        const before = Math.max(confirmed[type], oldPending[type])
        const after = first ? input.counts[type] : Math.max(confirmed[type], input.counts[type])
        const r = rows.get(type)!
        const available = Math.max(0, r.owned - r.in_use - r.reserved - r.in_transit)
        if (after - before > available) {
          throw new RefusedError(`Virtual account ${input.va} has ${available} ${type} license(s) available; this reservation needs ${after - before} more.`, {
            actions: [`Add licenses (\`xway license-server licenses add DIR --virtual-account ${input.va} --type ${type} --count N\`) or reserve fewer.`],
          })
        }
      }
      const timestamp = Math.max(input.at.getTime(), (existing?.timestamp ?? 0) + 1)
      const code = sign(timestamp)
      const iso = input.at.toISOString()
      const newConfirmed = first ? input.counts : confirmed
      const state = first || input.kind === 'PLR' ? 'confirmed' : 'in-transit'
      if (existing) {
        this.db.prepare(`UPDATE reservations SET request_code = ?, state = ?, auth_timestamp = ?, until = ?, authorization_code = ?, updated_at = ? WHERE udi = ?`)
          .run(input.requestCode, state, timestamp, input.until, code, iso, input.udi)
      } else {
        this.db.prepare(`INSERT INTO reservations (udi, piid, va, kind, request_code, state, auth_timestamp, until, authorization_code, created_at, updated_at, confirmed_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(input.udi, input.piid, input.va, input.kind, input.requestCode, state, timestamp, input.until, code, iso, iso, iso)
      }
      const upsert = this.db.prepare(`INSERT INTO reservation_counts (udi, type, confirmed, pending) VALUES (?, ?, ?, ?)
        ON CONFLICT (udi, type) DO UPDATE SET confirmed = excluded.confirmed, pending = excluded.pending`)
      for (const type of LICENSE_TYPES) upsert.run(input.udi, type, newConfirmed[type], input.counts[type])
      this.recomputeReserved(input.va)
      this.event(input.at, first ? 'reservation-authorized' : 'reservation-updated', input.va, input.udi, {kind: input.kind, counts: input.counts, timestamp})
      return this.reservation(input.udi)!
    })
  }

  /** The unit installed the code with this timestamp: its counts become the reserved ones. */
  confirmReservation(udi: string, timestamp: number, at: Date): {reservation: ReservationRecord; alreadyConfirmed: boolean} {
    return this.transaction(() => {
      const existing = this.reservation(udi)
      if (!existing) throw new BadInputError(`There is no reservation for ${udi} on this license server.`)
      if (timestamp !== existing.timestamp) {
        throw new BadInputError(`This confirmation code is for an authorization code (timestamp ${timestamp}) that is not the latest for ${udi} (timestamp ${existing.timestamp}).`, {
          actions: ['Install the latest authorization code on the unit and enter the confirmation code it prints.'],
        })
      }
      if (existing.state === 'confirmed' && LICENSE_TYPES.every((t) => existing.confirmed[t] === existing.pending[t])) {
        return {reservation: existing, alreadyConfirmed: true}
      }
      this.db.prepare('UPDATE reservation_counts SET confirmed = pending WHERE udi = ?').run(udi)
      this.db.prepare(`UPDATE reservations SET state = 'confirmed', confirmed_at = ?, updated_at = ? WHERE udi = ?`).run(at.toISOString(), at.toISOString(), udi)
      this.recomputeReserved(existing.virtualAccount)
      this.event(at, 'reservation-confirmed', existing.virtualAccount, udi, {timestamp})
      return {reservation: this.reservation(udi)!, alreadyConfirmed: false}
    })
  }
}

export function openStore(path: string): LicenseStore {
  return new LicenseStore(path)
}

export function createStore(path: string): LicenseStore {
  return new LicenseStore(path, {create: true})
}
