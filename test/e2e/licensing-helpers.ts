// Helpers of the licensing agent tests: a license server process on a fixed loopback port
// (so that it can be stopped and started again at the same URL a unit points to), set up
// through the CLI, and units whose profile points at it and trusts its lab CA.
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {isTransient} from '../support/paths.js'
import {BIN, ROOT, xway, xwayAsync, xwayJson, type RunResult} from '../support/run.js'

export const T0 = '2026-01-01T00:00:00.000Z'
const DAY = 24 * 60 * 60 * 1000
const MINUTE = 60 * 1000

/** T0 moved by days and minutes, as XWAY_NOW. */
export function at(days: number, minutes = 0): string {
  return new Date(Date.parse(T0) + days * DAY + minutes * MINUTE).toISOString()
}

export function run(args: string[], now = T0, env: NodeJS.ProcessEnv = {}): RunResult {
  return xwayJson(args, {env: {XWAY_NOW: now, ...env}})
}

/** Runs and expects `code` (0 by default); returns the JSON printed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function expect(code: number, args: string[], now = T0, env: NodeJS.ProcessEnv = {}): any {
  const r = run(args, now, env)
  assert.is(r.code, code, `xway ${args.slice(0, 3).join(' ')} exited ${r.code}, expected ${code}: ${r.stdout}${r.stderr}`)
  return r.json
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ok(args: string[], now = T0, env: NodeJS.ProcessEnv = {}): any {
  return expect(0, args, now, env)
}

/**
 * The same, spawned asynchronously: needed whenever the test process itself serves something
 * the command talks to (the proxies), since spawnSync would block its event loop.
 */
export async function runAsync(args: string[], now = T0, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return xwayAsync([...args, '--json'], {env: {XWAY_NOW: now, ...env}})
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function expectAsync(code: number, args: string[], now = T0, env: NodeJS.ProcessEnv = {}): Promise<any> {
  const r = await runAsync(args, now, env)
  assert.is(r.code, code, `xway ${args.slice(0, 3).join(' ')} exited ${r.code}, expected ${code}: ${r.stdout}${r.stderr}`)
  return r.json
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const address = s.address()
      const port = typeof address === 'object' && address ? address.port : 0
      s.close(() => resolve(port))
    })
  })
}

export interface LicenseServer {
  dir: string
  ca: string
  port: number
  url: string
  running: boolean
  start(): Promise<void>
  stop(): Promise<void>
  /** `license-server token create` through the CLI */
  token(options?: {va?: string; uses?: number; now?: string; expiresIn?: string}): string
  pool(va?: string): Record<string, {owned: number; inUse: number; available: number; shortage: number}>
  instances(): Array<{udi: string; virtualAccount: string; hostname: string | null; status?: string}>
}

