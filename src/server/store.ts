import {BadInputError} from '../errors.js'
import {LicenseServerError} from '../licensing/protocol.js'
import type {ReservationKind} from '../licensing/authorization-code.js'
import type {LicenseCounts, LicenseType} from '../licensing/license-types.js'
import type {AuthorizationResult, ExportControlled, LicenseGrant, ProductInfo} from '../licensing/protocol.js'
import {migrate, newerSchemaError, schemaVersionOf, SCHEMA_VERSION} from './migrations.js'
import type {SqlDatabase} from './sql.js'
import {SqlLicenseStore} from './sql-store.js'

// The license server's state behind one interface, on SQLite (a file in the server folder)
// or PostgreSQL (shared by every process and every copy of the folder). Every change is one
// transaction; the allocation policy is in allocation.ts, the SQL in sql-store.ts, the
// databases in sqlite.ts and postgres.ts, the schema in migrations.ts.

export interface PoolLine {
  type: LicenseType
  owned: number
  inUse: number
  reserved: number
  inTransit: number
  /** allocated to On-Prems of this CSSM at their synchronizations (always 0 at an On-Prem) */
  onPrem: number
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
  /** at a CSSM: the On-Prem (its id) that the instance is registered at, as its last synchronization reported; null when registered here */
  onPrem: string | null
}

/** A product instance as an On-Prem reports it to its CSSM at each synchronization. */
export interface OnPremInstance {
  udi: string
  hostname: string | null
  status: InstanceView['status']
  licenses: LicenseCounts
  registeredAt: string | null
  lastSeenAt: string | null
  exportControlled: ExportControlled | null
}

export interface AccountView {
  smartAccount: string
  virtualAccount: string
  /** the smart account may use export-controlled functionality: its tokens may say Allowed, its SLRs may hold Advanced Account Security */
  exportControl: boolean
  createdAt: string
}

/** Classic (PAK) licenses of a virtual account: what was converted to smart licenses and what a partial conversion forfeited. */
export interface PakView {
  pak: string
  virtualAccount: string
  type: LicenseType
  count: number
  converted: number
  forfeited: number
  /** count − converted − forfeited: what a conversion can still turn into smart licenses */
  available: number
  addedAt: string
  convertedAt: string | null
}

export interface PakConversion {
  pak: PakView
  /** what this conversion added to the pool, and what it forfeited */
  converted: number
  forfeited: number
  line: PoolLine
}

export interface EventView {
  id: number
  at: string
  kind: string
  virtualAccount: string | null
  udi: string | null
  detail: unknown
}

