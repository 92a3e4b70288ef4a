import type {CryptoPolicy} from '../crypto/policy.js'
import type {RandomSource} from '../crypto/random.js'
import type {Brand, ProductInfo, UnitType} from '../product.js'
import type {UnitReader} from '../unit/store.js'

// The contract of an area module (src/areas/<name>.ts): what the area's files are, and how the
// lifecycle treats them. Factory reset, backup, restore, inspect, verify and diff iterate the
// registry (registry.ts) and call these; none of them lists a file of an area itself.

export type AreaName =
  | 'brand' | 'licensing' | 'fips' | 'ip' | 'mgmt' | 'ssh-keys' | 'certs' | 'passwords' | 'logs'
  | 'option-keys' | 'config' | 'cluster' | 'bootstrap-key' | 'alarms' | 'usage'

/** How a file is checked by `image verify`. */
export type FileFormat =
  /** a JSON document */
  | 'json'
  /** product_info.xml */
  | 'product-xml'
  /** 16 digits (release key) */
  | 'digits-16'
  /** 32 bytes as hex (bootstrap key) */
  | 'hex-32'
  /** PEM certificate(s) or key, OpenSSH keys, logs: checked by the area's own verify, or not at all */
  | 'opaque'

export interface AreaFile {
  /** unit-relative path */
  rel: string
  kind: 'file' | 'folder'
  format: FileFormat
  /** holds a secret: mode 0600, never shown (inside a folder: every file in it) */
  secret: boolean
  /** verify: must exist */
  required: boolean
}

/** The factory-reset question of an area and the flag that answers it YES. */
export interface ResetQuestion {
  /** short flag letter, e.g. 'v' */
  flag: string
  /** long flag, e.g. 'keep-brand' */
  long: string
  /** wording on an X14.2+ Expressway and its place in that dialogue (null: not asked there) */
  prompt: string | null
  order: number | null
  /** wording on VCS and on Expressway before X14.2, and its place there (null: not asked there) */
  legacyPrompt: string | null
  legacyOrder: number | null
}

/**
 * How an area comes back when a reset does not keep it:
 * payload: from the unit's factory payload; regenerate: made anew (keys, certificates);
 * delete: removed (logs).
 */
export type ResetSource = 'payload' | 'regenerate' | 'delete'

/**
 * How `backup restore` treats an area the backup carries:
 * replace: the backup's files replace the unit's;
 * licensing: registration kept only on the same serial (SPEC 4);
 * none: not in backups.
 */
export type RestoreRule = 'replace' | 'licensing' | 'none'

export type AreaAction = 'kept' | 'reset' | 'deleted'
export type ResetSeries = 'x14.2-expressway' | 'legacy'
/** kept; none: Cisco VCS (no smart licensing); evaluation: smart, Direct, evaluation restarts; payload: the version's defaults */
export type LicensingAfterReset = 'kept' | 'none' | 'evaluation' | 'payload'

export interface PayloadFile {
  data: Buffer
  mode: number
}

/** What an area module sees of a factory reset being planned and applied (built by src/lifecycle). */
export interface ResetContext {
  info: ProductInfo
  series: ResetSeries
  /** this area's fate */
  action: AreaAction
  after: {brand: Brand; type: UnitType}
  optionKeysBefore: string[]
  optionKeysAfter: string[]
  licensing: LicensingAfterReset
  evaluationStartedAt: string | null
  /** alarm keys raised by the reset */
  alarms: string[]
  policy: CryptoPolicy
  fipsEnabled: boolean
  /** files under the SNI folder (deleted by every reset) */
  sniFiles: number
  at: Date
}

/** The reset being applied: the payload, and where the area records its files. */
export interface ResetApply extends ResetContext {
  /** the unit now */
  files: UnitReader
  payload: {files: Map<string, PayloadFile>; releaseKey: string}
  payloadJson<T>(rel: string): T
  /** host name and domain after the reset (the IP area kept or from the payload) */
  hostname: string
  domain: string
  /** randomness for keys: seeded in tests, else undefined for native generation */
  seededOnly(label: string): RandomSource | undefined
  random(label: string): RandomSource
  put(rel: string, data: string | Buffer, mode?: number): void
  putJson(rel: string, value: unknown, mode?: number): void
  mkdir(rel: string): void
  remove(rel: string): void
}

export interface VerifyContext {
  files: UnitReader
  info: ProductInfo | null
  policy: CryptoPolicy
  /** a file's text, null when absent (a link or folder there is reported elsewhere) */
  text(rel: string): string | null
  problem(rel: string, text: string): void
}

export interface InspectContext {
  files: UnitReader
  info: ProductInfo
  /** absolute path of the unit (for cluster peers) */
  path: string
  at: Date
}

export interface AreaModule {
  name: AreaName
  title: string
  /** files and folders (relative to the unit) that hold the area */
  files: AreaFile[]
  /** null: never kept by a reset unless the rules say so (e.g. C00 survives, cluster is dropped) */
  question: ResetQuestion | null
  resetSource: ResetSource
  backup: boolean
  restore: RestoreRule
  /** the plan's one-line detail of what the reset does to the area */
  resetDetail(ctx: ResetContext): string
  /**
   * Files the reset writes for the area beyond its payload files (which replace the area when it
   * is not kept), or what it does to a kept area (SNI certificates always go).
   */
  applyReset?(ctx: ResetApply): void
  /** checks beyond the generic ones of its files' declarations (key pairs, hashes) */
  verify?(ctx: VerifyContext): void
  /** the fields of `image inspect` this area gives (SPEC 5) */
  inspect?(ctx: InspectContext): Record<string, unknown>
}

/** Shorthands for declarations. */
export const file = (rel: string, format: FileFormat, options: {secret?: boolean; required?: boolean} = {}): AreaFile =>
  ({rel, kind: 'file', format, secret: options.secret ?? false, required: options.required ?? false})
export const folder = (rel: string, options: {secret?: boolean; required?: boolean} = {}): AreaFile =>
  ({rel, kind: 'folder', format: 'opaque', secret: options.secret ?? false, required: options.required ?? false})
