import {P} from '../unit/paths.js'

export type AreaName =
  | 'brand' | 'licensing' | 'fips' | 'ip' | 'mgmt' | 'ssh-keys' | 'certs' | 'passwords' | 'logs'
  | 'option-keys' | 'config' | 'cluster' | 'bootstrap-key' | 'alarms' | 'usage'

/** The factory-reset question of an area and the flag that answers it YES. */
export interface ResetQuestion {
  /** short flag letter, e.g. 'v' */
  flag: string
  /** long flag, e.g. 'keep-brand' */
  long: string
  /** wording on an X14.2+ Expressway (null: not asked there) */
  prompt: string | null
  /** wording on VCS and on Expressway before X14.2 (null: not asked there) */
  legacyPrompt: string | null
}

/**
 * How an area comes back when a reset does not keep it:
 * payload: from the unit's factory payload; regenerate: made anew (keys, certificates);
 * delete: removed (logs, SNI certificates).
 */
export type ResetSource = 'payload' | 'regenerate' | 'delete'

/**
 * How `backup restore` treats an area the backup carries:
 * replace: the backup's files replace the unit's;
 * licensing: registration kept only on the same serial (SPEC 4);
 * none: not in backups.
 */
export type RestoreRule = 'replace' | 'licensing' | 'none'

export interface Area {
  name: AreaName
  title: string
  /** files and directories (relative to the unit) that hold the area */
  paths: string[]
  /** null: never kept by a reset unless the rules say so (e.g. C00 survives, cluster is dropped) */
  question: ResetQuestion | null
  resetSource: ResetSource
  backup: boolean
  restore: RestoreRule
}

/**
 * The spine of the lifecycle: factory reset, backup, restore, inspect, diff and verify iterate
 * over these areas. Order of the questions is the documented order of each series.
 */
export const AREAS: readonly Area[] = [
  {
    name: 'brand', title: 'brand and type', paths: [P.productInfo, P.releaseKey],
    question: {flag: 'v', long: 'keep-brand', prompt: 'Keep brand and type of the device [YES/NO]?', legacyPrompt: null},
    resetSource: 'payload', backup: false, restore: 'none',
  },
  {
    name: 'option-keys', title: 'option keys', paths: [P.optionKeysDir],
    question: {flag: 'o', long: 'keep-option-keys', prompt: null, legacyPrompt: 'Keep option keys [YES/NO]?'},
    resetSource: 'payload', backup: true, restore: 'replace',
  },
  {
    name: 'licensing', title: 'smart licensing settings', paths: [P.licensingDir],
    question: {flag: 't', long: 'keep-licensing', prompt: 'Keep smart licensing settings [YES/NO]?', legacyPrompt: null},
    resetSource: 'payload', backup: true, restore: 'licensing',
  },
  {
    name: 'fips', title: 'FIPS 140 configuration', paths: [P.fipsDir],
    question: {flag: 'f', long: 'keep-fips', prompt: 'Keep FIPS 140 configuration [YES/NO]?', legacyPrompt: 'Keep FIPS140 configuration [YES/NO]?'},
    resetSource: 'payload', backup: false, restore: 'none',
  },
  {
    name: 'ip', title: 'IP configuration', paths: [P.ip],
    question: {flag: 'i', long: 'keep-ip', prompt: 'Keep IP configuration [YES/NO]?', legacyPrompt: 'Keep IP configuration [YES/NO]?'},
    resetSource: 'payload', backup: true, restore: 'replace',
  },
  {
    name: 'mgmt', title: 'dedicated management interface configuration', paths: [P.mgmt],
    question: {flag: 'm', long: 'keep-mgmt', prompt: 'Keep dedicated management interface configuration [YES/NO]?', legacyPrompt: null},
    resetSource: 'payload', backup: true, restore: 'replace',
  },
  {
    name: 'ssh-keys', title: 'ssh keys', paths: [P.sshDir],
    question: {flag: 's', long: 'keep-ssh-keys', prompt: 'Keep ssh keys [YES/NO]?', legacyPrompt: 'Keep ssh keys [YES/NO]?'},
    resetSource: 'regenerate', backup: false, restore: 'none',
  },
  {
    name: 'certs', title: 'server certificate, associated key and CA trust store', paths: [P.certsDir],
    question: {
      flag: 'c', long: 'keep-certs',
      prompt: 'Keep server certificate, associated key and CA trust store [YES/NO]?',
      legacyPrompt: 'Keep server certificate, associated key and CA trust store [YES/NO]?',
    },
    resetSource: 'regenerate', backup: true, restore: 'replace',
  },
  {
    name: 'passwords', title: 'root and admin passwords', paths: [P.usersDir, P.authorizedKeys],
    question: {flag: 'p', long: 'keep-passwords', prompt: 'Keep root and admin passwords [YES/NO]?', legacyPrompt: 'Keep root and admin passwords [YES/NO]?'},
    resetSource: 'payload', backup: true, restore: 'replace',
  },
  {
    name: 'logs', title: 'log files', paths: [P.logDir],
    question: {flag: 'l', long: 'save-logs', prompt: 'Save log files [YES/NO]?', legacyPrompt: 'Save log files [YES/NO]?'},
    resetSource: 'delete', backup: false, restore: 'none',
  },
  {name: 'config', title: 'system configuration', paths: [P.configDir], question: null, resetSource: 'payload', backup: true, restore: 'replace'},
  {name: 'cluster', title: 'cluster configuration', paths: [P.clusterDir], question: null, resetSource: 'payload', backup: true, restore: 'replace'},
  {name: 'bootstrap-key', title: 'bootstrap key', paths: [P.systemKey], question: null, resetSource: 'regenerate', backup: true, restore: 'replace'},
  {name: 'alarms', title: 'alarms', paths: [P.alarms], question: null, resetSource: 'payload', backup: false, restore: 'none'},
  {name: 'usage', title: 'usage and export-control state', paths: [P.usage], question: null, resetSource: 'payload', backup: false, restore: 'none'},
]

