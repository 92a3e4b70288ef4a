import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {AreaAction, AreaName, PayloadFile, ResetApply, ResetSeries} from '../areas/area.js'
import {readFips} from '../areas/fips.js'
import {CERTS} from '../areas/certs.js'
import {readIp, type IpConfig} from '../areas/ip.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import {changeUnit, openUnit} from '../areas/open.js'
import {readOptionKeys} from '../areas/option-keys.js'
import {AREAS} from '../areas/registry.js'
import {policyFor} from '../crypto/policy.js'
import {randomFor} from '../crypto/random.js'
import type {Brand, ProductInfo, UnitType} from '../product.js'
import {IP} from '../areas/ip.js'
import type {UnitReader} from '../unit/store.js'
import type {UnitTransaction} from '../unit/transaction.js'
import {loadPayload, type Payload, type PayloadSummary} from './payload.js'
import {type AreaSize, type FactoryResetPlan, type FactoryResetState, type PlannedArea, planFactoryReset} from './reset-plan.js'
import {checkKeepAnswers, type KeepAnswers} from './reset-dialogue.js'

// `factory-reset`: read the unit under its lock, plan (reset-plan.ts), and apply the plan in one
// transaction. Each area module says what it writes (applyReset); this file only moves files.

function sizeOf(unit: UnitReader, rel: string): AreaSize {
  const st = unit.stat(rel)
  if (st === null) return {bytes: 0, files: 0}
  if (st.kind !== 'dir') return {bytes: st.size, files: 1}
  let bytes = 0
  let files = 0
  for (const e of unit.walk(rel)) {
    if (e.stat.kind === 'dir') continue
    bytes += e.stat.size
    files++
  }
  return {bytes, files}
}

/** The unit's state as planning needs it; stats files but never reads logs. */
export function readResetState(unit: UnitReader, info: ProductInfo, payload: PayloadSummary): FactoryResetState {
  const sizes = {} as Record<AreaName, AreaSize>
  for (const a of AREAS) {
    sizes[a.name] = a.paths.map((p) => sizeOf(unit, p)).reduce((x, y) => ({bytes: x.bytes + y.bytes, files: x.files + y.files}), {bytes: 0, files: 0})
  }
  return {
    info,
    sizes,
    optionKeys: readOptionKeys(unit).keys,
    fipsEnabled: readFips(unit).enabled === true,
    dns: readIp(unit).dns ?? [],
    licensingMode: readLicensing(unit).mode,
    sniFiles: sizeOf(unit, CERTS.sniDir).files,
    hasProxyPassword: unit.stat(LICENSING.proxyPassword) !== null,
    payload,
  }
}

function under(rel: string, root: string): boolean {
  return rel === root || rel.startsWith(`${root}/`)
}

/**
 * Records the plan's changes in the transaction. An area that is not kept loses its files and gets
 * its payload files back; then its module adds what it writes itself (keys, product info, the
 * licensing state). Deletes (moves) first, then writes, then empty folders.
 */
