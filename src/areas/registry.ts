import {alarmsArea} from './alarms.js'
import type {AreaModule, AreaName} from './area.js'
import {bootstrapKeyArea} from './bootstrap-key.js'
import {brandArea} from './brand.js'
import {certsArea} from './certs.js'
import {clusterArea} from './cluster.js'
import {configArea} from './config.js'
import {fipsArea} from './fips.js'
import {ipArea} from './ip.js'
import {licensingArea} from './licensing.js'
import {logsArea} from './logs.js'
import {mgmtArea} from './mgmt.js'
import {optionKeysArea} from './option-keys.js'
import {passwordsArea} from './passwords.js'
import {PRODUCT} from './product.js'
import {sshKeysArea} from './ssh-keys.js'
import {usageArea} from './usage.js'

export type {AreaModule, AreaName} from './area.js'

/** An area module with the paths that hold it (its folders and the files outside them). */
export interface Area extends AreaModule {
  paths: string[]
}

function withPaths(a: AreaModule): Area {
  const folders = a.files.filter((f) => f.kind === 'folder').map((f) => f.rel)
  const inside = (rel: string) => folders.some((d) => d !== rel && rel.startsWith(`${d}/`))
  return {...a, paths: a.files.map((f) => f.rel).filter((rel) => !inside(rel))}
}

/**
 * The spine of the lifecycle: factory reset, backup, restore, inspect, diff and verify iterate
 * over these areas. Adding an area is one module (see docs/architecture.md) and one line here.
 */
export const AREAS: readonly Area[] = [
  brandArea, optionKeysArea, licensingArea, fipsArea, ipArea, mgmtArea, sshKeysArea, certsArea, passwordsArea, logsArea,
  configArea, clusterArea, bootstrapKeyArea, alarmsArea, usageArea,
].map(withPaths)

export function area(name: AreaName): Area {
  const found = AREAS.find((a) => a.name === name)
  if (!found) throw new Error(`unknown area ${name}`)
  return found
}

/** The area a unit-relative path belongs to, or null (product files, payload, tool state). */
export function areaOf(rel: string): AreaName | null {
  for (const a of AREAS) {
    for (const p of a.paths) if (rel === p || rel.startsWith(`${p}/`)) return a.name
  }
  return null
}

/** Areas asked about on an X14.2 Expressway, in the documented order. */
export const X142_QUESTION_ORDER: AreaName[] = AREAS.filter((a) => a.question?.order != null)
  .sort((x, y) => x.question!.order! - y.question!.order!).map((a) => a.name)
/** Areas asked about on VCS, and on Expressway before X14.2. */
export const LEGACY_QUESTION_ORDER: AreaName[] = AREAS.filter((a) => a.question?.legacyOrder != null)
  .sort((x, y) => x.question!.legacyOrder! - y.question!.legacyOrder!).map((a) => a.name)

/** Paths a backup carries, in the registry's order. */
export function backupPaths(): string[] {
  return AREAS.filter((a) => a.backup).flatMap((a) => a.paths)
}

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
  for (const a of AREAS) for (const f of a.files) add(f.kind === 'folder' ? f.rel : f.rel.includes('/') ? f.rel.slice(0, f.rel.lastIndexOf('/')) : '')
  add(PRODUCT.licensingTrustDir)
  add(PRODUCT.payloadDir)
  return [...out]
}

/** Area paths that are files: a link or folder there is refused. */
export function areaFiles(): string[] {
  return AREAS.flatMap((a) => a.files).filter((f) => f.kind === 'file').map((f) => f.rel)
}
