import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {BIN, ROOT} from '../support/run.js'
import {ownTempDir} from './license-server-helpers.js'

// The README's tour works as written on a fresh clone: its shell block, taken from README.md,
// runs unchanged with bash in an empty temp folder, `xway` on the PATH as bin/run.js. The tour
// starts its license server itself (127.0.0.1, a free port) and stops it at the end. Every
// command must exit 0: the block runs under `set -Eeuo pipefail`, a trap names the command
// that failed, and a DEBUG trap logs each command run, so that a command the tour skips shows.

const test = suite('readme tour')
const TIME_LIMIT_MS = 180_000

/** The ```sh block of README.md's "A tour" section. */
function tourBlock(readme: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith('A tour\n'))
  assert.ok(section, 'README.md has a section "## A tour"')
  const block = /```sh\n([\s\S]*?)```/.exec(section)
  assert.ok(block, 'the tour has a ```sh block')
  return block[1]!
}

/** Lines of the block that start a command (not inside the here-document). */
function commandLines(block: string): string[] {
  const out: string[] = []
  let heredoc: string | null = null
  for (const line of block.split('\n')) {
    if (heredoc !== null) {
      if (line === heredoc) heredoc = null
      continue
    }
    const text = line.replace(/\s+#.*$/, '').trim()
    if (text === '') continue
    out.push(text)
    const h = /<<-?\s*'?(\w+)'?/.exec(text)
    if (h) heredoc = h[1]!
  }
  return out
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{code: number | null; stdout: string; stderr: string; timedOut: boolean}> {
  return new Promise((resolve) => {
    // its own process group: whatever the tour leaves running (its server, if it fails half-way) is stopped with it
    const child = spawn('bash', ['-c', script], {cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // the group is gone
      }
    }
    const timer = setTimeout(() => { timedOut = true; killGroup('SIGKILL') }, TIME_LIMIT_MS)
    child.on('exit', (code) => {
      clearTimeout(timer)
      killGroup('SIGTERM')
      resolve({code, stdout, stderr, timedOut})
    })
  })
}

test('the tour\'s shell block runs as written, every command exits 0, and the server it started is stopped', async () => {
  const block = tourBlock(readFileSync(join(ROOT, 'README.md'), 'utf8'))
  const expected = commandLines(block)
  assert.ok(expected.filter((l) => /(^|\s|\$\()xway /.test(l)).length >= 15, `the tour exercises xway: ${expected.join('\n')}`)

  const tmp = ownTempDir('xway-readme-tour-')
  try {
    const work = join(tmp.path, 'work')
    const bin = join(tmp.path, 'bin')
    mkdirSync(work)
    mkdirSync(bin)
    symlinkSync(BIN, join(bin, 'xway'))
    const log = join(tmp.path, 'commands.log')
    writeFileSync(log, '')
    const prelude = [
      'set -Eeuo pipefail',
      `trap 'echo "tour failed (exit $?) at: $BASH_COMMAND" >&2' ERR`,
      `trap 'printf "%s\\n" "$BASH_COMMAND" >> ${JSON.stringify(log)}' DEBUG`,
    ].join('\n')
    const env: NodeJS.ProcessEnv = {...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`}
    for (const name of ['XWAY_NOW', 'XWAY_DEBUG', 'XWAY_TOKEN', 'TOKEN', 'SERVER', 'URL']) delete env[name]
    const r = await runBash(`${prelude}\n${block}`, work, env)
    assert.not.ok(r.timedOut, `the tour took more than ${TIME_LIMIT_MS / 1000} s`)
    assert.is(r.code, 0, `the tour failed:\n${r.stderr}\n--- stdout\n${r.stdout}`)
    assert.not.match(r.stderr, /tour failed/)

    // every xway command of the block ran, in order, none skipped (the DEBUG trap logs each command's text as written)
    const ran = readFileSync(log, 'utf8')
    let from = 0
    for (const line of expected.filter((l) => /(^|\s|\$\()xway |^kill |^wait /.test(l))) {
      const text = line.replace(/\s*&$/, '')
      const found = ran.indexOf(text, from)
      assert.ok(found >= 0, `the tour did not run: ${text}\n--- ran:\n${ran}`)
      from = found + text.length
    }

    // what it did: a registered unit, then (a year later, no renewal) the expiry said by sync; the backup written
    assert.match(r.stdout, /^Registration: +Registered/m)
    assert.match(r.stdout, /^Rich Media Session: 2 in use, Authorized$/m)
    assert.match(r.stdout, /^usage report: ok$/m)
    assert.match(r.stdout, /^authorization renewal: ok$/m)
    assert.match(r.stdout, /^The registration expired on 2027-01-01T00:00:00\.000Z/m)
    assert.ok(existsSync(join(work, 'exp-c1.tar.gz.enc')))
    // the server the tour started has stopped (its port is closed again)
    const url = /^listening on (https:\/\/127\.0\.0\.1:\d+\/SmartTransport)$/m.exec(readFileSync(join(work, 'srv.log'), 'utf8'))
    assert.ok(url, 'the server printed its URL')
    const port = Number(/:(\d+)\//.exec(url[1]!)![1])
    const {createConnection} = await import('node:net')
    const open = await new Promise<boolean>((resolve) => {
      const s = createConnection({host: '127.0.0.1', port}, () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    assert.not.ok(open, `the tour's server still listens on ${port}`)
  } finally {
    tmp.remove()
  }
})

test.run()
