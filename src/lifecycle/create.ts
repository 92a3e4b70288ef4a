import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'
import {CERTS, generateServerCertificate} from '../areas/certs.js'
import {type GeneratedFile, generateSshHostKeys, SSH_KEYS} from '../areas/ssh-keys.js'
import {generateSystemKey} from '../areas/bootstrap-key.js'
import {AAS_FEATURE, assertKeyAllowed, hasFeature, OPTION_KEYS, parseOptionKey} from '../areas/option-keys.js'
import {ALARMS, type AlarmsFile} from '../areas/alarms.js'
import {IP, type IpConfig} from '../areas/ip.js'
import {MGMT, type MgmtConfig} from '../areas/mgmt.js'
import {USAGE, type UsageFile} from '../areas/usage.js'
import {PASSWORDS, type UsersFile} from '../areas/passwords.js'
import {hashPassword, isPasswordHash} from '../crypto/password.js'
import {policyFor} from '../crypto/policy.js'
import {randomFor, type RandomSource} from '../crypto/random.js'
import {BadInputError, RefusedError, UsageError} from '../errors.js'
import {exportControlLimit, nextExportControlState, sessionTotal} from '../licensing/export-control.js'
import {defaultLicensingState, type LicensingState} from '../licensing/state.js'
import {trustStoreFiles} from '../licensing/trust-store.js'
import {encryptProxyPassword} from '../agent/transport.js'
import type {Profile} from '../profile/load.js'
import {fsyncPath, writeFileDurable} from '../unit/fsutil.js'
import {isX142Expressway, type ProductInfo} from '../product.js'
import {BRAND, renderProductInfo} from '../areas/brand.js'
import {imageEntries, packSoftwareImage, releaseKey, softwareImage} from './software.js'
import {FIPS} from '../areas/fips.js'
import {LICENSING} from '../areas/licensing.js'
import {PRODUCT} from '../areas/product.js'
import {LOGS} from '../areas/logs.js'
import {TOOL} from '../unit/tool-paths.js'

export const FIPS_EXPORT_CONTROL_MESSAGE = 'FIPS140-2 cryptographic mode is not available under export control'

export interface CreateResult {
  unit: string
  brand: string
  type: string
  edition: string
  softwareVersion: string
  serial: string
  udi: string
  seeded: boolean
}

/** Files of a unit being built: relative path → content and mode. */
export type FileMap = Map<string, {data: Buffer; mode: number}>

function put(files: FileMap, rel: string, data: string | Buffer, mode = 0o644): void {
  files.set(rel, {data: typeof data === 'string' ? Buffer.from(data) : data, mode})
}

function putJson(files: FileMap, rel: string, value: unknown, mode = 0o644): void {
  put(files, rel, JSON.stringify(value, null, 2) + '\n', mode)
}

function readImageJson<T>(files: FileMap, rel: string): T {
  const f = files.get(rel)
  if (!f) throw new Error(`software image lacks ${rel}`)
  return JSON.parse(f.data.toString('utf8')) as T
}

/** The rules of the appliance that a profile must satisfy before anything is built. */
export function checkProfileRules(info: ProductInfo, profile: Profile): void {
  for (const text of profile.optionKeys) assertKeyAllowed(info, parseOptionKey(text))
  if (profile.fips) {
    if (isX142Expressway(info) && info.edition === 'standard') {
      throw new RefusedError(`${FIPS_EXPORT_CONTROL_MESSAGE}: FIPS 140 is not available on the export-restricted Expressway Series from X14.2.`, {
        actions: ['Build a VCS or Expressway Select unit with the Advanced Account Security key (116341J00-…) for FIPS 140 mode.'],
      })
    }
    if (!hasFeature(profile.optionKeys, AAS_FEATURE)) {
      throw new RefusedError('FIPS 140 mode needs the Advanced Account Security option key (116341J00-…).', {
        actions: ['Add the J00 key to optionKeys in the profile.'],
      })
    }
  }
}

