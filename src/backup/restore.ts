// `xway backup inspect` and `xway backup restore`: authenticate and extract the whole backup
// into staging, check every file against the manifest, then apply the appliance's rules,
// then replace the backup areas in one transaction (SPEC 4 "Backup and restore").
import {chmodSync, createReadStream, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, posix} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'
import {area, type AreaName, areaOf} from '../areas/registry.js'
import {type ClusterFile, readCluster} from '../areas/cluster.js'
import {readFips} from '../areas/fips.js'
import {BadInputError, FailedError, RefusedError, XwayError} from '../errors.js'
import {defaultLicensingState, type LicensingState, normalizeLicensing} from '../licensing/state.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import type {UnitReader} from '../unit/store.js'
import {type ExtractedEntry, extractTar} from '../unit/tar.js'
import {changeUnit, openUnit} from '../areas/open.js'
import type {UnitTransaction} from '../unit/transaction.js'
import type {ProductInfo} from '../product.js'
import {type BackupHeaderInfo, createDecryptStream} from './container.js'
import {type BackupManifest, MANIFEST_NAME, type ManifestSummary, MAX_MANIFEST_BYTES, parseManifest, sha256OfFile, summarize} from './manifest.js'

const DAMAGED = ['The backup is damaged or was not written by `xway backup create`: use another copy of it.']

/** Failures of the machine itself, not of the backup: these stay "failed" (exit 1). */
const SYSTEM_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EMFILE', 'ENFILE', 'ENOMEM'])

function asBackupError(error: unknown): XwayError {
  if (error instanceof XwayError) return error
  const e = error as NodeJS.ErrnoException
  if (e.code && SYSTEM_ERRORS.has(e.code)) return new FailedError(`could not extract the backup: ${e.code}`, {cause: error})
  if (e.code?.startsWith('Z_') || e.code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    return new BadInputError('the archive inside the backup is not a valid .tar.gz', {actions: DAMAGED, cause: error})
  }
  if (e.code === 'EEXIST') return new BadInputError('the archive inside the backup holds an entry twice', {actions: DAMAGED, cause: error})
  if (e.code === 'ENOTDIR' || e.code === 'EISDIR') {
    return new BadInputError('the archive inside the backup holds a file and a directory at the same path', {actions: DAMAGED, cause: error})
  }
  return new BadInputError(`the backup could not be read: ${e.code ?? e.message}`, {actions: DAMAGED, cause: error})
}

function notInManifest(what: string): BadInputError {
  return new BadInputError(`the backup is inconsistent with its manifest: ${what}`, {actions: DAMAGED})
}

export interface ExtractedBackup {
  manifest: BackupManifest
  /** where the files were extracted and checked, under their unit-relative paths */
  root: string
  header: BackupHeaderInfo
  kdfMs: number
}

function checkFile(file: string): void {
  let regular = false
  try {
    regular = statSync(file).isFile()
  } catch (error) {
    throw new BadInputError(`cannot read the backup ${file}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`, {actions: ['Check the path of the backup file.']})
  }
  if (!regular) throw new BadInputError(`${file} is not a file`, {actions: ['Give the path of a backup file (…_backup.tar.gz.enc).']})
}

/** A backup carries configuration, never logs: more than this is not a unit's backup but an archive bomb. */
export const MAX_BACKUP_BYTES = 1024 * 1024 * 1024
export const MAX_BACKUP_ENTRIES = 100_000

/**
 * Decrypts the whole container (every chunk authenticated, the final one included), gunzips
 * and extracts the inner tar into `dest` (an existing, empty directory) with the hardened
 * extractor, then checks the entries against the manifest: the same set of files and
 * directories, each file's size and SHA-256. Only after all of that may anything use `dest`.
 * On failure, `dest` holds garbage for the caller to throw away.
 */
