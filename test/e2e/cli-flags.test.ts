// The shared flag types: a bad value is a usage error (exit 2) on every command, before anything
// is read or written; a secret file that cannot be used is bad input (exit 4) everywhere.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup, makeUnit, tempDir, unitHash, xway, xwayJson} from '../support/run.js'

const dir = tempDir()
const unit = makeUnit(dir)
const server = join(dir, 'server')
const env = {XWAY_NOW: '2026-01-01T00:00:00Z'}
assert.is(xwayJson(['license-server', 'init', server]).code, 0)
assert.is(xwayJson(['license-server', 'account', 'create', server, '--name', 'Acme', '--virtual-account', 'lab']).code, 0)
const empty = join(dir, 'empty.txt')
writeFileSync(empty, '')
const blankFirst = join(dir, 'blank-first.txt')
writeFileSync(blankFirst, '\nthe secret on line two does not count\n')
const missing = join(dir, 'no-such-file.txt')
const good = join(dir, 'good.txt')
writeFileSync(good, 'a-password\n')

const U = '<unit>'
const badValues: Array<[string[], string]> = [
  // [command with a bad flag value, the flag the message names]
  [['license-server', 'token', 'create', server, '--virtual-account', 'lab', '--expires-in', '3x'], '--expires-in'],
  [['license-server', 'token', 'create', server, '--virtual-account', 'lab', '--expires-in', '400d'], '--expires-in'],
  [['licensing', 'transport', U, '--proxy', 'nonsense'], '--proxy'],
  [['licensing', 'transport', U, '--proxy', '127.0.0.1:70000'], '--proxy'],
  [['licensing', 'transport', U, '--on-prem', 'http://127.0.0.1/SmartTransport'], '--on-prem'],
  [['usage', 'set', U, '--calls', '-1'], '--calls'],
  [['usage', 'set', U, '--room', '2.5'], '--room'],
  [['usage', 'set', U, '--desktop', 'many'], '--desktop'],
  [['lab', 'up', join(dir, 'lab.yaml'), '--concurrency', '0'], '--concurrency'],
  [['network', 'set', U, '--dns', 'not-an-ip'], '--dns'],
  [['network', 'set', U, '--dns', '192.0.2.53', '--dns', '192.0.2.999'], '--dns'],
  [['network', 'set', U, '--lan1', '192.0.2.1'], '--lan1'],
  [['network', 'set', U, '--lan1', '192.0.2.1/33'], '--lan1'],
  [['network', 'set', U, '--gateway', 'gw'], '--gateway'],
  [['network', 'set', U, '--hostname', 'bad_name!'], '--hostname'],
  [['network', 'set', U, '--domain', '-lab.example'], '--domain'],
  [['network', 'mgmt', U, '--address', '198.51.100.9'], '--address'],
]

for (const [args, flag] of badValues) {
  const shown = args.map((a) => (a === U ? 'UNIT' : a.startsWith(dir) ? 'DIR' : a)).join(' ')
  test(`exit 2: xway ${shown}`, () => {
    const before = unitHash(unit)
    const r = xwayJson(args.map((a) => (a === U ? unit : a)), {env})
    assert.is(r.code, 2, r.stdout + r.stderr)
    assert.is(r.json.error.code, 'usage')
    assert.ok(r.json.error.message.startsWith(flag), r.json.error.message)
    assert.not.match(r.json.error.message, /Parsing --|See more help/)
    assert.is(unitHash(unit), before)
  })
}

test('network set checks the gateway against LAN1 as profiles do (exit 2, unchanged); a matching pair is taken', () => {
  const before = unitHash(unit)
  const outside = xwayJson(['network', 'set', unit, '--gateway', '10.0.0.1'], {env})
  assert.is(outside.code, 2, outside.stdout)
  assert.match(outside.json.error.message, /--gateway 10\.0\.0\.1 is not in the subnet of LAN1 192\.0\.2\.\d+\/24/)
  // a new LAN1 in another subnet, leaving the old gateway behind
  const moved = xwayJson(['network', 'set', unit, '--lan1', '10.1.0.5/16'], {env})
  assert.is(moved.code, 2, moved.stdout)
  assert.match(moved.json.error.actions.join(' '), /--gateway/)
  assert.is(unitHash(unit), before)
  const copy = makeUnit(dir, {name: 'gateway-ok'})
  const both = xwayJson(['network', 'set', copy, '--lan1', '10.1.0.5/16', '--gateway', '10.1.255.254'], {env})
  assert.is(both.code, 0, both.stdout)
  assert.equal(both.json.network.lan1, {address: '10.1.0.5/16', gateway: '10.1.255.254'})
})

const secretFlags: Array<[string, string[]]> = [
  ['--password-file', ['backup', 'create', U, '-o', join(dir, 'never.enc')]],
  ['--password-file', ['backup', 'inspect', join(dir, 'never.enc')]],
  ['--password-file', ['backup', 'restore', U, join(dir, 'never.enc'), '--yes']],
  ['--proxy-password-file', ['licensing', 'transport', U, '--proxy', '127.0.0.1:3128', '--proxy-user', 'lic']],
  ['--token-file', ['licensing', 'register', U]],
]

for (const [flag, args] of secretFlags) {
  test(`exit 4 for a missing, empty or blank-first-line ${flag}: xway ${args.slice(0, 2).join(' ')}`, () => {
    const before = unitHash(unit)
    for (const [file, why] of [[missing, /cannot be read: no such file or folder/], [empty, /first line is empty/], [blankFirst, /first line is empty/]] as const) {
      const r = xwayJson([...args.map((a) => (a === U ? unit : a)), flag, file], {env: {...env, XWAY_BACKUP_PASSWORD: 'from-the-environment'}})
      assert.is(r.code, 4, `${flag} ${file}: ${r.stdout}${r.stderr}`)
      assert.is(r.json.error.code, 'bad-input')
      assert.ok(r.json.error.message.startsWith(`${flag} ${file}`), r.json.error.message)
      assert.match(r.json.error.message, why)
      assert.not.match(r.json.error.message, /\bE[A-Z]{3,}\b/)
    }
    assert.is(unitHash(unit), before)
  })
}

test('licensing register takes exactly one of --token and --token-file (exit 2)', () => {
  const before = unitHash(unit)
  const neither = xwayJson(['licensing', 'register', unit], {env})
  assert.is(neither.code, 2)
  assert.match(neither.json.error.message, /--token, --token-file/)
  const both = xwayJson(['licensing', 'register', unit, '--token', 'abc', '--token-file', good], {env})
  assert.is(both.code, 2)
  assert.match(both.json.error.message, /--token cannot also be provided when using --token-file/)
  assert.is(unitHash(unit), before)
})

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\u001B\[[0-9;]*m/g, '')

test('--help shows the flag types and keeps its examples', () => {
  const help = plain(xway(['licensing', 'register', '--help']).stdout)
  assert.match(help, /--token-file=FILE/)
  assert.match(help, /--token=TOKEN/)
  assert.match(help, /EXAMPLES/)
  assert.match(help, /--token-file \.\/token\.txt/)
  const net = plain(xway(['network', 'set', '--help']).stdout)
  assert.match(net, /--gateway=IP/)
  assert.match(net, /--lan1=CIDR/)
})

test.after(() => cleanup())

test.run()