function passwordEntry(source: Profile['passwords']['root'], env: NodeJS.ProcessEnv, random: RandomSource | undefined, who: string, fallback: UsersFile['root']): UsersFile['root'] {
  if (!source) return fallback
  if ('hash' in source) {
    if (!isPasswordHash(source.hash)) throw new BadInputError(`passwords.${who}.hash is not a SHA-512 crypt hash ($6$…).`)
    return {hash: source.hash, default: false, mustChange: false}
  }
  const value = env[source.fromEnv]
  if (value === undefined || value === '') {
    throw new UsageError(`passwords.${who}.fromEnv names ${source.fromEnv}, which is not set.`, {actions: [`Set ${source.fromEnv} in the environment, or remove passwords.${who} to keep the factory default.`]})
  }
  return {hash: hashPassword(value, random), default: false, mustChange: false}
}

/**
 * All files of a new unit, computed from the profile, the seed and now. Same profile + same seed +
 * same now → the same files.
 */
export async function buildUnitFiles(profile: Profile, options: {seed?: string; now: Date; env?: NodeJS.ProcessEnv}): Promise<{files: FileMap; info: ProductInfo}> {
  const {seed, now: at} = options
  const env = options.env ?? process.env
  const rnd = (label: string) => randomFor(seed, label)
  const seededOnly = (label: string) => (seed === undefined ? undefined : randomFor(seed, label))
  const image = softwareImage(profile.software)
  const serial = (profile.hardware.serial ?? rnd('serial').bytes(4).toString('hex')).toUpperCase()
  const info: ProductInfo = {
    formatVersion: 1,
    brand: profile.brand === 'vcs' ? 'VCS' : 'Expressway',
    type: profile.type === 'expressway-e' ? 'Expressway-E' : 'Expressway-C',
    edition: profile.edition,
    softwareVersion: image.info.version,
    pid: profile.hardware.pid,
    serial,
  }
  checkProfileRules(info, profile)

  const files: FileMap = new Map()
  for (const entry of imageEntries(profile.software)) {
    if (entry.kind === 'file') put(files, entry.rel, readFileSync(entry.source!), entry.mode)
  }
  put(files, BRAND.productInfo, renderProductInfo(info))
  const rk = releaseKey(serial, info.softwareVersion) + '\n'
  put(files, BRAND.releaseKey, rk)
  put(files, PRODUCT.payloadRk, rk)
  put(files, PRODUCT.payloadImage, await packSoftwareImage(info.softwareVersion))
  const systemKey = generateSystemKey(rnd('systemkey'))
  put(files, systemKey.rel, systemKey.data, systemKey.mode)

  const ip = readImageJson<IpConfig>(files, IP.file)
  const n = profile.network
  const newIp: IpConfig = {
    hostname: n.hostname ?? ip.hostname,
    domain: n.domain ?? ip.domain,
    dns: n.dns.length > 0 ? n.dns : ip.dns,
    lan1: n.lan1 ? {address: n.lan1.address, gateway: n.lan1.gateway ?? null} : ip.lan1,
  }
  putJson(files, IP.file, newIp)
  const mgmt: MgmtConfig = profile.mgmt ? {enabled: true, address: profile.mgmt.address} : {enabled: false, address: null}
  putJson(files, MGMT.file, mgmt)

  const users = readImageJson<UsersFile>(files, PASSWORDS.users)
  putJson(files, PASSWORDS.users, {
    root: passwordEntry(profile.passwords.root, env, seededOnly('password-root'), 'root', users.root),
    admin: passwordEntry(profile.passwords.admin, env, seededOnly('password-admin'), 'admin', users.admin),
  } satisfies UsersFile, 0o600)

  putJson(files, FIPS.file, {enabled: profile.fips, enabledAt: profile.fips ? at.toISOString() : null})
  putJson(files, OPTION_KEYS.file, {keys: profile.optionKeys.map((k) => parseOptionKey(k).key)})

  // X14.2: smart licensing is the only mode on Expressway; X14.0.2: optional, on when the profile has a licensing section
  const smart = info.brand === 'Expressway' && (isX142Expressway(info) || image.info.smartLicensing !== 'optional' || profile.licensing.enabled)
  const licensing: LicensingState = defaultLicensingState(smart ? 'smart' : 'legacy')
  if (smart) {
    const t = profile.licensing.transport
    licensing.transport =
      t.mode === 'on-prem' ? {mode: 'on-prem', url: t.url, proxy: null}
        : t.mode === 'proxy' ? {mode: 'proxy', url: null, proxy: {host: t.host, port: t.port, username: t.username ?? null, hasPassword: t.passwordFromEnv !== undefined}}
          : {mode: 'direct', url: null, proxy: null}
    if (t.mode === 'proxy' && t.passwordFromEnv !== undefined) {
      // the one secret the unit uses again: stored encrypted under its bootstrap key (SPEC 2)
      const password = env[t.passwordFromEnv]
      if (password === undefined || password === '') {
        throw new UsageError(`licensing.transport.passwordFromEnv names ${t.passwordFromEnv}, which is not set.`, {actions: [`Set ${t.passwordFromEnv} in the environment, or remove passwordFromEnv.`]})
      }
      put(files, LICENSING.proxyPassword, encryptProxyPassword(systemKey.data.toString(), password, seededOnly('proxy-password-iv')), 0o600)
    }
    licensing.directUrl = profile.licensing.directUrl ?? null
    licensing.hideIdentity = profile.licensing.hideIdentity
    licensing.evaluation.startedAt = at.toISOString()
  }
  putJson(files, LICENSING.state, licensing)
  for (const f of trustStoreFiles(profile.licensing.trustAnchors)) put(files, f.rel, f.data)

  const policy = policyFor(profile.fips)
  const fqdn = [newIp.hostname || 'expressway', newIp.domain].filter(Boolean).join('.')
  const generated: GeneratedFile[] = [
    ...generateSshHostKeys(policy, seededOnly, `root@${newIp.hostname || 'expressway'}`),
    ...generateServerCertificate(policy, seededOnly('server-key'), fqdn, at),
  ]
  for (const g of generated) put(files, g.rel, g.data, g.mode)

  const usage: UsageFile = {
    calls: profile.usage.calls, desktop: profile.usage.desktop, room: profile.usage.room, webrtc: profile.usage.webrtc,
    exportControl: {state: nextExportControlState('ok', sessionTotal(profile.usage), exportControlLimit(info, profile.usage.webrtc))},
  }
  putJson(files, USAGE.file, usage)
  const alarms: AlarmsFile = {alarms: []}
  putJson(files, ALARMS.file, alarms)
  put(files, TOOL.audit, JSON.stringify({at: at.toISOString(), command: 'image create', software: info.softwareVersion, profile: basename(profile.file), seeded: seed !== undefined}) + '\n')
  return {files, info}
}