export function area(name: AreaName): Area {
  const found = AREAS.find((a) => a.name === name)
  if (!found) throw new Error(`unknown area ${name}`)
  return found
}

/** Paths of areas that are folders (the others are files). */
const FOLDER_PATHS = new Set<string>([P.optionKeysDir, P.licensingDir, P.fipsDir, P.sshDir, P.certsDir, P.usersDir, P.logDir, P.configDir, P.clusterDir])

/**
 * Every folder the areas live in, and the areas' own folders: all must be real folders (a link
 * there would lead a command outside the unit). The factory payload's folder and the agent trust
 * store are the product's and count too.
 */
export function structuralFolders(): string[] {
  const out = new Set<string>()
  const add = (rel: string) => {
    for (let d = rel; d !== ''; d = d.includes('/') ? d.slice(0, d.lastIndexOf('/')) : '') out.add(d)
  }
  for (const a of AREAS) for (const p of a.paths) add(FOLDER_PATHS.has(p) ? p : p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '')
  add(P.licensingTrustDir)
  add(P.payloadDir)
  add(P.sniDir)
  out.delete('')
  return [...out]
}

/** Area paths that are files: a link or folder there is refused. */
export function areaFiles(): string[] {
  return AREAS.flatMap((a) => a.paths).filter((p) => !FOLDER_PATHS.has(p))
}

/** The area a unit-relative path belongs to, or null (product files, payload, tool state). */
export function areaOf(rel: string): AreaName | null {
  for (const a of AREAS) {
    for (const p of a.paths) if (rel === p || rel.startsWith(`${p}/`)) return a.name
  }
  return null
}

/** X14.2 Expressway prompt order (reference/expressway-facts.md). */
export const X142_QUESTION_ORDER: AreaName[] = ['brand', 'licensing', 'fips', 'ip', 'mgmt', 'ssh-keys', 'certs', 'passwords', 'logs']
/** VCS, and Expressway before X14.2. */
export const LEGACY_QUESTION_ORDER: AreaName[] = ['option-keys', 'fips', 'ip', 'ssh-keys', 'certs', 'passwords', 'logs']

/** Paths a backup carries, in the registry's order. */
export function backupPaths(): string[] {
  return AREAS.filter((a) => a.backup).flatMap((a) => a.paths)
}
