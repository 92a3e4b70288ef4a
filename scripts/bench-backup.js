#!/usr/bin/env node
// SPEC 8: `backup create` plus `backup restore` of a typical unit well under a second,
// dominated by the key derivation, which is counted and reported. Median of 5, both through
// the CLI (what a user waits for, node start-up included) and in process (the library's own
// work). Needs a build (dist/). Run alone or from `npm run bench`.
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {bin, median, root} from './bench-lib.js'

const work = mkdtempSync(join(tmpdir(), 'xway-bench-backup-'))
const RUNS = 5
const env = {...process.env, XWAY_BACKUP_PASSWORD: 'bench password, not a secret', XWAY_NOW: '2026-03-01T12:00:00Z'}


function timed(args) {
  const start = process.hrtime.bigint()
  const r = spawnSync(process.execPath, [bin, ...args, '--json'], {env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (r.status !== 0) throw new Error(`xway ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`)
  return {ms, json: JSON.parse(r.stdout)}
}

const fmt = (ms) => `${ms.toFixed(0).padStart(5)} ms`

try {
  const unit = join(work, 'unit')
  execFileSync(process.execPath, [bin, 'image', 'create', unit, '--profile', join(root, 'profiles/expressway-c.yaml'), '--seed', 'bench', '--json'], {env, stdio: 'ignore'})

  // through the CLI
  const cli = {create: [], restore: [], kdfCreate: [], kdfRestore: [], bytes: 0, files: 0, iterations: 0}
  timed(['backup', 'create', unit, '-o', join(work, 'warm.enc')])
  for (let i = 0; i < RUNS; i++) {
    const file = join(work, `cli-${i}.enc`)
    const c = timed(['backup', 'create', unit, '-o', file])
    const r = timed(['backup', 'restore', unit, file, '--yes'])
    cli.create.push(c.ms)
    cli.restore.push(r.ms)
    cli.kdfCreate.push(c.json.kdfMs)
    cli.kdfRestore.push(r.json.kdfMs)
    cli.bytes = c.json.bytes
    cli.files = c.json.files
    cli.iterations = c.json.manifest.kdf.iterations
  }

  // in process: the library calls the commands make, without node and oclif start-up
  const {createBackup} = await import(pathToFileURL(join(root, 'dist/src/backup/create.js')).href)
  const {restoreBackup} = await import(pathToFileURL(join(root, 'dist/src/backup/restore.js')).href)
  const lib = {create: [], restore: [], kdf: []}
  for (let i = 0; i < RUNS; i++) {
    const file = join(work, `lib-${i}.enc`)
    let start = process.hrtime.bigint()
    const c = await createBackup(unit, {output: file, password: env.XWAY_BACKUP_PASSWORD, at: new Date(env.XWAY_NOW)})
    lib.create.push(Number(process.hrtime.bigint() - start) / 1e6)
    start = process.hrtime.bigint()
    const r = await restoreBackup(unit, file, env.XWAY_BACKUP_PASSWORD)
    lib.restore.push(Number(process.hrtime.bigint() - start) / 1e6)
    lib.kdf.push(c.kdfMs + r.kdfMs)
  }

  const cliTotal = median(cli.create.map((c, i) => c + cli.restore[i]))
  const cliKdf = median(cli.kdfCreate.map((k, i) => k + cli.kdfRestore[i]))
  const libTotal = median(lib.create.map((c, i) => c + lib.restore[i]))
  const libKdf = median(lib.kdf)
  console.log(`typical unit: ${cli.files} files, backup ${cli.bytes} bytes, PBKDF2-HMAC-SHA256 ${cli.iterations} iterations; median of ${RUNS}`)
  console.log(`backup create (CLI)                 ${fmt(median(cli.create))}   kdfMs ${fmt(median(cli.kdfCreate))}`)
  console.log(`backup restore --yes (CLI)          ${fmt(median(cli.restore))}   kdfMs ${fmt(median(cli.kdfRestore))}`)
  console.log(`create + restore (CLI)              ${fmt(cliTotal)}   kdfMs ${fmt(cliKdf)}  key derivation ${(100 * cliKdf / cliTotal).toFixed(0)}%  target < 1000 ms ${cliTotal < 1000 ? 'OK' : 'MISS'}`)
  console.log(`create + restore (in process)       ${fmt(libTotal)}   kdfMs ${fmt(libKdf)}  key derivation ${(100 * libKdf / libTotal).toFixed(0)}%`)
} finally {
  rmSync(work, {recursive: true, force: true})
}
