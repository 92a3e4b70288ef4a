import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {generateServerCertificate, generateSshHostKeys, generateSystemKey} from '../areas/generated.js'
import {MS_INTEROP_FEATURE, AAS_FEATURE, hasFeature, OPTION_KEY_PATTERN} from '../areas/option-keys.js'
import {
  AREAS, area as areaByName, LEGACY_QUESTION_ORDER, X142_QUESTION_ORDER, type Area, type AreaName,
} from '../areas/registry.js'
import {raiseAlarm, readFips, readIp, readOptionKeys, type AlarmKey, type AlarmsFile, type IpConfig} from '../areas/state.js'
import {policyFor} from '../crypto/policy.js'
import {randomFor} from '../crypto/random.js'
import {FailedError, RefusedError} from '../errors.js'
import {defaultLicensingState, normalizeLicensing, readLicensing, type LicensingState} from '../licensing/state.js'
import {P} from '../unit/paths.js'
import type {UnitReader} from '../unit/store.js'
import {changeUnit, openUnit} from '../areas/open.js'
import type {UnitTransaction} from '../unit/transaction.js'
import {type Brand, isX142Expressway, type ProductInfo, renderProductInfo, type UnitType} from '../unit/unit.js'
import {loadPayload, type Payload, type PayloadFile, type PayloadSummary} from './payload.js'

// ---------------------------------------------------------------------------------------------
// The dialogue (reference/expressway-facts.md, "Factory reset"; the seed)
// ---------------------------------------------------------------------------------------------

/** What the appliance prints before its questions, line by line. */
export const RESET_WARNING_LINES: readonly string[] = [
  '*'.repeat(61),
  'Warning! This operation resets the unit to factory default settings!',
  '*'.repeat(61),
  '',
  'To cancel operation before final confirmation press Ctrl+C',
]
export const RESET_CONFIRM_PROMPT = 'Are you sure you want to continue [YES/NO]?'

/** Keep answers, per area: true = keep (YES, or its flag); missing or false = not kept. */
export type KeepAnswers = Partial<Record<AreaName, boolean>>

/** x14.2-expressway: the -v/-t dialogue; legacy: VCS ("unchanged") and Expressway before X14.2. */
export type ResetSeries = 'x14.2-expressway' | 'legacy'

export function resetSeries(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): ResetSeries {
  return isX142Expressway(info) ? 'x14.2-expressway' : 'legacy'
}

export interface ResetQuestionItem {
  area: AreaName
  flag: string
  long: string
  prompt: string
}

/** The questions of the unit's series, in the documented order and wording (from the registry). */
export function resetQuestions(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): ResetQuestionItem[] {
  const series = resetSeries(info)
  const order = series === 'x14.2-expressway' ? X142_QUESTION_ORDER : LEGACY_QUESTION_ORDER
  return order.map((name) => {
    const q = areaByName(name).question!
    return {area: name, flag: q.flag, long: q.long, prompt: (series === 'x14.2-expressway' ? q.prompt : q.legacyPrompt)!}
  })
}

function seriesName(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): string {
  return info.brand === 'VCS' ? `Cisco VCS ${info.softwareVersion}` : `Expressway ${info.softwareVersion}`
}

export const LICENSING_WITHOUT_BRAND_MESSAGE =
  'Smart licensing settings cannot be kept (-t) when brand and type are not kept (-v): the unit would revert to Cisco VCS, which has no smart licensing. Add -v, or drop -t.'

/**
 * The rules of the appliance on the keep answers, checked as soon as they can be: before anything
 * changes, and in the dialogue right after the answer that breaks one (before further questions).
 */
export function checkKeepAnswers(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>, answers: KeepAnswers): void {
  const series = resetSeries(info)
  if (series === 'x14.2-expressway' && answers['option-keys']) {
    // the seed: "Flag -o (saving of the option keys) is removed from the Expressway factory reset."
    throw new RefusedError(
      `Refused: the -o flag (saving of the option keys) was removed from the Expressway factory reset (X14.2). On ${seriesName(info)} option keys are not kept; the Microsoft Interoperability key (C00), if present, survives the reset.`,
      {actions: ['Run the reset again without -o.', 'Back the option keys up first if you need them elsewhere: xway backup create UNIT.']},
    )
  }
  const asked = new Set(resetQuestions(info).map((q) => q.area))
  // on VCS / pre-X14.2 the reset never asks about brand and type (they stay) nor the management
  // interface; -v and -m are then honoured as keeps (a no-op for -v), only -t has nothing to keep
  const honoured = new Set<AreaName>(series === 'legacy' ? ['brand', 'mgmt'] : [])
  for (const a of AREAS) {
    if (!a.question || !answers[a.name] || asked.has(a.name) || honoured.has(a.name)) continue
    const list = resetQuestions(info).map((q) => `-${q.flag}`).join(' ')
    throw new RefusedError(
      `Refused: -${a.question.flag} (keep ${a.title}) is not a question of the factory reset on ${seriesName(info)}` +
        (series === 'legacy' ? ' (the Cisco VCS factory reset is unchanged; -t belongs to the Expressway reset from X14.2)' : '') +
        `: its flags are ${list}.`,
      {actions: [`Run the reset again without -${a.question.flag}.`]},
    )
  }
  if (answers.licensing === true && answers.brand !== true) {
    throw new RefusedError(LICENSING_WITHOUT_BRAND_MESSAGE, {actions: ['Run again with -v -t to keep both, or without -t.']})
  }
}