export interface EventPage {
  total: number
  offset: number
  limit: number
  /** newest first */
  events: EventView[]
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
  /** canonical SPKI PEM (transport-security.ts canonicalPublicKey) */
  publicKey: string
  /** the serial of the identity certificate the server issues once the registration is stored */
  certSerial: string
  product: ProductInfo
  hostname: string | null
  ip: string | null
  force: boolean
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
  licenses: LicenseGrant[]
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

/** The product instance a request speaks for, as its TLS client certificate proved it: its UDI and key. */
export interface Requester {
  udi: string
  /** canonical SPKI PEM of the certificate's key */
  publicKey: string
}

/** Said only to a requester whose identity certificate proved it is that instance (or was, before it was removed). */
export function unknownInstance(udi: string): LicenseServerError {
  return new LicenseServerError('unknown-instance', `The product instance ${udi} is not registered on this license server (it was deregistered, removed, or registered again under another key).`)
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

export interface ReservationInput {
  va: string
  udi: string
  piid: string
  requestCode: string
  kind: ReservationKind
  counts: LicenseCounts
  until: string | null
  at: Date
}

export interface TokenView {
  id: string
  virtualAccount: string
  description: string | null
  createdAt: string
  expiresAt: string
  /** registrations left (null: unlimited) */
  usesLeft: number | null
  /** registrations it made (events registered and reregistered carrying its id) */
  uses: number
  exportControlled: boolean
  revokedAt: string | null
}

export interface PortalSession {
  user: string
  csrf: string
  createdAt: string
  lastSeenAt: string
}

/** A synchronization request of an On-Prem, as the CSSM records it (its signature already verified). */
export interface OnPremSyncInput {
  /** SHA-256 of the On-Prem's public key (DER), hex */
  site: string
  publicKey: string
  sequence: number
  virtualAccount: string
  /** SHA-256 of the token the On-Prem was linked with; needed only on first use */
  tokenHash: string | null
  usage: LicenseCounts
  instances: OnPremInstance[]
  requested: LicenseCounts
  at: Date
}

export interface OnPremSyncRecord {
  smartAccount: string
  virtualAccount: string
  /** what the On-Prem holds from now on */
  licenses: LicenseCounts
  linked: boolean
}

export interface LicenseStore {
  readonly kind: 'sqlite' | 'postgres'
  close(): Promise<void>
  schemaVersion(): Promise<number>
  meta(key: string): Promise<string | null>
  setMeta(key: string, value: string): Promise<void>

  /** Refuses a smart account that exists with the other export-control permission. */
  createAccount(smartAccount: string, virtualAccount: string, at: Date, exportControl?: boolean): Promise<{smartAccount: string; virtualAccount: string}>
  accounts(va?: string): Promise<AccountView[]>
  addPak(input: {pak: string; va: string; type: LicenseType; count: number; at: Date}): Promise<PakView>
  /**
   * Converts `quantity` (default: all available) of a PAK into owned licenses of its virtual
   * account; `checkPartial` decides, under the PAK's lock, whether a partial conversion may
   * forfeit the rest (it throws to refuse).
   */
  convertPak(pak: string, quantity: number | null, at: Date, checkPartial: (pak: PakView, quantity: number) => void): Promise<PakConversion>
  paks(va?: string): Promise<PakView[]>
  /** A page of a virtual account's PAKs (the order of `paks`) and how many there are, cut by the database. */
  pakPage(va: string, offset: number, limit: number): Promise<{total: number; paks: PakView[]}>
  events(query: {va?: string; offset: number; limit: number}): Promise<EventPage>
  addLicenses(va: string, type: LicenseType, count: number, at: Date): Promise<PoolLine>
  createToken(input: {id: string; hash: string; va: string; expiresAt: Date; usesLeft: number | null; exportControlled: boolean; description?: string | null; at: Date}): Promise<void>
  /** The virtual accounts, by name, with their smart account. */
  virtualAccounts(): Promise<{smartAccount: string; virtualAccount: string}[]>
  /** The tokens of a virtual account, newest first. */
  tokens(va: string): Promise<TokenView[]>
  /** A page of `tokens` and how many there are, cut by the database. */
  tokenPage(va: string, offset: number, limit: number): Promise<{total: number; tokens: TokenView[]}>
  /** A revoked token registers nothing more; what it registered stays. */
  revokeToken(id: string, at: Date): Promise<TokenView>

  /** Portal users: the scrypt hash of each (crypto/password-scrypt via admin.ts). */
  addUser(name: string, passwordHash: string, at: Date): Promise<void>
  userPasswordHash(name: string): Promise<string | null>
  createSession(idHash: string, user: string, csrf: string, at: Date): Promise<void>
  /** The session, its last use moved to `at` (idle expiry counts from there); null when unknown. */
  touchSession(idHash: string, at: Date): Promise<PortalSession | null>
  deleteSession(idHash: string): Promise<void>
  /** Sessions last used before `idleBefore` or created before `createdBefore` are removed. */
  expireSessions(idleBefore: Date, createdBefore: Date): Promise<number>
  /** Failed logins recorded under each key (user:NAME, address:IP) since `since`. */
  loginFailures(keys: string[], since: Date): Promise<number>
  recordLoginFailure(keys: string[], at: Date, since: Date): Promise<void>
  clearLoginFailures(keys: string[]): Promise<void>
  pool(va: string): Promise<PoolView>
  /** Checks the counters against the allocations and reservations they summarize (tests and verification). */
  consistency(va: string): Promise<{ok: boolean; problems: string[]}>
  instances(va?: string): Promise<InstanceView[]>
  /** A page of a virtual account's `instances` and how many there are, cut by the database. */
  instancePage(va: string, offset: number, limit: number): Promise<{total: number; instances: InstanceView[]}>

  /** Read-only token check, so that a bad token costs no certificate. Throws the protocol's token errors. */
  checkToken(tokenHash: string, at: Date): Promise<TokenRecord>
  /** The public key and account of a registered instance, or null. */
  identity(udi: string): Promise<InstanceIdentity | null>
  register(input: RegistrationInput): Promise<RegistrationRecord>
  authorize(who: Requester, usage: LicenseCounts, at: Date): Promise<AuthorizationRecord>
  renewRegistration(who: Requester, hostname: string | null, ip: string | null, certSerial: string, at: Date): Promise<InstanceIdentity>
  deregister(who: Requester, at: Date): Promise<LicenseCounts>
  ping(who: Requester, at: Date): Promise<InstanceIdentity>

  /**
   * Removes a product instance: a registered one (its licenses go back to the pool) and/or
   * a reserved one, which needs the return code the unit printed (checked by `checkReturn`).
   */
  removeInstance(udi: string, at: Date, checkReturn: (reservation: ReservationRecord) => void): Promise<{udi: string; released: LicenseCounts; reservationReturned: boolean}>
  reservation(udi: string): Promise<ReservationRecord | null>
  reservationByPiid(piid: string): Promise<ReservationRecord | null>
  /**
   * Creates or updates the reservation of a UDI and returns it with the authorization code
   * `sign` builds for it (inside the transaction, so the stored code is the one handed out).
   */
  authorizeReservation(input: ReservationInput, sign: (timestamp: number) => string): Promise<ReservationRecord>
  /** The unit installed the code with this timestamp: its counts become the reserved ones. */
  confirmReservation(udi: string, timestamp: number, at: Date): Promise<{reservation: ReservationRecord; alreadyConfirmed: boolean}>

  /**
   * CSSM: one synchronization of an On-Prem, in one transaction: links it on first use (by
   * its token), refuses a sequence not newer than the last answered, records its usage, and
   * sets what it holds of the virtual account's pool (licenses.on_prem) to what it asks, as
   * far as the pool allows.
   */
  onPremSync(input: OnPremSyncInput): Promise<OnPremSyncRecord>
  /**
   * On-Prem: the CSSM's allocation becomes the pool of the virtual account (created if
   * missing), and the meta keys are set, in one transaction; `check` sees the current meta
   * values of `keys` first and throws to refuse.
   */
  onPremImport(input: {smartAccount: string; virtualAccount: string; licenses: LicenseCounts; meta: Record<string, string>; at: Date},
    keys: string[], check: (meta: Record<string, string | null>) => void): Promise<PoolView>
}

export type DatabaseConfig =
  | {kind: 'sqlite'; path: string}
  /** postgres://USER@HOST:PORT/DB, never with a password (PGPASSWORD, PGPASSFILE or the server's own authentication) */
  | {kind: 'postgres'; url: string}

export interface OpenOptions {
  /**
   * `create`: a new license database (SQLite: a new file; PostgreSQL: an empty database),
   * every migration applied. `migrate`: an existing one, the migrations it lacks applied.
   * Neither: an existing one that must be at this version's schema.
   */
  mode?: 'create' | 'migrate' | 'current'
  /** PostgreSQL connections kept by this process */
  connections?: number
}

async function openDatabase(config: DatabaseConfig, options: OpenOptions): Promise<SqlDatabase> {
  if (config.kind === 'sqlite') {
    const {SqliteDatabase} = await import('./sqlite.js')
    return new SqliteDatabase(config.path, {create: options.mode === 'create'})
  }
  const {PostgresDatabase} = await import('./postgres.js')
  return new PostgresDatabase(config.url, {connections: options.connections})
}

function where(config: DatabaseConfig): string {
  return config.kind === 'sqlite' ? config.path : 'the PostgreSQL database'
}

export async function openStore(config: DatabaseConfig, options: OpenOptions = {}): Promise<LicenseStore> {
  const db = await openDatabase(config, options)
  try {
    const version = await schemaVersionOf(db)
    const mode = options.mode ?? 'current'
    if (mode === 'create' && version > 0) {
      throw new BadInputError(`${where(config)} already holds a license server (schema version ${version}).`, {
        actions: ['Copy the folder of the server that uses it (the copy serves the same accounts), or give an empty database.'],
      })
    }
    if (mode !== 'current') {
      await migrate(db)
    } else if (version > SCHEMA_VERSION) {
      throw newerSchemaError(version)
    } else if (version < SCHEMA_VERSION) {
      throw new BadInputError(version === 0
        ? `${where(config)} is not a license server database (no schema).`
        : `${where(config)} is at schema version ${version}; this xway needs version ${SCHEMA_VERSION}.`, {
        actions: version === 0
          ? ['Create a license server with `xway license-server init DIR`.']
          : ['Start the server once (`xway license-server start DIR`): it applies the migrations the database lacks.'],
      })
    }
  } catch (err) {
    await db.close()
    throw err
  }
  return new SqlLicenseStore(db)
}
