import {spawn, spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {hashTree} from '../../src/unit/fsutil.js'
import {isTransient} from './paths.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'run.js')
export const PROFILES = join(ROOT, 'profiles')

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  input?: string
  cwd?: string
  timeoutMs?: number
}

function parse(stdout: string): unknown {
  try {
    return JSON.parse(stdout)
  } catch {
    return undefined
  }
}

/** Runs `xway ARGS` as a user would (bin/run.js), stdin piped (closed unless input is given). */
export function xway(args: string[], options: RunOptions = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: {...process.env, XWAY_DEBUG: '', ...options.env},
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json: parse(r.stdout)}
}

/** The same, with --json appended. */
export function xwayJson(args: string[], options: RunOptions = {}): RunResult {
  return xway([...args, '--json'], options)
}

/** Async variant, for concurrency tests. */
export function xwayAsync(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: {...process.env, XWAY_DEBUG: '', ...options.env},
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.stdin.end(options.input ?? '')
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, stdout, stderr, json: parse(stdout)})
    })
  })
}

/**
 * Temp folders by the test file that made them: uvu imports every test file before running any,
 * so a file's cleanup() must remove only its own folders, never those another file made at import.
 */
const temps = new Map<string, string[]>()

function callerFile(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(1)
  // the test file itself, even when a shared helper made the folder for it
  const frame = lines.find((l) => /\.test\.[cm]?[jt]s:/.test(l)) ?? lines.find((l) => !l.includes('/test/support/run.'))
  return /\((.*?):\d+:\d+\)$/.exec(frame ?? '')?.[1] ?? /at (.*?):\d+:\d+$/.exec(frame ?? '')?.[1] ?? 'unknown'
}

export function tempDir(prefix = 'xway-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const owner = callerFile()
  temps.set(owner, [...(temps.get(owner) ?? []), dir])
  return dir
}

/** Removes the temp folders made by the calling test file. */
export function cleanup(): void {
  const owner = callerFile()
  for (const d of temps.get(owner) ?? []) rmSync(d, {recursive: true, force: true})
  temps.delete(owner)
}

/** Writes a profile into a temp folder and returns its path. */
export function writeProfile(dir: string, yaml: string, name = 'profile.yaml'): string {
  const file = join(dir, name)
  writeFileSync(file, yaml)
  return file
}

/** A unit built from a bundled or given profile, seeded for speed and reproducibility. */
export function makeUnit(dir: string, options: {profile?: string; name?: string; seed?: string; env?: NodeJS.ProcessEnv} = {}): string {
  const unit = join(dir, options.name ?? 'unit')
  const r = xwayJson(['image', 'create', unit, '--profile', options.profile ?? join(PROFILES, 'expressway-c.yaml'), '--seed', options.seed ?? 'test-seed'], {
    env: {XWAY_NOW: '2026-01-01T00:00:00Z', ...options.env},
  })
  if (r.code !== 0) throw new Error(`image create failed (${r.code}): ${r.stdout}${r.stderr}`)
  return unit
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

let copyCount = 0

/** A copy of a template unit beside it: tests build a few units once per file and copy them (cheap). */
export function copyUnit(template: string): string {
  const unit = join(dirname(template), `copy-${process.pid}-${copyCount++}`)
  cpSync(template, unit, {recursive: true})
  return unit
}

/** The unit's content for "byte-for-byte unchanged" checks: every file but the tool's transient state. */
export function unitHash(unit: string): string {
  return hashTree(unit, (rel) => !isTransient(rel))
}
