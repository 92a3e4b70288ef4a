// Helpers of the reservation e2e tests: a license server folder (no HTTPS server is needed:
// reservation authorize/confirm act on the folder) and units whose agent trusts its lab CA.
import {join} from 'node:path'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {openUnit} from '../../src/areas/open.js'
import {udiOf} from '../../src/product.js'
import {isTransient} from '../support/paths.js'
import type {PoolLine} from '../../src/server/store.js'
import {makeUnit, tempDir, writeProfile, xwayJson, type RunResult} from '../support/run.js'

export const NOW = '2026-01-02T00:00:00Z'
export const VA = 'lab'

export function run(args: string[], options: {now?: string; input?: string} = {}): RunResult {
  return xwayJson(args, {env: {XWAY_NOW: options.now ?? NOW}, input: options.input})
}

/** Runs and expects exit 0, returning the JSON result. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ok(args: string[], options: {now?: string; input?: string} = {}): any {
  const r = run(args, options)
  assert.is(r.code, 0, `xway ${args.slice(0, 4).join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`)
  return r.json
}

export interface Lab {
  dir: string
  server: string
  profile: string
}

/** A license server folder with licenses in one virtual account, and a profile trusting its CA. */
export function makeLab(usage = '{ calls: 3, desktop: 0, room: 1, webrtc: false }'): Lab {
  const dir = tempDir('xway-resv-')
  const server = join(dir, 'server')
  const init = ok(['license-server', 'init', server])
  ok(['license-server', 'account', 'create', server, '--name', 'Acme', '--virtual-account', VA])
  for (const type of ['rms', 'room', 'desktop']) ok(['license-server', 'licenses', 'add', server, '--virtual-account', VA, '--type', type, '--count', '100'])
  const profile = writeProfile(dir, `software: X14.2.0
type: expressway-c
network: { hostname: resv, domain: lab.example, dns: [192.0.2.53], lan1: { address: 192.0.2.10/24, gateway: 192.0.2.1 } }
licensing:
  transport: { mode: on-prem, url: "https://127.0.0.1:8443/SmartTransport" }
  trustAnchors: [${JSON.stringify(init.caPath)}]
usage: ${usage}
`)
  return {dir, server, profile}
}

export function unitOf(lab: Lab, seed: string): string {
  return makeUnit(lab.dir, {profile: lab.profile, name: seed, seed})
}

export function treeHash(unit: string): string {
  return hashTree(unit, (rel) => !isTransient(rel))
}

/** enable + request: the request code. */
export function requestOn(unit: string): string {
  ok(['licensing', 'reservation', 'enable', unit])
  const {requestCode} = ok(['licensing', 'reservation', 'request', unit])
  return requestCode as string
}

export function authorize(lab: Lab, requestCode: string, what: string[], options: {now?: string} = {}): string {
  const r = ok(['license-server', 'reservation', 'authorize', lab.server, '--virtual-account', VA, '--request-code', requestCode, ...what], options)
  return r.authorizationCode as string
}

/** The pool of the virtual account (`license-server pool`). */
export function pool(lab: Lab): Record<string, PoolLine> {
  return Object.fromEntries((ok(['license-server', 'pool', lab.server, '--virtual-account', VA]).licenses as PoolLine[]).map((l) => [l.type, l]))
}

export async function udiOfUnit(unit: string): Promise<string> {
  return udiOf((await openUnit(unit)).info)
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function licensing(unit: string, now = NOW): any {
  return ok(['image', 'inspect', unit], {now}).licensing
}

/** Expects exit `code` and a unit byte-for-byte unchanged. */
export function refusedUnchanged(unit: string, args: string[], code: number, pattern?: RegExp): RunResult {
  const before = treeHash(unit)
  const r = run(args)
  assert.is(r.code, code, `${args.slice(0, 3).join(' ')}: exit ${r.code}: ${r.stdout}${r.stderr}`)
  assert.ok(r.json?.error, r.stdout)
  if (pattern) assert.match(r.json.error.message, pattern)
  assert.is(treeHash(unit), before, 'the unit changed')
  return r
}