export interface DialogueIo {
  /** one line of the appliance's output (the warning banner) */
  write(line: string): void
  /** a [YES/NO]? question; rejects when there is no answer */
  ask(prompt: string): Promise<boolean>
}

/**
 * The appliance's dialogue: flags are YES answers. No keep flag → every question of the series, in
 * order; any keep flag → only the final question; --yes answers the final question (and, without keep
 * flags, means "keep nothing": the non-interactive full reset).
 */
export async function runResetDialogue(
  info: Pick<ProductInfo, 'brand' | 'softwareVersion'>, flagged: KeepAnswers, options: {yes: boolean}, io: DialogueIo,
): Promise<{answers: KeepAnswers; confirmed: boolean}> {
  checkKeepAnswers(info, flagged)
  const answers: KeepAnswers = {...flagged}
  if (options.yes) return {answers, confirmed: true}
  for (const line of RESET_WARNING_LINES) io.write(line)
  if (!Object.values(flagged).some(Boolean)) {
    for (const q of resetQuestions(info)) {
      answers[q.area] = await io.ask(q.prompt)
      checkKeepAnswers(info, answers)
    }
  }
  return {answers, confirmed: await io.ask(RESET_CONFIRM_PROMPT)}
}

// ---------------------------------------------------------------------------------------------
// Plan (pure)
// ---------------------------------------------------------------------------------------------

export type AreaAction = 'kept' | 'reset' | 'deleted'

export interface PlannedArea {
  area: AreaName
  action: AreaAction
  /** what the area holds on the unit now: kept as is, or replaced/deleted by the reset */
  bytes: number
  files: number
  detail: string
}

export interface AreaSize {
  bytes: number
  files: number
}

/** What planning needs from the unit (read under its lock). */
export interface FactoryResetState {
  info: ProductInfo
  sizes: Record<AreaName, AreaSize>
  optionKeys: string[]
  fipsEnabled: boolean
  dns: string[]
  licensingMode: 'smart' | 'legacy'
  /** files under certs/sni (deleted by every reset) */
  sniFiles: number
  /** a proxy password is stored encrypted under the bootstrap key */
  hasProxyPassword: boolean
  payload: PayloadSummary
}

export interface FactoryResetPlan {
  series: ResetSeries
  areas: PlannedArea[]
  after: {brand: Brand; type: UnitType}
  /** option keys the unit holds after the reset */
  optionKeys: string[]
  /** kept; none: Cisco VCS (no smart licensing); evaluation: smart, Direct, evaluation restarts; payload: the version's defaults */
  licensing: 'kept' | 'none' | 'evaluation' | 'payload'
  evaluationStartedAt: string | null
  /** alarms raised after the reset */
  alarms: AlarmKey[]
  cryptoPolicy: 'default' | 'fips'
  warnings: string[]
}

function isMsInterop(key: string): boolean {
  const m = OPTION_KEY_PATTERN.exec(key.toUpperCase())
  return m !== null && `${m[1]}${m[2]}` === MS_INTEROP_FEATURE
}

/**
 * The factory reset as a plan: per area kept, reset or deleted, with what the area holds now. Pure:
 * a function of the unit's state, the keep answers and now. The rules of the appliance live here.
 */
