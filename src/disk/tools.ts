import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {FailedError} from '../errors.js'

const found = new Map<string, string | null>()

/** The tool's full path: PATH, then the sbin folders a non-root PATH may lack (e2fsprogs lives there). */
function locate(cmd: string): string | null {
  const key = `${process.env.PATH ?? ''}\0${cmd}`
  if (!found.has(key)) {
    const dirs = (process.env.PATH ?? '').split(':').filter(Boolean).concat(['/usr/sbin', '/sbin'])
    found.set(key, dirs.map((d) => `${d}/${cmd}`).find((p) => existsSync(p)) ?? null)
  }
  return found.get(key)!
}

function onPath(cmd: string): boolean {
  return locate(cmd) !== null
}

/** qemu-img, needed for qcow2, vmdk and ova: missing → exit 1 naming the package. */
export function requireQemuImg(why: string): void {
  if (!onPath('qemu-img')) {
    throw new FailedError(`qemu-img is not installed; it is needed ${why}.`, {actions: ['Install it: apt-get install qemu-utils']})
  }
}

export function requireE2fsprogs(): void {
  if (!onPath('mke2fs')) throw new FailedError('mke2fs is not installed; it builds the filesystems of a disk image.', {actions: ['Install it: apt-get install e2fsprogs']})
}

/** Runs a tool (arguments never hold secrets); a failure is exit 1 with the tool's own words. */
export function runTool(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(locate(cmd) ?? cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, LC_ALL: 'C', ...env}})
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    child.on('error', (e) => reject(new FailedError(`${cmd} could not be run (${e.message}).`)))
    child.on('close', (code) => {
      if (code === 0) resolve(out)
      else reject(new FailedError(`${cmd} failed (exit ${code}): ${(err || out).trim().split('\n').slice(-3).join(' ')}`))
    })
  })
}
