import {BRAND} from '../areas/brand.js'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {cpus} from 'node:os'
import {join, relative, resolve} from 'node:path'
import {Worker} from 'node:worker_threads'
import {BadInputError, RefusedError, UsageError, XwayError} from '../errors.js'
import {loadLab, type Lab, type Profile} from '../profile/load.js'
import * as server from '../server/admin.js'
import {startLicenseServer, type RunningServer} from '../server/http.js'
import {inspectUnit} from '../report/inspect.js'
import {availableVersions} from './software.js'
import type {CreateResult} from './create.js'
import {exportImage} from './disk-image.js'

export const LAB_FILE = 'lab.json'
export const LAB_VIRTUAL_ACCOUNT = 'lab'

export interface LabRecord {
  formatVersion: 1
  name: string
  labFile: string
  seed: string
  createdAt: string
  licenseServer: {embedded: true; dir: string; url: string; port: number} | {embedded: false; url: string}
  /** unit paths relative to the lab folder, so that a lab folder can be moved */
  units: Array<{name: string; path: string; udi: string; brand: string; type: string; softwareVersion: string; smartLicensing: boolean}>
}

export interface LabUnitStatus {
  name: string
  path: string
  type: string
  softwareVersion: string
  serial: string
  registration: string
  authorization: string
  alarms: number
  error?: string
}

export interface LabUpResult {
  lab: string
  out: string
  licenseServer: LabRecord['licenseServer']
  units: LabUnitStatus[]
}

export interface LabStatusResult {
  lab: string
  out: string
  licenseServer: LabRecord['licenseServer']
  units: LabUnitStatus[]
}

/** Registers a built unit with a token; provided by the licensing agent. */
export type Registrar = (unit: string, token: string, at: Date) => Promise<void>

/** Runs `build` for every item on a pool of worker threads (key generation is CPU-bound). */
async function buildAll(jobs: Array<{unit: string; profile: Profile; seed: string}>, concurrency: number, at: Date, onDone: (i: number, r: CreateResult | Error) => void): Promise<void> {
  const workerUrl = new URL('./lab-worker.js', import.meta.url)
  const size = Math.max(1, Math.min(concurrency, jobs.length))
  let next = 0
  const workers = Array.from({length: size}, () => new Worker(workerUrl))
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolveAll, reject) => {
      const feed = () => {
        if (next >= jobs.length) {
          resolveAll()
          return
        }
        const id = next++
        worker.postMessage({id, ...jobs[id], now: at.toISOString()})
      }
      worker.on('message', (msg: {id: number; result?: CreateResult; error?: {message: string; code: string; actions: string[]}}) => {
        onDone(msg.id, msg.error ? new XwayError(msg.error.code as never, msg.error.message, {actions: msg.error.actions}) : msg.result!)
        feed()
      })
      worker.on('error', reject)
      feed()
    })))
  } finally {
    await Promise.all(workers.map((w) => w.terminate()))
  }
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, async () => {
    while (next < items.length) {
      const i = next++
      await fn(items[i], i)
    }
  }))
}

async function statusOf(name: string, path: string, at: Date, error?: string): Promise<LabUnitStatus> {
  try {
    const j = await inspectUnit(path, at)
    return {
      name, path, type: j.type, softwareVersion: j.softwareVersion, serial: j.hardware.serial,
      registration: j.licensing.mode === 'smart' ? j.licensing.registration.status : 'legacy',
      authorization: j.licensing.mode === 'smart' ? j.licensing.authorization.status : 'legacy',
      alarms: j.alarms.length,
      ...(error ? {error} : {}),
    }
  } catch (e) {
    return {name, path, type: '?', softwareVersion: '?', serial: '?', registration: '?', authorization: '?', alarms: 0, error: error ?? (e as Error).message}
  }
}

/**
 * --out must be new, empty, or a lab (its lab.json): lab up writes units, a license server and
 * lab.json there, and must not mix them into a folder of something else. Refused with exit 3.
 */