/** Empty directories every unit has. */
const UNIT_DIRS = [LOGS.dir, CERTS.sniDir, TOOL.dir, SSH_KEYS.dir, PRODUCT.licensingTrustDir]

/**
 * Builds a unit from a profile into a temporary sibling and renames it into place: a failed
 * create leaves nothing behind. Refuses an existing, non-empty UNIT.
 */
export async function createUnit(unitArg: string, profile: Profile, options: {seed?: string; now: Date; env?: NodeJS.ProcessEnv}): Promise<CreateResult> {
  const target = resolve(unitArg)
  let emptyDirExists = false
  if (existsSync(target)) {
    if (readdirSync(target).length > 0) {
      throw new RefusedError(`${unitArg} exists and is not empty: image create builds new units only.`, {actions: ['Choose a new path, or remove the old unit first.']})
    }
    emptyDirExists = true
  }
  const {files, info} = await buildUnitFiles(profile, options)
  mkdirSync(dirname(target), {recursive: true})
  const tmp = join(dirname(target), `.${basename(target)}.xway-create-${process.pid}`)
  rmSync(tmp, {recursive: true, force: true})
  try {
    for (const d of UNIT_DIRS) mkdirSync(join(tmp, d), {recursive: true})
    for (const [rel, {data, mode}] of [...files.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      mkdirSync(dirname(join(tmp, rel)), {recursive: true})
      writeFileDurable(join(tmp, rel), data, mode)
    }
    if (emptyDirExists) rmdirSync(target)
    renameSync(tmp, target)
    fsyncPath(dirname(target))
  } catch (error) {
    rmSync(tmp, {recursive: true, force: true})
    throw error
  }
  return {
    unit: unitArg, brand: info.brand, type: info.type, edition: info.edition, softwareVersion: info.softwareVersion,
    serial: info.serial, udi: `PID:${info.pid},SN:${info.serial}`, seeded: options.seed !== undefined,
  }
}