export function planFactoryReset(state: FactoryResetState, answers: KeepAnswers, at: Date): FactoryResetPlan {
  const {info} = state
  checkKeepAnswers(info, answers)
  const series = resetSeries(info)
  const keep = (name: AreaName): boolean => {
    // the VCS reset is unchanged: it never asks about brand and type, which stay
    if (name === 'brand' && series === 'legacy') return true
    const a = areaByName(name)
    return a.question !== null && answers[name] === true
  }
  const warnings: string[] = []
  // the seed: "-v No: the default values are Expressway-C and Cisco VCS"
  const after = keep('brand') ? {brand: info.brand, type: info.type} : {brand: state.payload.brand, type: state.payload.type}
  const afterInfo = {...info, brand: after.brand, type: after.type}
  // the seed: "After Factory Reset, if the MS Interop option key is on the device, it will be preserved."
  const optionKeys = keep('option-keys') ? [...state.optionKeys] : state.optionKeys.filter(isMsInterop)
  const licensing: FactoryResetPlan['licensing'] = keep('licensing') ? 'kept'
    : after.brand === 'VCS' ? 'none'
      : isX142Expressway(afterInfo) ? 'evaluation' : 'payload'
  const fipsAfter = keep('fips') ? state.fipsEnabled : state.payload.fipsEnabled
  const dnsAfter = keep('ip') ? state.dns : state.payload.dns
  const alarms: AlarmKey[] = []
  if (licensing === 'kept' && state.licensingMode === 'smart' && dnsAfter.length === 0) {
    // the seed: "-t Yes … the device will go offline until the DNS settings are configured"
    alarms.push('smart-licensing-registration', 'smart-licensing-authorization')
    warnings.push('Smart licensing settings are kept but the unit has no DNS server: it stays offline, with alarms 30042 and 30044, until DNS is configured (xway network set UNIT --dns IP) and the next licensing exchange succeeds.')
  }
  if (fipsAfter && !hasFeature(optionKeys, AAS_FEATURE) && info.brand === 'VCS') {
    warnings.push('FIPS 140 mode is kept but the Advanced Account Security key (116341J00-…) it needs was not: add it again with xway option-keys add.')
  }
  const keepBootstrapKey = keep('licensing') && state.hasProxyPassword
  const policyName = policyFor(fipsAfter).name

  const areas: PlannedArea[] = AREAS.map((a) => {
    const size = state.sizes[a.name] ?? {bytes: 0, files: 0}
    const kept = a.name === 'bootstrap-key' ? keepBootstrapKey : keep(a.name)
    const action: AreaAction = kept ? 'kept' : a.resetSource === 'delete' ? 'deleted' : 'reset'
    return {area: a.name, action, bytes: size.bytes, files: size.files, detail: detailOf(a, action)}
  })

  function detailOf(a: Area, action: AreaAction): string {
    switch (a.name) {
      case 'brand':
        if (series === 'legacy') return `${info.brand} ${info.type} (not asked: the ${info.brand === 'VCS' ? 'Cisco VCS' : 'pre-X14.2'} reset keeps brand and type)`
        return action === 'kept' ? `${info.brand} ${info.type} kept` : `becomes ${after.brand} ${after.type} (factory default)`
      case 'licensing':
        return {
          kept: 'configuration and registration kept',
          none: after.brand === info.brand ? 'factory default (no smart licensing)' : 'removed: Cisco VCS has no smart licensing',
          evaluation: 'transport Direct, registration and reservation removed, evaluation restarts',
          payload: 'factory default',
        }[licensing]
      case 'option-keys': {
        if (action === 'kept') return `all ${state.optionKeys.length} kept`
        const c00 = optionKeys.length > 0 ? 'Microsoft Interoperability (C00) kept' : 'no Microsoft Interoperability (C00) key to keep'
        return `dropped (${state.optionKeys.length - optionKeys.length}); ${c00}`
      }
      case 'ssh-keys':
        return action === 'kept' ? 'kept' : `new host keys (${policyName} crypto policy)`
      case 'certs': {
        const sni = `SNI/domain certificates deleted (${state.sniFiles})`
        return action === 'kept' ? `server certificate, key and CA trust store kept; ${sni}` : `new server certificate and key (${policyName} crypto policy), CA trust store from the factory payload; ${sni}`
      }
      case 'passwords':
        return action === 'kept' ? 'kept' : 'factory defaults, to be changed at first login'
      case 'logs':
        return action === 'kept' ? 'saved' : 'deleted; log folder left empty'
      case 'config':
        return 'factory defaults; Install Wizard pending'
      case 'bootstrap-key':
        return action === 'kept' ? 'kept: the kept proxy password is encrypted under it' : 'new key'
      case 'alarms':
        return alarms.length > 0 ? 'cleared; 30042 and 30044 raised (no DNS server)' : 'cleared'
      case 'fips':
        return action === 'kept' ? `kept (${state.fipsEnabled ? 'on' : 'off'})` : 'factory default (off)'
      default:
        return action === 'kept' ? 'kept' : 'factory defaults'
    }
  }

  return {
    series, areas, after, optionKeys, licensing,
    evaluationStartedAt: licensing === 'evaluation' ? at.toISOString() : null,
    alarms, cryptoPolicy: policyName, warnings,
  }
}

// ---------------------------------------------------------------------------------------------
// State, apply, and the operations the command calls
// ---------------------------------------------------------------------------------------------

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
    sniFiles: sizeOf(unit, P.sniDir).files,
    hasProxyPassword: unit.stat(P.proxyPassword) !== null,
    payload,
  }
}

function under(rel: string, root: string): boolean {
  return rel === root || rel.startsWith(`${root}/`)
}

function exists(unit: UnitReader, rel: string): boolean {
  return unit.stat(rel) !== null
}

