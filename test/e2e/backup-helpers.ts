// Shared by the backup tests (e2e and reliability): units, outputs recorded for the
// "password appears nowhere" check, and hand-made containers.
import {createHash} from 'node:crypto'
import {chmodSync, cpSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {AREAS, areaOf, type AreaName} from '../../src/areas/registry.js'
import {createEncryptStream} from '../../src/backup/container.js'
import {hashTree, walk} from '../../src/unit/fsutil.js'
import {inspectUnit} from '../../src/report/inspect.js'
import {isTransient, P} from '../support/paths.js'
import {verifyUnit} from '../../src/report/verify.js'
import {type PackEntry, tarStream} from '../../src/unit/tar.js'
import {makeUnit, type RunOptions, type RunResult, xway} from '../support/run.js'

/** Unusual enough that finding it anywhere means it leaked (NFC, non-ASCII, spaces). */
export const PASSWORD = 'Corr3ct hørse bättery staple ☂ 7f3a'
export const NOW = '2026-02-03T04:05:06Z'
export const ENV = {XWAY_NOW: NOW, XWAY_BACKUP_PASSWORD: PASSWORD}

/** Every stdout and stderr of every command the tests ran. */
export const outputs: string[] = []

export function run(args: string[], options: RunOptions = {}): RunResult {
  const r = xway(args, {...options, env: {...ENV, ...options.env}})
  outputs.push(r.stdout, r.stderr)
  return r
}

export function runJson(args: string[], options: RunOptions = {}): RunResult {
  return run([...args, '--json'], options)
}

/**
 * The whole tree, tool state included (a refused command leaves no lock, journal or staging),
 * except the trash that earlier commits' detached removers are still emptying.
 */
export const hashAll = (unit: string) => hashTree(unit, (rel) => rel !== P.trashDir && !rel.startsWith(`${P.trashDir}/`))

export function areaPaths(names: AreaName[]): string[] {
  return AREAS.filter((a) => names.includes(a.name)).flatMap((a) => a.paths)
}

/** Digest of the files of the given areas only. */
export function hashAreas(unit: string, names: AreaName[]): string {
  const paths = areaPaths(names)
  return hashTree(unit, (rel) => paths.some((p) => rel === p || rel.startsWith(`${p}/`) || p.startsWith(`${rel}/`)))
}

export const BACKUP_AREAS = AREAS.filter((a) => a.backup).map((a) => a.name)

export function template(dir: string, name: string, profile?: string, seed = name, env: NodeJS.ProcessEnv = {}): string {
  return makeUnit(dir, {name, profile, seed, env: {XWAY_NOW: NOW, ...env}})
}

let copies = 0
export function copyOf(templatePath: string, dir: string): string {
  const unit = join(dir, `copy-${copies++}`)
  cpSync(templatePath, unit, {recursive: true})
  return unit
}

/** image inspect --json, in process (the contract is the same function; spawning costs time). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function inspect(unit: string): Promise<any> {
  return JSON.parse(JSON.stringify((await inspectUnit(unit, new Date(NOW)))))
}

export async function verifies(unit: string): Promise<boolean> {
  const r = (await verifyUnit(unit))
  if (!r.ok) console.error(r.problems)
  return r.ok
}

/** A registration written by hand, as the agent would leave it (licensing.json, agent key and certificate). */
export function writeRegistered(unit: string, serial: string): void {
  const path = join(unit, P.licensing)
  const state = JSON.parse(readFileSync(path, 'utf8'))
  state.transport = {mode: 'on-prem', url: 'https://127.0.0.1:8443/SmartTransport', proxy: null}
  state.registration = {
    ...state.registration,
    state: 'registered', smartAccount: 'Lab Account', virtualAccount: 'Lab VA', exportControlled: 'Allowed',
    registeredAt: '2026-02-01T00:00:00.000Z', lastAttemptAt: '2026-02-01T00:00:00.000Z', serial, endpoint: 'https://127.0.0.1:8443/SmartTransport',
  }
  state.authorization = {lastSuccessAt: '2026-02-01T00:00:00.000Z', lastAttemptAt: '2026-02-01T00:00:00.000Z', result: 'no-licenses-in-use', licenses: []}
  writeFileSync(path, JSON.stringify(state, null, 2) + '\n')
  writeFileSync(join(unit, P.agentKey), '-----BEGIN PRIVATE KEY-----\nfake agent key\n-----END PRIVATE KEY-----\n', {mode: 0o600})
  chmodSync(join(unit, P.agentKey), 0o600)
  writeFileSync(join(unit, P.agentCert), '-----BEGIN CERTIFICATE-----\nfake agent certificate\n-----END CERTIFICATE-----\n')
}

/** True when the password's bytes occur in a file under root (tool state included). */
export function fileHolding(root: string, secret: string): string | null {
  const needle = Buffer.from(secret.normalize('NFC'))
  for (const {rel, stat} of walk(root)) {
    if (stat.isFile() && readFileSync(join(root, rel)).includes(needle)) return rel
  }
  return null
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A manifest for hand-made backups, describing `files` (path → content) as xway would. */
export function manifestFor(files: Record<string, string>, overrides: Record<string, unknown> = {}, iterations = 1000): Record<string, unknown> {
  return {
    formatVersion: 1, softwareVersion: 'X14.2.0', brand: 'Expressway', type: 'Expressway-C', edition: 'standard',
    serial: 'CRAFTED1', fips: false, createdAt: '2026-02-03T04:05:06.000Z', kdf: {iterations},
    areas: [...new Set(Object.keys(files).map((p) => areaOf(p) ?? 'config'))],
    directories: [],
    files: Object.entries(files).map(([path, content]) => ({path, size: Buffer.byteLength(content), mode: 0o644, sha256: sha256(content)})),
    ...overrides,
  }
}

export async function tarBytes(entries: PackEntry[]): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const chunk of tarStream(entries)) parts.push(chunk as Buffer)
  return Buffer.concat(parts)
}

