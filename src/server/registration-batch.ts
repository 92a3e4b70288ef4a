import type {SqlDatabase} from './sql.js'
import {DatabaseUnavailableError} from './sql.js'
import type {RegistrationInput} from './store.js'

// The common registration on PostgreSQL (a new UDI, a valid token without a use limit) made
// for many agents in one statement. Each statement is a round trip to the database and a
// commit, and the client's work per statement (writing it, reading its answer) was most of a
// worker's time: registrations that arrive while statements are in flight wait and go
// together in the next one, as SQLite's commits share an fsync (sqlite.ts). Each still
// commits before its reply. The statement inserts what it can and says which it made; a
// registration it did not make (a known UDI, a token with a use limit, expired or unknown)
// takes the store's transaction, which judges it and gives the reason. A UDI that arrives
// again while it waits goes in a later batch (arrival order kept), and a batch that fails for
// any reason but a lost database leaves all its registrations to that transaction.

export interface BatchedRegistration {
  va: string
  smartAccount: string
  exportControlled: number
}

interface Waiting {
  input: RegistrationInput
  resolve: (created: BatchedRegistration | undefined) => void
  reject: (err: unknown) => void
}

/** One statement in flight per process: what arrives meanwhile goes in the next (measured: 1 batches more, and beat 2) */
const IN_FLIGHT = 1
/** At most this many registrations in one statement. */
const MAX_BATCH = 64

const COLUMNS = ['token_hash', 'udi', 'hostname', 'ip', 'public_key', 'cert_serial', 'product', 'at'] as const

const SQL = `WITH input AS (
    SELECT * FROM unnest(${COLUMNS.map(() => '?::text[]').join(', ')}) WITH ORDINALITY AS x(${COLUMNS.join(', ')}, ord)),
  token AS (
    SELECT x.ord, t.id, t.va, va.smart_account, t.export_controlled FROM input x
    JOIN tokens t ON t.hash = x.token_hash JOIN virtual_accounts va ON va.name = t.va
    WHERE t.expires_at > x.at AND t.uses_left IS NULL AND t.revoked_at IS NULL),
  created AS (
    INSERT INTO instances (va, hostname, ip, public_key, cert_serial, product, export_controlled, token_id, registered_at, last_seen_at, udi, renewed_at, status)
    SELECT token.va, x.hostname, x.ip, x.public_key, x.cert_serial, x.product, token.export_controlled, token.id, x.at, x.at, x.udi, NULL, 'registered'
    FROM input x JOIN token ON token.ord = x.ord ORDER BY x.ord
    ON CONFLICT (udi) DO NOTHING RETURNING udi, va, token_id),
  logged AS (
    INSERT INTO events (at, kind, va, udi, detail)
    SELECT x.at, 'registered', c.va, c.udi, json_build_object('token', c.token_id, 'hostname', x.hostname)::text
    FROM created c JOIN input x ON x.udi = c.udi ORDER BY x.ord)
  SELECT x.ord, token.va, token.smart_account, token.export_controlled FROM input x
  JOIN token ON token.ord = x.ord JOIN created c ON c.udi = x.udi`

export class RegistrationBatcher {
  private waiting: Waiting[] = []
  private inFlight = 0

  constructor(private readonly db: SqlDatabase) {}

  /** The registration made in a shared statement, or undefined when the store's transaction must judge it. */
  register(input: RegistrationInput): Promise<BatchedRegistration | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting.push({input, resolve, reject})
      this.next()
    })
  }

  private next(): void {
    while (this.inFlight < IN_FLIGHT && this.waiting.length > 0) {
      const batch: Waiting[] = []
      const udis = new Set<string>()
      const rest: Waiting[] = []
      for (const w of this.waiting) {
        if (batch.length < MAX_BATCH && !udis.has(w.input.udi)) {
          batch.push(w)
          udis.add(w.input.udi)
        } else {
          // a UDI already in this batch waits for the next: the earlier arrival is judged first
          rest.push(w)
        }
      }
      this.waiting = rest
      this.inFlight++
      void this.run(batch).finally(() => {
        this.inFlight--
        this.next()
      })
    }
  }

  private async run(batch: Waiting[]): Promise<void> {
    const columns: Array<Array<string | null>> = COLUMNS.map(() => [])
    for (const {input} of batch) {
      const at = input.at.toISOString()
      const row = [input.tokenHash, input.udi, input.hostname, input.ip, input.publicKey, input.certSerial, JSON.stringify(input.product), at]
      row.forEach((value, i) => columns[i]!.push(value))
    }
    let rows: Array<{ord: string | number; va: string; smart_account: string; export_controlled: number}>
    try {
      rows = await this.db.transaction((q) => q.all(SQL, columns), {oneStatement: true})
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) for (const w of batch) w.reject(err)
      else for (const w of batch) w.resolve(undefined)
      return
    }
    const made = new Map(rows.map((r) => [Number(r.ord), r]))
    batch.forEach((w, i) => {
      const r = made.get(i + 1)
      w.resolve(r ? {va: r.va, smartAccount: r.smart_account, exportControlled: Number(r.export_controlled)} : undefined)
    })
  }
}
