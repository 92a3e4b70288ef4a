import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {closeSync, openSync, readSync, writeSync} from 'node:fs'
import {crc32} from 'node:zlib'
import {xwayJson} from './run.js'

/** The smallest disk the layout allows, rounded: tests stay fast while keeping the real layout. */
export const TEST_DISK = '5G'

export function sh(cmd: string, args: string[], options: {input?: string} = {}): {code: number; stdout: string; stderr: string} {
  const r = spawnSync(cmd, args, {encoding: 'utf8', input: options.input ?? '', maxBuffer: 64 << 20, env: {...process.env, LC_ALL: 'C', PATH: `${process.env.PATH}:/usr/sbin:/sbin`}})
  return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
}

/** Exports a unit through the CLI (--json) and fails loudly when it does not succeed. */
export function exportImage(unit: string, out: string, format?: string, size = TEST_DISK): {file: string; format: string; bytes: number; diskSize: number; sha256: string} {
  const r = xwayJson(['image', 'export', unit, '-o', out, ...(format ? ['--format', format] : []), '--disk-size', size], {timeoutMs: 300_000})
  if (r.code !== 0) throw new Error(`image export failed (${r.code}): ${r.stdout}${r.stderr}`)
  return r.json
}

export interface SfdiskPartition {start: number; size: number; name: string; type: string; uuid: string}

/** The partition table as sfdisk reads it. */
export function sfdisk(file: string): {label: string; id: string; sectorsize: number; partitions: SfdiskPartition[]} {
  const r = sh('sfdisk', ['-J', file])
  if (r.code !== 0) throw new Error(`sfdisk -J failed: ${r.stderr}`)
  return JSON.parse(r.stdout).partitiontable
}

/** e2fsck -fn of every partition of a raw disk: name → exit code (0 = clean). */
export function fsckAll(file: string): Record<string, {code: number; output: string}> {
  const out: Record<string, {code: number; output: string}> = {}
  for (const p of sfdisk(file).partitions) {
    const r = sh('e2fsck', ['-fn', `${file}?offset=${p.start * 512}`])
    out[p.name] = {code: r.code, output: r.stdout + r.stderr}
  }
  return out
}

export function partitionOffset(file: string, name: string): number {
  const p = sfdisk(file).partitions.find((x) => x.name === name)
  if (!p) throw new Error(`no partition ${name}`)
  return p.start * 512
}

/** debugfs -w on one partition (crafting hostile filesystems with the real tool). */
export function debugfs(file: string, partition: string, commands: string[]): void {
  const r = sh('debugfs', ['-w', '-f', '-', `${file}?offset=${partitionOffset(file, partition)}`], {input: commands.join('\n') + '\n'})
  if (r.code !== 0 || /debugfs: .*(error|not found|Could not)/i.test(r.stderr.split('\n').filter((l) => !l.startsWith('debugfs 1.')).join('\n'))) throw new Error(`debugfs failed: ${r.stderr}`)
}

export function sha256File(path: string): string {
  const h = createHash('sha256')
  const fd = openSync(path, 'r')
  const buf = Buffer.alloc(8 << 20)
  try {
    for (let pos = 0; ;) {
      const n = readSync(fd, buf, 0, buf.length, pos)
      if (n === 0) break
      h.update(buf.subarray(0, n))
      pos += n
    }
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

/** Rewrites GPT entries in place (both copies' CRCs made consistent): for crafting tables sfdisk refuses to write. */
export function editGpt(file: string, edit: (entries: Buffer) => void): void {
  const fd = openSync(file, 'r+')
  try {
    const h = Buffer.alloc(512)
    readSync(fd, h, 0, 512, 512)
    const entriesLba = Number(h.readBigUInt64LE(72))
    const ents = Buffer.alloc(128 * 128)
    readSync(fd, ents, 0, ents.length, entriesLba * 512)
    edit(ents)
    writeSync(fd, ents, 0, ents.length, entriesLba * 512)
    h.writeUInt32LE(crc32(ents), 88)
    h.writeUInt32LE(0, 16)
    h.writeUInt32LE(crc32(h.subarray(0, 92)), 16)
    writeSync(fd, h, 0, 512, 512)
  } finally {
    closeSync(fd)
  }
}

/** What the crash test's child commits: every kind of op, across the three partitions. */
export function crashOps(): import('../../src/unit/store.js').StoreOp[] {
  return [
    {op: 'delete', rel: 'mnt/harddisk/log'},
    {op: 'mkdir', rel: 'mnt/harddisk/log', mode: 0o755},
    {op: 'write', rel: 'mnt/harddisk/log/new.log', data: Buffer.alloc(3 << 20, 'l'), mode: 0o644},
    {op: 'write', rel: 'tandberg/persistent/state.json', data: Buffer.alloc(1 << 20, 's'), mode: 0o600},
    {op: 'delete', rel: 'tandberg/persistent/certs'},
    {op: 'symlink', rel: 'etc/ssh/current', target: 'ssh_host_rsa_key.pub'},
    {op: 'append', rel: 'var/lib/xway/audit.jsonl', data: Buffer.from('{"at":"2026-03-01T00:00:00.000Z","command":"crash-test"}\n')},
  ]
}

// `node --import tsx test/support/disk.ts --disk-commit-child IMAGE`: the crash test's child. Its
// clock is fixed so that every uninterrupted commit gives the same bytes.
if (process.argv[2] === '--disk-commit-child') {
  const image = process.argv[3]
  Date.now = () => Date.parse('2026-03-01T00:00:00Z')
  const {openDiskStore} = await import('../../src/disk/store.js')
  const store = openDiskStore(image)
  const lock = store.lock('crash-test')
  try {
    await store.commit('crash-test', crashOps())
  } finally {
    lock.release()
  }
}