export async function extractBackup(file: string, password: string, dest: string): Promise<ExtractedBackup> {
  checkFile(file)
  const decrypt = createDecryptStream(password)
  let entries: ExtractedEntry[] = []
  let extraction: Promise<ExtractedEntry[]> | undefined
  try {
    await pipeline(createReadStream(file, {highWaterMark: 1 << 20}), decrypt, createGunzip({chunkSize: 1 << 18}), async (source: AsyncIterable<Buffer>) => {
      extraction = extractTar(source, dest, {maxBytes: MAX_BACKUP_BYTES, maxEntries: MAX_BACKUP_ENTRIES})
      entries = await extraction
    })
  } catch (error) {
    // pipeline rejects on the first error of any stage; the extractor may still be between two
    // writes: let it stop before the caller throws the staging away
    await extraction?.catch(() => {})
    throw asBackupError(error)
  }
  const header = decrypt.header
  if (!header) throw new BadInputError('backup is truncated', {actions: DAMAGED})

  const first = entries[0]
  if (!first || first.rel !== MANIFEST_NAME || first.kind !== 'file') throw notInManifest(`its first entry is not ${MANIFEST_NAME}`)
  if (first.size > MAX_MANIFEST_BYTES) throw notInManifest(`${MANIFEST_NAME} is larger than ${MAX_MANIFEST_BYTES} bytes`)
  const manifest = parseManifest(readFileSync(join(dest, MANIFEST_NAME), 'utf8'))
  if (manifest.kdf.iterations !== header.iterations) {
    throw notInManifest(`it names ${manifest.kdf.iterations} PBKDF2 iterations, its container ${header.iterations}`)
  }

  const files = new Map(manifest.files.map((f) => [f.path, f]))
  const directories = new Set(manifest.directories)
  const ancestors = new Set<string>()
  for (const path of [...files.keys(), ...directories]) {
    for (let p = posix.dirname(path); p !== '.'; p = posix.dirname(p)) ancestors.add(p)
  }
  const seenFiles = new Set<string>()
  const seenDirs = new Set<string>()
  for (const entry of entries.slice(1)) {
    if (entry.kind === 'symlink') throw notInManifest(`it holds a symbolic link (${entry.rel}); backups carry none`)
    if (entry.kind === 'dir') {
      if (entry.rel === '.') continue
      if (!directories.has(entry.rel) && !ancestors.has(entry.rel)) throw notInManifest(`it holds the directory ${entry.rel}, which the manifest does not list`)
      seenDirs.add(entry.rel)
      continue
    }
    const listed = files.get(entry.rel)
    if (!listed) throw notInManifest(`it holds ${entry.rel}, which the manifest does not list`)
    if (seenFiles.has(entry.rel)) throw notInManifest(`it holds ${entry.rel} twice`)
    seenFiles.add(entry.rel)
  }
  for (const dir of directories) if (!seenDirs.has(dir)) throw notInManifest(`the directory ${dir} is missing`)
  for (const f of manifest.files) {
    if (!seenFiles.has(f.path)) throw notInManifest(`${f.path} is missing`)
    const abs = join(dest, f.path)
    chmodSync(abs, 0o600)
    const actual = await sha256OfFile(abs)
    if (actual.size !== f.size) throw notInManifest(`${f.path} has ${actual.size} bytes, the manifest says ${f.size}`)
    if (actual.sha256 !== f.sha256) throw notInManifest(`the SHA-256 of ${f.path} differs from the manifest's`)
    chmodSync(abs, f.mode)
  }
  return {manifest, root: dest, header, kdfMs: Math.round(decrypt.kdfMs * 10) / 10}
}