function assertLabFolder(given: string, out: string): void {
  if (!existsSync(out)) return
  const actions = ['Choose a new or empty folder for --out, or a lab folder brought up before (exit 3: refused; the folder was left unchanged).']
  if (!statSync(out).isDirectory()) throw new RefusedError(`--out ${given} exists and is not a folder: lab up writes a lab into a new or empty folder, or into a lab it brought up before.`, {actions})
  if (existsSync(join(out, LAB_FILE)) || readdirSync(out).length === 0) return
  throw new RefusedError(`--out ${given} is not empty and is not a lab (it has no ${LAB_FILE}): lab up writes a lab into a new or empty folder, or into a lab it brought up before.`, {
    actions: [...actions, `If the folder is what an interrupted first lab up left behind (no ${LAB_FILE} yet), remove it and run again.`],
  })
}

/**
 * `lab up`: builds every unit of a lab concurrently (worker threads), starts an embedded license
 * server (or uses the lab's), registers every smart-licensing unit, and records the lab in
 * OUT/lab.json. Units already built by an earlier run are kept, and registered if they are not.
 */
/** Disk image formats lab up can write its units as (an Expressway-C/E pair ready for a hypervisor). */
export type LabFormat = 'raw' | 'qcow2' | 'ova'
const LAB_EXT: Record<LabFormat, string> = {raw: 'img', qcow2: 'qcow2', ova: 'ova'}