export function fileEntry(rel: string, content: string | Buffer, mode = 0o644): PackEntry {
  const data = Buffer.isBuffer(content) ? content : Buffer.from(content)
  return {rel, kind: 'file', mode, size: data.length, data}
}

/** Seals plaintext (the inner .tar.gz, or anything) in a container, as `backup create` would. */
export async function seal(plaintext: Buffer, file: string, password = PASSWORD, iterations = 1000): Promise<string> {
  const encryptor = await createEncryptStream(password, {iterations})
  const out: Buffer[] = []
  encryptor.on('data', (c: Buffer) => out.push(c))
  const ended = new Promise((resolve, reject) => {
    encryptor.on('end', resolve)
    encryptor.on('error', reject)
  })
  encryptor.end(plaintext)
  await ended
  writeFileSync(file, Buffer.concat(out))
  return file
}

/** A hand-made backup: manifest.json first, then the entries, tar → gzip → container. */
export async function craftBackup(file: string, manifest: unknown, entries: PackEntry[], options: {iterations?: number} = {}): Promise<string> {
  const tar = await tarBytes([fileEntry('manifest.json', JSON.stringify(manifest)), ...entries])
  return seal(gzipSync(tar), file, PASSWORD, options.iterations ?? 1000)
}

/** Rewrites the type flag of the tar header of `name` (e.g. '3' for a character device) and fixes its checksum. */
export function retypeTarEntry(tar: Buffer, name: string, type: string): Buffer {
  const out = Buffer.from(tar)
  for (let off = 0; off + 512 <= out.length; off += 512) {
    const header = out.subarray(off, off + 512)
    const entryName = header.toString('utf8', 0, 100).replace(/\0.*$/s, '')
    if (entryName !== name) continue
    header.write(type, 156, 1, 'ascii')
    header.write('        ', 148, 8, 'ascii')
    let sum = 0
    for (let i = 0; i < 512; i++) sum += header[i]
    header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii')
    return out
  }
  throw new Error(`no tar entry ${name}`)
}

export {isTransient}