/** `license-server init`, an account, licenses and a port of its own, all through the CLI; not started yet. */
export async function makeLicenseServer(dir: string, licenses: {rms?: number; room?: number; desktop?: number}, vas = ['lab']): Promise<LicenseServer> {
  const init = ok(['license-server', 'init', dir])
  for (const va of vas) {
    ok(['license-server', 'account', 'create', dir, '--name', 'Acme', '--virtual-account', va])
    for (const [type, count] of Object.entries(licenses)) {
      if (count) ok(['license-server', 'licenses', 'add', dir, '--virtual-account', va, '--type', type, '--count', String(count)])
    }
  }
  const port = await freePort()
  let child: ChildProcess | null = null
  const server: LicenseServer = {
    dir,
    ca: init.caPath as string,
    port,
    url: `https://127.0.0.1:${port}/SmartTransport`,
    running: false,
    start: () => new Promise<void>((resolve, reject) => {
      const c = spawn(process.execPath, [BIN, 'license-server', 'start', dir, '--host', '127.0.0.1', '--port', String(port)], {
        cwd: ROOT, env: {...process.env, XWAY_DEBUG: '', XWAY_NOW: ''}, stdio: ['ignore', 'pipe', 'pipe'],
      })
      child = c
      let out = ''
      const timer = setTimeout(() => { c.kill('SIGKILL'); reject(new Error(`license server did not start: ${out}`)) }, 20_000)
      c.stdout!.on('data', (d) => {
        out += d
        if (out.includes('listening on https://')) {
          clearTimeout(timer)
          server.running = true
          resolve()
        }
      })
      c.stderr!.on('data', (d) => (out += d))
      c.on('exit', () => { clearTimeout(timer); server.running = false; if (!out.includes('listening')) reject(new Error(`license server exited: ${out}`)) })
    }),
    stop: () => new Promise<void>((resolve) => {
      const c = child
      if (!c || c.exitCode !== null || c.signalCode !== null) { server.running = false; resolve(); return }
      const kill = setTimeout(() => c.kill('SIGKILL'), 10_000)
      c.once('exit', () => { clearTimeout(kill); server.running = false; resolve() })
      c.kill('SIGTERM')
    }),
    token(options = {}) {
      const args = ['license-server', 'token', 'create', dir, '--virtual-account', options.va ?? vas[0]!]
      if (options.uses !== undefined) args.push('--uses', String(options.uses))
      if (options.expiresIn !== undefined) args.push('--expires-in', options.expiresIn)
      return ok(args, options.now ?? '').token as string
    },
    pool(va = vas[0]!) {
      const p = ok(['license-server', 'pool', dir, '--virtual-account', va])
      return Object.fromEntries((p.licenses as Array<{type: string; owned: number; inUse: number; available: number; shortage: number}>).map((l) => [l.type, l]))
    },
    instances() {
      return ok(['license-server', 'instances', dir]).instances
    },
  }
  return server
}

/** A profile for units of this server: On-Prem by default, the server also as the lab's Direct endpoint. */
export function profileFor(dir: string, server: LicenseServer, options: {name?: string; transport?: string; dns?: string; calls?: number; room?: number; hostname?: string; extra?: string} = {}): string {
  const file = join(dir, `${options.name ?? 'profile'}.yaml`)
  writeFileSync(file, `software: X14.2.0
type: expressway-c
network: { hostname: ${options.hostname ?? 'exp-c1'}, domain: lab.example, dns: ${options.dns ?? '[192.0.2.53]'}, lan1: { address: 192.0.2.11/24, gateway: 192.0.2.1 } }
licensing:
  transport: ${options.transport ?? `{ mode: on-prem, url: "${server.url}" }`}
  trustAnchors: [${JSON.stringify(server.ca)}]
  directUrl: "${server.url}"
${options.extra ?? ''}
usage: { calls: ${options.calls ?? 2}, desktop: 0, room: ${options.room ?? 0}, webrtc: false }
`)
  return file
}

let seedCounter = 0

/** `image create` (seeded, at T0). */
export function unitFrom(dir: string, profile: string, name: string): string {
  const unit = join(dir, name)
  ok(['image', 'create', unit, '--profile', profile, '--seed', `${name}-${++seedCounter}-${process.pid}`], T0)
  return unit
}

export function treeHash(unit: string): string {
  return hashTree(unit, (rel) => !isTransient(rel))
}

export function udiOf(unit: string): string {
  const xml = readFileSync(join(unit, 'info/product_info.xml'), 'utf8')
  return `PID:${/<pid>([^<]*)</.exec(xml)![1]},SN:${/<serial>([^<]*)</.exec(xml)![1]}`
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function status(unit: string, now = T0): any {
  return ok(['licensing', 'status', unit], now)
}

/** The agent's stored state (licensing.json), as the unit holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function storedLicensing(unit: string): any {
  return JSON.parse(readFileSync(join(unit, 'tandberg/persistent/licensing/licensing.json'), 'utf8'))
}

/** Runs xway without --json (what a person reads): exit code, stdout, stderr. */
export function human(args: string[], now = T0, env: NodeJS.ProcessEnv = {}): RunResult {
  return xway(args, {env: {XWAY_NOW: now, ...env}})
}

export function alarmIds(unit: string, now = T0): number[] {
  return (ok(['image', 'inspect', unit], now).alarms as Array<{id: number | null}>).map((a) => a.id).filter((id): id is number => id !== null).sort()
}