/** `backup inspect`: the manifest, once the whole backup has been authenticated and checked. */
export async function inspectBackup(file: string, password: string): Promise<{manifest: BackupManifest; kdfMs: number}> {
  const dir = mkdtempSync(join(tmpdir(), 'xway-backup-inspect-'))
  try {
    const {manifest, kdfMs} = await extractBackup(file, password, dir)
    return {manifest, kdfMs}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

// ---------------------------------------------------------------------------------------
// Rules (pure): what the appliance allows, and what a restore will do.

export type RegistrationOutcome = 'restored' | 'dropped' | 'none'

export interface RestoreTarget {
  info: ProductInfo
  fips: boolean
  cluster: ClusterFile['cluster']
}

export interface RestorePlan {
  backup: ManifestSummary
  /** the areas replaced by the backup's content, in the registry's order */
  areas: AreaName[]
  sameSerial: boolean
  registration: RegistrationOutcome
  warnings: string[]
  /** what the user must know afterwards (passwords, registration) */
  notes: string[]
}

/** "an Expressway", "a VCS" */
export function withArticle(word: string): string {
  return `${/^[AEIOU]/i.test(word) ? 'an' : 'a'} ${word}`
}

export const REGISTER_AGAIN = 'register again with a registration token'

/** Refused while the unit is in a cluster (reference: "A box cannot be restored while it is in a cluster"). */
export function assertNotInCluster(target: Pick<RestoreTarget, 'cluster'>, unitArg: string): void {
  if (target.cluster === null) return
  throw new RefusedError(
    `this unit is in a cluster (${target.cluster.name}): a system cannot be restored while it is in a cluster. Leave the cluster first.`,
    {actions: [`Leave the cluster first: xway cluster leave ${unitArg}`, 'Then restore, and create the cluster again.']},
  )
}

/**
 * Decides whether a backup may be restored onto a unit, and how (SPEC 4; reference
 * "Backup and restore"). Throws RefusedError (exit 3) quoting the rule.
 */
export function planRestore(target: RestoreTarget, manifest: BackupManifest, backupHasRegistration: boolean, unitArg: string): RestorePlan {
  const u = target.info
  const m = manifest
  assertNotInCluster(target, unitArg)
  if (m.brand !== u.brand) {
    throw new RefusedError(`the backup is of ${withArticle(m.brand)} and this unit is ${withArticle(u.brand)}: a backup is not restored across brands.`, {
      actions: [`Restore a backup made on ${withArticle(u.brand)}.`],
    })
  }
  if (m.softwareVersion !== u.softwareVersion) {
    throw new RefusedError(
      `the backup was made on software version ${m.softwareVersion} and this unit runs ${u.softwareVersion}: a backup can only be restored onto the same software version.`,
      {actions: [`Bring the unit to ${m.softwareVersion} first (or rebuild it on that version), then restore; or restore a backup made on ${u.softwareVersion}.`]},
    )
  }
  // Our choice where the sources are silent: type and edition live in the brand area, which a
  // restore does not change; a C configuration on an E (or Select on standard) would not fit.
  if (m.type !== u.type) {
    throw new RefusedError(`the backup is of an ${m.type} and this unit is an ${u.type}: a backup is restored only onto the same type.`, {
      actions: [`Restore a backup made on an ${u.type}.`],
    })
  }
  if (m.edition !== u.edition) {
    throw new RefusedError(`the backup is of the ${m.edition} edition and this unit is ${u.edition}: a backup is restored only onto the same edition (export control differs).`, {
      actions: [`Restore a backup made on a ${u.edition}-edition unit.`],
    })
  }
  if (target.fips && !m.fips) {
    throw new RefusedError('the backup was made without FIPS 140 mode and this unit is in FIPS 140 mode: a non-FIPS backup cannot be restored onto a FIPS system.', {
      actions: ['Restore a backup made in FIPS 140 mode, or factory reset the unit without keeping FIPS (-f) first.'],
    })
  }

  const sameSerial = m.serial === u.serial
  const warnings: string[] = []
  const notes: string[] = []
  let registration: RegistrationOutcome = 'none'
  if (!sameSerial) warnings.push(`the backup was made on another system (serial ${m.serial}); this unit's serial is ${u.serial}`)
  if (m.areas.includes('licensing') && backupHasRegistration) {
    if (sameSerial) {
      registration = 'restored'
      notes.push('Smart licensing registration restored as it was in the backup.')
    } else {
      registration = 'dropped'
      const w = `smart licensing stays enabled, but the registration of serial ${m.serial} is not restored on serial ${u.serial}: ${REGISTER_AGAIN}`
      warnings.push(w)
      notes.push(`Smart licensing is enabled; ${REGISTER_AGAIN}: xway licensing register ${unitArg} --token TOKEN`)
    }
  }
  if (m.areas.includes('passwords')) {
    notes.push(`The root and admin passwords are now those of the backup (made ${m.createdAt}): log in with them.`)
  }
  return {backup: summarize(m), areas: [...m.areas], sameSerial, registration, warnings, notes}
}

const REGISTRATION_FILES = new Set<string>([LICENSING.agentKey, LICENSING.agentCert, LICENSING.pendingToken])

/** True when the backup holds a registration (or a reservation) that belongs to its serial. */
export function hasRegistration(state: LicensingState, manifest: BackupManifest): boolean {
  return state.registration.state !== 'unregistered'
    || state.reservation.state !== 'none'
    || manifest.files.some((f) => REGISTRATION_FILES.has(f.path))
}

/**
 * The licensing state restored onto another system: smart licensing and its configuration as
 * in the backup, the registration (and a reservation, bound to the UDI) dropped, the
 * evaluation period the unit's own.
 */
export function licensingForOtherSystem(backup: LicensingState, unitEvaluation: LicensingState['evaluation'] | null): LicensingState {
  const base = defaultLicensingState(backup.mode)
  return {
    ...backup,
    evaluation: unitEvaluation?.startedAt ? unitEvaluation : backup.evaluation,
    registration: base.registration,
    authorization: base.authorization,
    usageReportedAt: null,
    reservation: {...base.reservation, enabled: backup.reservation.enabled},
  }
}

// ---------------------------------------------------------------------------------------
// Applying

export interface RestoreResult {
  unit: string
  file: string
  /** NO at the final question: nothing changed (exit 0, as factory-reset) */
  cancelled: boolean
  restored: AreaName[]
  registration: RegistrationOutcome
  warnings: string[]
  notes: string[]
  kdfMs: number
}

export interface RestoreOptions {
  /**
   * Asked once the backup is checked and the rules passed, before anything changes (the CLI's
   * "Are you sure you want to continue [YES/NO]?"); false cancels. Absent: --yes.
   */
  confirm?: (plan: RestorePlan) => Promise<boolean>
}

function readBackupLicensing(root: string, manifest: BackupManifest): LicensingState | null {
  if (!manifest.files.some((f) => f.path === LICENSING.state)) return null
  try {
    return normalizeLicensing(JSON.parse(readFileSync(join(root, LICENSING.state), 'utf8')) as Partial<LicensingState>)
  } catch {
    throw new BadInputError(`the backup's ${LICENSING.state} is not valid JSON`, {actions: DAMAGED})
  }
}

function unitEvaluation(unit: UnitReader): LicensingState['evaluation'] | null {
  try {
    return readLicensing(unit).evaluation
  } catch {
    return null
  }
}

function apply(tx: UnitTransaction, extracted: ExtractedBackup, plan: RestorePlan, otherSystemLicensing: LicensingState | null): void {
  const {manifest, root} = extracted
  // the unit's current files in those areas go first, so that what the backup lacks goes away
  for (const name of plan.areas) for (const path of area(name).paths) tx.delete(path)
  for (const dir of [...manifest.directories].sort()) tx.mkdir(dir)
  for (const f of manifest.files) {
    if (otherSystemLicensing && areaOf(f.path) === 'licensing') {
      if (REGISTRATION_FILES.has(f.path)) continue
      if (f.path === LICENSING.state) {
        tx.writeJson(LICENSING.state, otherSystemLicensing, f.mode)
        continue
      }
    }
    tx.writeFrom(f.path, join(root, f.path), f.mode)
  }
  tx.audit({
    restored: plan.areas,
    backup: {softwareVersion: manifest.softwareVersion, serial: manifest.serial, createdAt: manifest.createdAt},
    registration: plan.registration,
  })
}

/** NO at the final question: thrown inside the transaction so that it discards its staging. */
class Cancelled extends Error {
  constructor(readonly plan: RestorePlan) {
    super('cancelled')
  }
}

/** Fails early, before a password is asked, when the unit cannot be restored whatever the backup. */
export async function checkRestoreTarget(unitArg: string): Promise<void> {
  const unit = await openUnit(unitArg)
  assertNotInCluster({cluster: readCluster(unit.files).cluster}, unitArg)
}

/**
 * `backup restore`: under the unit lock, extract and check the whole backup inside the
 * transaction's staging, apply the rules, ask, then replace the backup areas in one commit.
 * Any failure before the commit leaves the unit byte-for-byte unchanged.
 */
export async function restoreBackup(unitArg: string, file: string, password: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const opened = await openUnit(unitArg)
  checkFile(file)
  try {
    return await changeUnit(opened, 'backup restore', async (tx, unit) => {
      const staging = tx.scratch('restore')
      const extracted = await extractBackup(file, password, staging)
      const {manifest} = extracted
      const target: RestoreTarget = {info: unit.info, fips: readFips(unit.files).enabled, cluster: readCluster(unit.files).cluster}
      const backupLicensing = manifest.areas.includes('licensing') ? readBackupLicensing(staging, manifest) : null
      const plan = planRestore(target, manifest, backupLicensing !== null && hasRegistration(backupLicensing, manifest), unitArg)
      if (options.confirm && !(await options.confirm(plan))) throw new Cancelled(plan)
      const otherSystem = !plan.sameSerial && backupLicensing !== null ? licensingForOtherSystem(backupLicensing, unitEvaluation(unit.files)) : null
      apply(tx, extracted, plan, otherSystem)
      return {
        unit: unitArg,
        file,
        cancelled: false,
        restored: plan.areas,
        registration: plan.registration,
        warnings: plan.warnings,
        notes: plan.notes,
        kdfMs: extracted.kdfMs,
      }
    })
  } catch (error) {
    if (!(error instanceof Cancelled)) throw error
    // the throw made changeUnit discard the staging (the extracted plaintext) and change nothing
    return {unit: unitArg, file, cancelled: true, restored: [], registration: 'none', warnings: error.plan.warnings, notes: [], kdfMs: 0}
  }
}
