import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {BRAND, parseProductInfo} from '../areas/brand.js'
import {FIPS, type FipsConfig} from '../areas/fips.js'
import {PRODUCT} from '../areas/product.js'
import {areaFiles, areaOf, AREAS, structuralFolders} from '../areas/registry.js'
import {policyFor} from '../crypto/policy.js'
import {XwayError} from '../errors.js'
import {loadPayload} from '../lifecycle/payload.js'
import {QUOVADIS_FILE, QUOVADIS_ROOT_CA_2_FINGERPRINT, readTrustStore} from '../licensing/trust-store.js'
import type {ProductInfo} from '../product.js'
import {openAnyStore as openStore} from '../disk/open.js'
import {resolveLinkChain, UnsafePathError} from '../unit/safe-path.js'
import type {UnitReader} from '../unit/store.js'
import {isTransient, TOOL} from '../unit/tool-paths.js'

export interface VerifyProblem {
  path: string
  area: string | null
  problem: string
}

export interface VerifyResult {
  unit: string
  ok: boolean
  problems: VerifyProblem[]
  warnings: VerifyProblem[]
}

/**
 * Checks structure, formats, permissions, key/certificate pairs, links, the factory payload, and
 * that no operation is half done. Reports problems instead of refusing: a unit whose folders are
 * links is exactly what verify is for.
 */
export async function verifyUnit(unitArg: string): Promise<VerifyResult> {
  const problems: VerifyProblem[] = []
  const warnings: VerifyProblem[] = []
  const problem = (path: string, text: string) => problems.push({path, area: areaOf(path), problem: text})
  let store
  try {
    store = await openStore(unitArg)
  } catch (error) {
    return {unit: unitArg, ok: false, problems: [{path: '.', area: null, problem: (error as Error).message}], warnings}
  }
  try {
    const u = store.reader()
    if (store.hasPendingJournal()) problem(TOOL.journal, 'an operation was interrupted and is not finished: run xway image recover')
    checkEntries(u, problem)
    // reads below go through the same link-refusing reader: a refusal is a problem, not a crash
    const safely = <T>(rel: string, fn: () => T): T | undefined => {
      try {
        return fn()
      } catch (error) {
        if (error instanceof UnsafePathError) return undefined // reported by checkEntries
        problem(rel, (error as Error).message)
        return undefined
      }
    }
    const stat = (rel: string) => safely(rel, () => u.stat(rel)) ?? null
    const text = (rel: string): string | null => safely(rel, () => u.read(rel)?.toString('utf8') ?? null) ?? null
    const infoXml = text(BRAND.productInfo)
    if (infoXml === null) {
      if (!problems.some((p) => p.path === BRAND.productInfo)) problem(BRAND.productInfo, 'missing: this is not a unit')
      return {unit: unitArg, ok: false, problems, warnings}
    }
    const info = safely(BRAND.productInfo, () => parseProductInfo(infoXml)) ?? null
    // the generic checks of every declared file: present when required, its format, 0600 for secrets
    const json = new Map<string, unknown>()
    for (const a of AREAS) {
      for (const f of a.files) {
        if (f.kind !== 'file' || f.rel === BRAND.productInfo) continue
        const data = text(f.rel)
        if (data === null) {
          if (f.required && stat(f.rel) === null) problem(f.rel, 'missing')
          continue
        }
        if (f.format === 'json') {
          try {
            json.set(f.rel, JSON.parse(data))
          } catch {
            problem(f.rel, 'not valid JSON')
          }
        } else if (f.format === 'hex-32' && !/^[0-9a-f]{64}\n?$/.test(data)) problem(f.rel, 'not a 32-byte hex key')
        else if (f.format === 'digits-16' && !/^\d{16}\n?$/.test(data)) problem(f.rel, 'not a 16-digit release key')
        const st = stat(f.rel)
        if (f.secret && st?.kind === 'file' && (st.mode & 0o077) !== 0) problem(f.rel, 'holds a secret but is readable by group or others (must be 0600)')
      }
    }
    const policy = policyFor((json.get(FIPS.file) as FipsConfig | undefined)?.enabled === true)
    for (const a of AREAS) safely(a.paths[0] ?? '', () => a.verify?.({files: u, info, policy, text, problem}))
    safely(PRODUCT.licensingTrustDir, () => {
      const qv = readTrustStore(u).find((a) => !a.lab)
      if (!qv) problem(`${PRODUCT.licensingTrustDir}/${QUOVADIS_FILE}`, 'QuoVadis Root CA 2 is missing from the agent trust store')
      else if (qv.fingerprint !== QUOVADIS_ROOT_CA_2_FINGERPRINT) problem(`${PRODUCT.licensingTrustDir}/${QUOVADIS_FILE}`, 'is not QuoVadis Root CA 2 (fingerprint differs from the pinned one)')
    })
    if (info) await checkPayload(u, info, problem, warnings)
    return {unit: unitArg, ok: problems.length === 0, problems, warnings}
  } finally {
    store.close()
  }
}

/** Links, devices, FIFOs and sockets anywhere in the unit. */
function checkEntries(u: UnitReader, problem: (path: string, text: string) => void): void {
  const structural = new Set([...structuralFolders(), TOOL.dir, 'var/lib', 'var'])
  const declaredFiles = new Set(areaFiles())
  const visit = (dir: string): void => {
    let names: string[]
    try {
      names = u.list(dir)
    } catch {
      return
    }
    for (const name of names) {
      const rel = dir === '' ? name : `${dir}/${name}`
      if (isTransient(rel)) continue
      const st = u.stat(rel)
      if (st === null) continue
      if (st.kind === 'other') problem(rel, 'a device, FIFO or socket inside a unit')
      else if (st.kind === 'symlink') {
        const target = u.readlink(rel)
        const lands = resolveLinkChain((r) => u.stat(r), (r) => u.readlink(r), rel)
        if (structural.has(rel)) problem(rel, `a symbolic link where a folder is expected (-> ${target}): xway refuses such a unit`)
        else if (lands === 'leaves') problem(rel, `a symbolic link leaving the unit (-> ${target})`)
        else if (lands === 'loop') problem(rel, `a loop of symbolic links (-> ${target})`)
        else if (declaredFiles.has(rel)) problem(rel, `a symbolic link where a file is expected (-> ${target})`)
      } else if (st.kind === 'dir') visit(rel)
      else if (structural.has(rel)) problem(rel, 'a file where a folder is expected')
    }
  }
  visit('')
}

/** The factory payload: missing is a warning (a reset will need it); present, it must be whole. */
async function checkPayload(u: UnitReader, info: ProductInfo, problem: (path: string, text: string) => void, warnings: VerifyProblem[]): Promise<void> {
  let missing: string[]
  try {
    missing = [PRODUCT.payloadRk, PRODUCT.payloadImage].filter((rel) => u.stat(rel) === null)
  } catch {
    return // a linked folder on the way: reported by checkEntries
  }
  for (const rel of missing) warnings.push({path: rel, area: null, problem: 'missing: factory reset will need it copied in'})
  if (missing.length > 0) return
  const scratch = mkdtempSync(join(tmpdir(), 'xway-verify-'))
  try {
    await loadPayload(u, info, scratch)
  } catch (error) {
    if (error instanceof UnsafePathError) return
    const rel = /rk\b/.test((error as Error).message) && !/tandberg-image/.test((error as Error).message) ? PRODUCT.payloadRk : PRODUCT.payloadImage
    problem(rel, error instanceof XwayError ? error.message.replace(/: copy .*$/, '') : String(error))
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}
