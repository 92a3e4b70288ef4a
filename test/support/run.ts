import {spawn, spawnSync} from 'node:child_process'
import {cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {MessageChannel, type MessagePort, receiveMessageOnPort, Worker} from 'node:worker_threads'
import {fastCommand} from '../../bin/fast-path.js'
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
  /** run bin/run.js in a process of its own, even where the command could run in process */
  spawn?: boolean
}

function parse(stdout: string): unknown {
  try {
    return JSON.parse(stdout)
  } catch {
    return undefined
  }
}

/**
 * How the commands of the tests run. Each test file runs the first call of each command as a user
 * would, spawning bin/run.js; the calls after it run in process (test/support/command-worker.mjs:
 * the same built CLI through oclif's run(), in a worker thread, with its own output, exit code,
 * environment and stdin), which spares a process start per call. XWAY_TEST_IN_PROCESS=0 spawns
 * every call. Commands that serve or fan out (license-server start, lab up) always spawn.
 */
const IN_PROCESS = process.env.XWAY_TEST_IN_PROCESS !== '0'
const ALWAYS_SPAWN = new Set(['license-server:start', 'lab:up'])
const spawnedBy = new Map<string, Set<string>>()
const manifest = (() => {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as unknown
  } catch {
    return undefined
  }
})()

/** Whether this call runs in process: a known command, the same working folder, and not its file's first call of it. */
function runsInProcess(args: string[], options: RunOptions): boolean {
  if (!IN_PROCESS || options.spawn || (options.cwd ?? ROOT) !== process.cwd()) return false
  const command = fastCommand(args, manifest)
  if (!command || ALWAYS_SPAWN.has(command.id)) return false
  const file = callerFile()
  const seen = spawnedBy.get(file) ?? new Set<string>()
  spawnedBy.set(file, seen)
  if (!seen.has(command.id)) {
    seen.add(command.id)
    return false
  }
  return true
}

interface CommandWorker {
  worker: Worker
  flag: Int32Array
  port: MessagePort
}
let commandWorker: CommandWorker | undefined

function startWorker(): CommandWorker {
  const flag = new Int32Array(new SharedArrayBuffer(4))
  const {port1, port2} = new MessageChannel()
  const worker = new Worker(new URL('./command-worker.mjs', import.meta.url), {
    workerData: {root: ROOT, flag: flag.buffer, reply: port2},
    transferList: [port2],
    execArgv: [],
  })
  worker.unref()
  return {worker, flag, port: port1}
}

/** Commands that change nothing: run again spawned when the worker gave no answer. */
const READ_ONLY = new Set(['image:inspect', 'image:verify', 'image:diff', 'licensing:status', 'license-server:pool', 'license-server:status'])

function runInProcess(args: string[], options: RunOptions): RunResult {
  commandWorker ??= startWorker()
  const {worker, flag, port} = commandWorker
  Atomics.store(flag, 0, 0)
  worker.postMessage({args, env: {...process.env, XWAY_DEBUG: '', ...options.env}, input: options.input ?? ''})
  const started = Date.now()
  const waited = Atomics.wait(flag, 0, 0, options.timeoutMs ?? 120_000)
  let reply = receiveMessageOnPort(port)?.message as {code: number; stdout: string; stderr: string} | undefined
  // the reply is posted before the flag is set; should it not be visible yet, give it a moment (bounded)
  for (let i = 0; !reply && waited !== 'timed-out' && Atomics.load(flag, 0) === 1 && i < 100; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    reply = receiveMessageOnPort(port)?.message as typeof reply
  }
  if (reply) return {...reply, json: parse(reply.stdout)}
  void worker.terminate()
  commandWorker = undefined
  const why = waited === 'timed-out' ? 'no answer within the time limit' : Atomics.load(flag, 0) === 2 ? 'the worker ended' : 'no reply'
  const note = `xway ${args.join(' ')}: in process, ${why} after ${Date.now() - started} ms`
  const command = fastCommand(args, manifest)
  if (command && READ_ONLY.has(command.id)) {
    process.stderr.write(`${note}; run again in a process of its own\n`)
    return runSpawned(args, options)
  }
  return {code: -1, stdout: '', stderr: `${note}\n`, json: undefined}
}

function runSpawned(args: string[], options: RunOptions): RunResult {
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

/** Runs `xway ARGS` as a user would (stdin piped, closed unless input is given): spawned, or in process (see above). */
export function xway(args: string[], options: RunOptions = {}): RunResult {
  return runsInProcess(args, options) ? runInProcess(args, options) : runSpawned(args, options)
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