export async function labUp(labFile: string, options: {out?: string; concurrency?: number; at: Date; env?: NodeJS.ProcessEnv; register: Registrar; onProgress?: (line: string) => void; format?: LabFormat; diskSize?: number}): Promise<LabUpResult> {
  const lab: Lab = loadLab(labFile, {versions: availableVersions()})
  const out = resolve(options.out ?? join('lab-out', lab.name))
  const concurrency = options.concurrency ?? cpus().length
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UsageError('--concurrency must be a positive integer.')
  const progress = options.onProgress ?? (() => {})
  const env = options.env ?? process.env
  assertLabFolder(options.out ?? out, out)
  mkdirSync(join(out, 'units'), {recursive: true})
  const previous = existsSync(join(out, LAB_FILE)) ? (JSON.parse(readFileSync(join(out, LAB_FILE), 'utf8')) as LabRecord) : null
  const seed = previous?.seed ?? randomBytes(8).toString('hex')

  let running: RunningServer | null = null
  let token: string
  let record: LabRecord['licenseServer']
  let caPath: string | null = null
  try {
    if (lab.licenseServer.embedded) {
      const dir = join(out, 'license-server')
      if (!existsSync(join(dir, server.SERVER_FILES.db))) {
        progress('Initialising the embedded license server')
        await server.init(dir, {hostname: '127.0.0.1'})
        await server.accountCreate(dir, {name: lab.name, virtualAccount: LAB_VIRTUAL_ACCOUNT})
        const l = lab.licenseServer.licenses
        for (const [type, count] of Object.entries({rms: l.rms, room: l.room, desktop: l.desktop})) {
          if (count > 0) await server.licensesAdd(dir, {virtualAccount: LAB_VIRTUAL_ACCOUNT, type, count})
        }
      }
      caPath = join(dir, 'ca.pem')
      const previousPort = previous?.licenseServer.embedded ? previous.licenseServer.port : 0
      running = await startLicenseServer(dir, {host: '127.0.0.1', port: previousPort}).catch(() => startLicenseServer(dir, {host: '127.0.0.1', port: 0}))
      token = (await server.tokenCreate(dir, {virtualAccount: LAB_VIRTUAL_ACCOUNT, expiresIn: '1d'})).token
      record = {embedded: true, dir, url: running.url, port: running.port}
      progress(`License server listening on ${running.url}`)
    } else {
      const value = env[lab.licenseServer.tokenFromEnv]
      if (!value) throw new UsageError(`licenseServer.tokenFromEnv names ${lab.licenseServer.tokenFromEnv}, which is not set.`)
      token = value
      record = {embedded: false, url: lab.licenseServer.url}
    }

    const jobs: Array<{unit: string; profile: Profile; seed: string; name: string}> = []
    for (const u of lab.units) {
      const profile: Profile = structuredClone(u.profile)
      if (profile.brand === 'expressway') {
        profile.licensing = {...profile.licensing, enabled: true, transport: {mode: 'on-prem', url: record.url}}
        if (caPath && !profile.licensing.trustAnchors.includes(caPath)) profile.licensing.trustAnchors = [...profile.licensing.trustAnchors, caPath]
      }
      jobs.push({unit: join(out, 'units', u.name), profile, seed: `${seed}/${u.name}`, name: u.name})
    }
    const toBuild = jobs.filter((j) => !existsSync(join(j.unit, BRAND.productInfo)))
    const errors = new Map<string, string>()
    if (toBuild.length > 0) progress(`Building ${toBuild.length} unit(s), ${Math.min(concurrency, toBuild.length)} at a time`)
    await buildAll(toBuild, concurrency, options.at, (i, r) => {
      if (r instanceof Error) errors.set(toBuild[i].name, r.message)
      else progress(`Built ${toBuild[i].name} (${r.type}, serial ${r.serial})`)
    })
    const smart = jobs.filter((j) => !errors.has(j.name) && j.profile.brand === 'expressway')
    await mapLimit(smart, Math.max(4, concurrency * 4), async (j) => {
      const status = await statusOf(j.name, j.unit, options.at)
      if (status.registration === 'Registered') return
      try {
        await options.register(j.unit, token, options.at)
        progress(`Registered ${j.name}`)
      } catch (error) {
        errors.set(j.name, (error as Error).message)
      }
    })
    // --format: each unit, built and registered as a folder (its working form), written as an image beside it
    const unitPath = (j: {unit: string}): string => (options.format ? `${j.unit}.${LAB_EXT[options.format]}` : j.unit)
    if (options.format) {
      for (const j of jobs.filter((x) => !errors.has(x.name) && existsSync(join(x.unit, BRAND.productInfo)))) {
        try {
          rmSync(unitPath(j), {force: true})
          await exportImage(j.unit, unitPath(j), {format: options.format, diskSize: options.diskSize})
          progress(`Wrote ${j.name} as ${relative(out, unitPath(j))}`)
        } catch (error) {
          errors.set(j.name, (error as Error).message)
        }
      }
    }
    const lr: LabRecord = {
      formatVersion: 1, name: lab.name, labFile: resolve(labFile), seed, createdAt: previous?.createdAt ?? options.at.toISOString(),
      licenseServer: record,
      units: await Promise.all(jobs.filter((j) => existsSync(join(j.unit, BRAND.productInfo))).map(async (j) => {
        const s = await statusOf(j.name, unitPath(j), options.at)
        return {name: j.name, path: relative(out, unitPath(j)), udi: `PID:${j.profile.hardware.pid},SN:${s.serial}`, brand: j.profile.brand === 'vcs' ? 'VCS' : 'Expressway', type: s.type, softwareVersion: s.softwareVersion, smartLicensing: j.profile.brand === 'expressway'}
      })),
    }
    writeFileSync(join(out, `${LAB_FILE}.tmp`), JSON.stringify(lr, null, 2) + '\n')
    renameSync(join(out, `${LAB_FILE}.tmp`), join(out, LAB_FILE))
    const units = await Promise.all(jobs.map((j) => statusOf(j.name, errors.has(j.name) ? j.unit : unitPath(j), options.at, errors.get(j.name))))
    if (errors.size > 0) {
      const first = [...errors.entries()].slice(0, 5).map(([n, m]) => `${n}: ${m}`)
      throw new XwayError('failed', `${errors.size} of ${jobs.length} unit(s) could not be built or registered.`, {actions: first})
    }
    return {lab: lab.name, out, licenseServer: record, units}
  } finally {
    if (running) await running.close()
  }
}

/** `lab status`: every unit of a lab with its licensing status now. */
export async function labStatus(dir: string, at: Date): Promise<LabStatusResult> {
  const file = join(resolve(dir), LAB_FILE)
  if (!existsSync(file)) throw new BadInputError(`${dir} is not a lab folder (${LAB_FILE} is missing).`, {actions: ['Bring a lab up with: xway lab up LAB.yaml --out DIR']})
  const record = JSON.parse(readFileSync(file, 'utf8')) as LabRecord
  return {lab: record.name, out: resolve(dir), licenseServer: record.licenseServer, units: await Promise.all(record.units.map((u) => statusOf(u.name, resolve(dir, u.path), at)))}
}
