import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {P} from './paths.js'
import {ROOT} from './run.js'

/**
 * When a crash test kills its child with SIGKILL: at an instant counted from the spawn, or a
 * time after the unit's journal appears (the commit point), to land inside the replay.
 */
export type KillAt = {fromStart: number} | {afterJournal: number; unit: string; /** the journal's path when not the folder's (a disk image's FILE.xway-journal) */ journal?: string} | null

export interface KilledRun {
  code: number | null
  /** true when SIGKILL ended the child (not when it finished first) */
  killed: boolean
  ms: number
  output: string
}

/** Runs `node ARGV` (bin/run.js … or a test child) and kills it as `kill` says; bounded by `timeoutMs`. */
export function runKilled(argv: string[], options: {env?: NodeJS.ProcessEnv; kill: KillAt; timeoutMs?: number}): Promise<KilledRun> {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(process.execPath, argv, {cwd: ROOT, env: {...process.env, XWAY_DEBUG: '', ...options.env}, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const killNow = () => child.kill('SIGKILL')
    const timers: NodeJS.Timeout[] = [setTimeout(killNow, options.timeoutMs ?? 120_000)]
    let poll: NodeJS.Timeout | null = null
    const kill = options.kill
    if (kill && 'fromStart' in kill) timers.push(setTimeout(killNow, kill.fromStart))
    if (kill && 'afterJournal' in kill) {
      poll = setInterval(() => {
        if (!existsSync(kill.journal ?? join(kill.unit, P.journal))) return
        clearInterval(poll!)
        poll = null
        timers.push(setTimeout(killNow, kill.afterJournal))
      }, 2)
    }
    child.on('exit', (code, signal) => {
      for (const t of timers) clearTimeout(t)
      if (poll) clearInterval(poll)
      resolve({code, killed: signal === 'SIGKILL', ms: Date.now() - started, output})
    })
  })
}