function applyPlan(tx: UnitTransaction, unit: UnitReader, state: FactoryResetState, plan: FactoryResetPlan, payload: Payload, options: {at: Date; seed?: string}): void {
  const deletes: string[] = []
  const writes = new Map<string, PayloadFile>()
  const mkdirs: string[] = []
  const action = (name: AreaName): AreaAction => plan.areas.find((a) => a.area === name)!.action
  const payloadJson = <T>(rel: string): T => JSON.parse(payload.files.get(rel)!.data.toString('utf8')) as T
  const ipAfter: IpConfig = action('ip') === 'kept' ? readIp(unit) : payloadJson<IpConfig>(IP.file)
  const random = (label: string) => randomFor(options.seed, `factory-reset-${label}`)
  const base: Omit<ResetApply, 'action'> = {
    files: unit, info: state.info, series: plan.series, after: plan.after, optionKeysBefore: state.optionKeys, optionKeysAfter: plan.optionKeys,
    licensing: plan.licensing, evaluationStartedAt: plan.evaluationStartedAt, alarms: plan.alarms, policy: policyFor(plan.cryptoPolicy === 'fips'),
    fipsEnabled: state.fipsEnabled, sniFiles: state.sniFiles, at: options.at,
    payload: {files: payload.files, releaseKey: payload.releaseKey}, payloadJson,
    hostname: ipAfter.hostname || 'expressway', domain: ipAfter.domain,
    random, seededOnly: (label) => (options.seed === undefined ? undefined : random(label)),
    put: (rel, data, mode = 0o644) => writes.set(rel, {data: typeof data === 'string' ? Buffer.from(data) : data, mode}),
    putJson: (rel, value, mode = 0o644) => writes.set(rel, {data: Buffer.from(JSON.stringify(value, null, 2) + '\n'), mode}),
    mkdir: (rel) => mkdirs.push(rel),
    remove: (rel) => deletes.push(rel),
  }
  for (const a of AREAS) {
    const act = action(a.name)
    if (act !== 'kept') {
      for (const p of a.paths) if (unit.stat(p) !== null) deletes.push(p)
      for (const [rel, f] of payload.files) if (a.paths.some((p) => under(rel, p))) writes.set(rel, f)
    }
    a.applyReset?.({...base, action: act})
  }
  // a file that is rewritten is replaced by one rename, never deleted first: product_info.xml is never
  // missing, even for an instant (image recover needs it to know the unit)
  for (const rel of deletes) if (!writes.has(rel)) tx.delete(rel)
  for (const [rel, f] of [...writes.entries()].sort(([x], [y]) => x.localeCompare(y))) tx.write(rel, f.data, f.mode)
  for (const rel of mkdirs) tx.mkdir(rel)
}

export interface FactoryResetResult {
  unit: string
  dryRun: boolean
  cancelled: boolean
  series: ResetSeries
  /** brand and type after the reset (dry run: as planned; cancelled: unchanged) */
  brand: Brand
  type: UnitType
  softwareVersion: string
  plan: {areas: PlannedArea[]}
  warnings: string[]
}

function resultOf(unitArg: string, info: ProductInfo, plan: FactoryResetPlan, flags: {dryRun: boolean; cancelled: boolean}): FactoryResetResult {
  const after = flags.cancelled ? {brand: info.brand, type: info.type} : plan.after
  return {
    unit: unitArg, dryRun: flags.dryRun, cancelled: flags.cancelled, series: plan.series,
    brand: after.brand, type: after.type, softwareVersion: info.softwareVersion,
    plan: {areas: plan.areas}, warnings: plan.warnings,
  }
}

/**
 * The plan for these answers, computed without changing anything (no lock; the payload is checked in a
 * temp folder). Used by --dry-run, and before the dialogue so that a missing payload is reported
 * before any question.
 */
export async function previewFactoryReset(unitArg: string, answers: KeepAnswers, at: Date, options: {cancelled?: boolean} = {}): Promise<FactoryResetResult & {info: ProductInfo}> {
  const unit = await openUnit(unitArg)
  checkKeepAnswers(unit.info, answers)
  const scratch = mkdtempSync(join(tmpdir(), 'xway-reset-'))
  try {
    const payload = await loadPayload(unit.files, unit.info, scratch)
    const plan = planFactoryReset(readResetState(unit.files, unit.info, payload.summary), answers, at)
    return {...resultOf(unitArg, unit.info, plan, {dryRun: !options.cancelled, cancelled: options.cancelled === true}), info: unit.info}
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
}

/** Reads the unit under its lock, plans, and applies the plan in one transaction (atomic under kill -9). */
export async function factoryReset(unitArg: string, answers: KeepAnswers, options: {at: Date; seed?: string}): Promise<FactoryResetResult> {
  return changeUnit(unitArg, 'factory-reset', async (tx, unit) => {
    const info = unit.info
    checkKeepAnswers(info, answers)
    const payload = await loadPayload(unit.files, info, tx.scratch('payload'))
    const state = readResetState(unit.files, info, payload.summary)
    const plan = planFactoryReset(state, answers, options.at)
    applyPlan(tx, unit.files, state, plan, payload, options)
    const by = (act: AreaAction) => plan.areas.filter((a) => a.action === act).map((a) => a.area)
    tx.audit({kept: by('kept'), reset: by('reset'), deleted: by('deleted'), brand: plan.after.brand, type: plan.after.type})
    return resultOf(unitArg, info, plan, {dryRun: false, cancelled: false})
  })
}
