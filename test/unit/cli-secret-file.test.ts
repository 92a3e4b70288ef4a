import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {inspect} from 'node:util'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {durationMs} from '../../src/cli/flags.js'
import {MAX_SECRET_FILE_BYTES, readSecretFile} from '../../src/cli/secret-file.js'
import {XwayError} from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'xway-secret-file-'))
const SECRET = 'pä55 wörd with spaces'

function refusal(path: string): XwayError {
  try {
    readSecretFile(path, '--password-file')
  } catch (error) {
    assert.instance(error, XwayError)
    return error as XwayError
  }
  throw new Error('expected a refusal')
}

test('the first line is the secret, LF or CRLF stripped, the rest ignored', () => {
  for (const [name, text] of [['lf', `${SECRET}\nsecond line\n`], ['crlf', `${SECRET}\r\nsecond\r\n`], ['bare', SECRET]]) {
    const path = join(dir, name!)
    writeFileSync(path, text!)
    const s = readSecretFile(path, '--password-file')
    assert.is(s.reveal(), SECRET)
    assert.is(s.path, path)
  }
})

test('printing, inspecting or serialising the value shows the path, never the secret', () => {
  const path = join(dir, 'shown')
  writeFileSync(path, `${SECRET}\n`)
  const s = readSecretFile(path, '--token-file')
  for (const shown of [inspect(s), inspect({flags: {'token-file': s}}, {depth: 5, showHidden: true}), JSON.stringify({s}), String(s), `${s}`]) {
    assert.not.ok(shown.includes(SECRET), shown)
    assert.ok(shown.includes(path), shown)
  }
})

test('unreadable, oversized and empty files are bad input (exit 4); the message names the flag and file in words, never the content', () => {
  const empty = join(dir, 'empty')
  writeFileSync(empty, '')
  const blank = join(dir, 'blank')
  writeFileSync(blank, `\n${SECRET}\n`)
  const big = join(dir, 'big')
  writeFileSync(big, `${SECRET}\n${'x'.repeat(MAX_SECRET_FILE_BYTES)}`)
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'missing'), /cannot be read: no such file or folder/],
    [dir, /cannot be read: it is a folder/],
    [empty, /the first line is empty/],
    [blank, /the first line is empty/],
    [big, /larger than 65536 bytes/],
  ]
  for (const [path, why] of cases) {
    const e = refusal(path)
    assert.is(e.code, 'bad-input', path)
    assert.is(e.exitCode, 4)
    assert.match(e.message, why)
    assert.ok(e.message.startsWith(`--password-file ${path}`), e.message)
    assert.not.match(e.message, /\bE[A-Z]{3,}\b/)
    assert.not.ok([e.message, ...e.actions].join(' ').includes(SECRET))
  }
})

test('durations: a number and s, m, h, d or w; a bare number is days; anything else is none', () => {
  assert.is(durationMs('30d'), 30 * 86_400_000)
  assert.is(durationMs('12h'), 12 * 3_600_000)
  assert.is(durationMs('15m'), 15 * 60_000)
  assert.is(durationMs('45s'), 45_000)
  assert.is(durationMs('2w'), 14 * 86_400_000)
  assert.is(durationMs('7'), 7 * 86_400_000)
  for (const bad of ['3x', '', 'd', '-1d', '1.5h', '30 days', '12345678d']) assert.is(durationMs(bad), undefined, bad)
})

test.after(() => rmSync(dir, {recursive: true, force: true}))

test.run()
