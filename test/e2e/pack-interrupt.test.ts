import {spawn} from 'node:child_process'
import {createWriteStream, existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {type PackEntry, tarGzStream} from '../../src/unit/tar.js'
import {BIN, cleanup, tempDir} from '../support/run.js'

const FOLDERS = 200
const PER_FOLDER = 1000

let archive = ''
let dir = ''
test.before(async () => {
  dir = tempDir()
  archive = join(dir, 'large.tar.gz')
  const entries: PackEntry[] = [
    {rel: 'info', kind: 'dir', mode: 0o755, size: 0},
    {rel: 'info/product_info.xml', kind: 'file', mode: 0o644, size: 15, data: Buffer.from('<product_info/>')},
    {rel: 'many', kind: 'dir', mode: 0o755, size: 0},
  ]
  const line = Buffer.from('a small log line\n')
  for (let d = 0; d < FOLDERS; d++) {
    entries.push({rel: `many/d${d}`, kind: 'dir', mode: 0o755, size: 0})
    for (let f = 0; f < PER_FOLDER; f++) entries.push({rel: `many/d${d}/f${f}.log`, kind: 'file', mode: 0o644, size: line.length, data: line})
  }
  await pipeline(tarGzStream(entries, {level: 1}), createWriteStream(archive))
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`image unpack interrupted by ${signal} removes its staging folder and creates no unit`, async () => {
    const unit = join(dir, `unit-${signal}`)
    const staging = join(dir, `.unit-${signal}.xway-unpack-`)
    const child = spawn(process.execPath, [BIN, 'image', 'unpack', archive, unit, '--json'], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
    // wait until the child is well into the archive: a few folders written in its staging folder
    let reached = false
    for (let i = 0; i < 1500 && !reached; i++) {
      await sleep(20)
      const name = readdirSync(dir).find((n) => n.startsWith(`.unit-${signal}.xway-unpack-`))
      reached = name !== undefined && existsSync(join(dir, name, 'many', 'd3'))
    }
    assert.ok(reached, 'the unpack got going')
    assert.is(child.exitCode, null, 'the unpack was still running when signalled')
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const code = await exited
    clearTimeout(timer)
    assert.is(code, 1, stdout)
    assert.match(JSON.parse(stdout).error.message, new RegExp(`interrupted \\(${signal}\\)`))
    assert.equal(readdirSync(dir).filter((n) => n.includes('.xway-unpack-')), [], `no ${staging}* left`)
    assert.not.ok(existsSync(unit))
  })
}

test.after(() => cleanup())
test.run()
