// `xway backup create`: the backup areas of a unit, as a .tar.gz whose first entry is the
// manifest, sealed in the encrypted container (docs/backup-format.md).
import {mkdirSync} from 'node:fs'
import {openUnit, unitFromStore} from '../areas/open.js'
import {readFips} from '../areas/fips.js'
import {policyFor} from '../crypto/policy.js'
import {UsageError} from '../errors.js'
import {type PackEntry, tarGzStream} from '../unit/tar.js'
import {assertNoPendingJournal} from '../unit/transaction.js'
import type {ProductInfo} from '../product.js'
import {encryptFile} from './container.js'
import {type BackupManifest, buildManifest, MANIFEST_NAME, type ManifestSummary, scanBackupAreas, summarize} from './manifest.js'
import {dirname, isAbsolute, relative, resolve} from 'node:path'

export interface CreateBackupOptions {
  /** -o FILE; default: `<version>_<serial>_<YYYYMMDD>_<HHMMSS>_backup.tar.gz.enc` in cwd */
  output?: string
  password: string
  /** now() of the command (XWAY_NOW) */
  at: Date
  cwd?: string
}

export interface CreateBackupResult {
  /** the backup written: as given with -o, else the default name (in the current directory) */
  file: string
  unit: string
  /** size of the backup file */
  bytes: number
  /** time spent deriving the key (PBKDF2), for SPEC 8's benchmark */
  kdfMs: number
  manifest: ManifestSummary
  /** number of files the backup carries */
  files: number
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0')
}

/** The appliance's name: `<software version>_<hardware serial number>_<date>_<time>_backup.tar.gz.enc` (UTC). */
export function defaultBackupName(info: Pick<ProductInfo, 'softwareVersion' | 'serial'>, at: Date): string {
  const date = `${pad(at.getUTCFullYear(), 4)}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}`
  const time = `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`
  return `${info.softwareVersion}_${info.serial}_${date}_${time}_backup.tar.gz.enc`
}

/** PBKDF2 iterations for a unit's backups: from its crypto policy (a FIPS unit uses the FIPS policy). */
export function backupIterations(fips: boolean): number {
  return policyFor(fips).kdf.iterations
}

function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel))
}

/**
 * Reads the backup areas under the unit lock (two passes: hash for the manifest, then stream
 * into the archive), so that the manifest and the content describe one state.
 */
export async function createBackup(unitArg: string, options: CreateBackupOptions): Promise<CreateBackupResult> {
  const opened = await openUnit(unitArg)
  const cwd = options.cwd ?? process.cwd()
  const name = options.output ?? defaultBackupName(opened.info, options.at)
  const outPath = resolve(cwd, name)
  if (inside(opened.path, outPath)) {
    throw new UsageError(`the backup cannot be written inside the unit it backs up (${name})`, {
      actions: ['Give -o a path outside the unit.'],
    })
  }

  const lock = opened.store.lock('backup create')
  try {
    assertNoPendingJournal(opened.store, unitArg)
    const unit = unitFromStore(unitArg, opened.store)
    const fips = readFips(unit.files).enabled
    const iterations = backupIterations(fips)
    const content = scanBackupAreas(unit.files, unitArg)
    const manifest: BackupManifest = buildManifest(unit.info, fips, options.at, iterations, content)
    const mtime = Math.floor(options.at.getTime() / 1000)
    const manifestData = Buffer.from(JSON.stringify(manifest, null, 2) + '\n')
    const entries: PackEntry[] = [
      {rel: MANIFEST_NAME, kind: 'file', mode: 0o600, size: manifestData.length, data: manifestData},
      ...content.directories.map((rel): PackEntry => ({rel, kind: 'dir', mode: 0o755, size: 0})),
      ...content.files.map((f): PackEntry => ({rel: f.path, kind: 'file', mode: f.mode, size: f.size, data: f.data})),
    ]
    mkdirSync(dirname(outPath), {recursive: true})
    const {bytes, kdfMs} = await encryptFile(tarGzStream(entries, {mtime, level: 6}), outPath, options.password, {iterations})
    return {
      file: options.output ?? name,
      unit: unitArg,
      bytes,
      kdfMs: Math.round(kdfMs * 10) / 10,
      manifest: summarize(manifest),
      files: content.files.length,
    }
  } finally {
    lock.release()
  }
}