/** Records the plan's changes in the transaction: deletes (moves) first, then writes, then empty folders. */
function applyPlan(tx: UnitTransaction, unit: UnitReader, state: FactoryResetState, plan: FactoryResetPlan, payload: Payload, options: {at: Date; seed?: string}): void {
  const deletes: string[] = []
  const writes = new Map<string, PayloadFile>()
  const mkdirs: string[] = []
  const put = (rel: string, data: string | Buffer, mode = 0o644) => writes.set(rel, {data: typeof data === 'string' ? Buffer.from(data) : data, mode})
  const putJson = (rel: string, value: unknown, mode = 0o644) => put(rel, JSON.stringify(value, null, 2) + '\n', mode)
  const random = (label: string) => randomFor(options.seed, `factory-reset-${label}`)
  const seededOnly = (label: string) => (options.seed === undefined ? undefined : random(label))
  const payloadJson = <T>(rel: string): T => JSON.parse(payload.files.get(rel)!.data.toString('utf8')) as T
  const action = (name: AreaName) => plan.areas.find((a) => a.area === name)!.action

  const ipAfter: IpConfig = action('ip') === 'kept' ? readIp(unit) : payloadJson<IpConfig>(P.ip)
  const policy = policyFor(plan.cryptoPolicy === 'fips')
  const host = ipAfter.hostname || 'expressway'

  for (const a of AREAS) {
    const act = action(a.name)
    if (act === 'kept') {
      // SNI/domain certificates are always deleted, whatever the answers (reference material X15.0)
      if (a.name === 'certs') {
        const sniEntries = exists(unit, P.sniDir) ? unit.list(P.sniDir).length : -1
        if (sniEntries > 0) deletes.push(P.sniDir)
        if (sniEntries !== 0) mkdirs.push(P.sniDir)
      }
      continue
    }
    for (const p of a.paths) if (exists(unit, p)) deletes.push(p)
    for (const [rel, f] of payload.files) if (a.paths.some((p) => under(rel, p))) writes.set(rel, f)
    switch (a.name) {
      case 'brand':
        put(P.productInfo, renderProductInfo({...state.info, brand: plan.after.brand, type: plan.after.type}))
        put(P.releaseKey, `${payload.releaseKey}\n`)
        break
      case 'option-keys':
        putJson(P.optionKeys, {keys: plan.optionKeys})
        break
      case 'licensing':
        putJson(P.licensing, licensingAfter(plan, readLicensing(unit), payloadJson<Partial<LicensingState>>(P.licensing)))
        break
      case 'ssh-keys':
        for (const g of generateSshHostKeys(policy, seededOnly, `root@${host}`)) put(g.rel, g.data, g.mode)
        break
      case 'certs': {
        const fqdn = [host, ipAfter.domain].filter(Boolean).join('.')
        for (const g of generateServerCertificate(policy, seededOnly('server-key'), fqdn, options.at)) put(g.rel, g.data, g.mode)
        mkdirs.push(P.sniDir)
        break
      }
      case 'passwords':
        if (writes.has(P.users)) writes.set(P.users, {...writes.get(P.users)!, mode: 0o600})
        break
      case 'bootstrap-key': {
        const g = generateSystemKey(random('systemkey'))
        put(g.rel, g.data, g.mode)
        break
      }
      case 'alarms': {
        let alarms: AlarmsFile = {alarms: []}
        for (const key of plan.alarms) alarms = raiseAlarm(alarms, key, options.at)
        putJson(P.alarms, alarms)
        break
      }
      case 'logs':
        mkdirs.push(P.logDir)
        break
      default:
        break
    }
  }
  // a file that is rewritten is replaced by one rename, never deleted first: product_info.xml is never
  // missing, even for an instant (image recover needs it to know the unit)
  for (const rel of deletes) if (!writes.has(rel)) tx.delete(rel)
  for (const [rel, f] of [...writes.entries()].sort(([x], [y]) => x.localeCompare(y))) tx.write(rel, f.data, f.mode)
  for (const rel of mkdirs) tx.mkdir(rel)
}

/** The licensing state after a reset that does not keep it. */
function licensingAfter(plan: FactoryResetPlan, current: LicensingState, payload: Partial<LicensingState>): LicensingState {
  if (plan.licensing === 'none') return defaultLicensingState('legacy')
  const next = normalizeLicensing(payload)
  // the lab Direct endpoint is product configuration baked at build time, like the agent trust store
  next.directUrl = current.directUrl
  if (plan.licensing === 'evaluation') {
    // the seed: "-t No: the Smart Licensing is reverted to 'Direct' if the device is still an Expressway"
    next.mode = 'smart'
    next.transport = {mode: 'direct', url: null, proxy: null}
    next.evaluation = {startedAt: plan.evaluationStartedAt}
  }
  return next
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
