import {mkdtempSync, rmSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {loadLab, loadProfile, MAX_YAML_BYTES, parseProfile, ProfileError} from '../../src/profile/load.js'

const test = suite('hostile profiles')

function refusal(run: () => unknown): string {
  let message: string | undefined
  try {
    run()
  } catch (error) {
    assert.instance(error, ProfileError)
    message = (error as Error).message
  }

  if (message === undefined) assert.unreachable('accepted')
  return message as string
}

/** The billion laughs: nine levels of nine aliases, 10^9 strings once expanded. */
function billionLaughs(): string {
  const lines = ['software: X14.2.0', 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
  for (let level = 1; level < 9; level++) {
    const name = String.fromCharCode(97 + level)
    const previous = String.fromCharCode(96 + level)
    lines.push(`${name}: &${name} [${Array.from({length: 9}, () => `*${previous}`).join(', ')}]`)
  }

  lines.push('usage: *i')
  return lines.join('\n') + '\n'
}

test('an alias bomb (billion laughs) is refused in well under a second', async () => {
  const start = performance.now()
  const message = refusal(() => parseProfile(billionLaughs(), 'profiles/bomb.yaml'))
  const elapsed = performance.now() - start
  assert.match(message, /^profiles\/bomb\.yaml: expands to more than 10000 values through aliases \(a YAML alias bomb\?\): refused \(line \d+, column \d+\)$/)
  assert.ok(elapsed < 250, `took ${elapsed} ms`)
})

test('an alias bomb in a lab file, or in the profile a lab names, is refused just as fast', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xway-bomb-'))
  try {
    writeFileSync(join(dir, 'bomb.yaml'), billionLaughs())
    writeFileSync(join(dir, 'lab.yaml'), 'kind: Lab\nunits:\n  - {name: a, profile: bomb.yaml}\n')
    const start = performance.now()
    assert.match(refusal(() => loadLab(join(dir, 'lab.yaml'))), /bomb\.yaml: expands to more than 10000 values through aliases/)
    assert.match(refusal(() => loadLab(join(dir, 'bomb.yaml'))), /bomb\.yaml: expands to more than 10000 values through aliases/)
    assert.ok(performance.now() - start < 500)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('ordinary aliases are fine, and each use is a copy of its own', async () => {
  const p = parseProfile('software: X14.2.0\nnetwork:\n  dns: &dns [192.0.2.53]\n  lan1: {address: 192.0.2.10/24}\nlicensing:\n  trustAnchors: *dns\n', '/lab/x.yaml')
  assert.equal(p.network.dns, ['192.0.2.53'])
  assert.equal(p.licensing.trustAnchors, ['/lab/192.0.2.53'])
  assert.is.not(p.network.dns as unknown, p.licensing.trustAnchors as unknown)
})

test('recursive and dangling aliases are refused', async () => {
  assert.is(refusal(() => parseProfile('software: X14.2.0\nx: &a [1, *a]\n', 'x.yaml')),
    'x.yaml: alias *a refers to a value that contains it (recursive alias): refused (line 2, column 11)')
  assert.is(refusal(() => parseProfile('software: X14.2.0\nx: *nothing\n', 'x.yaml')),
    'x.yaml: alias *nothing refers to no anchor &nothing before it (line 2, column 4)')
})

test('oversized text is refused before it is parsed', async () => {
  const text = 'software: X14.2.0\n' + `# ${'x'.repeat(MAX_YAML_BYTES)}\n`
  assert.match(refusal(() => parseProfile(text, 'big.yaml')), /^big\.yaml: is \d+ bytes, more than the 262144 bytes \(256 KiB\) a profile or lab file may have$/)
})

test('an oversized file is refused from its size, without reading it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xway-big-'))
  try {
    const file = join(dir, 'huge.yaml')
    writeFileSync(file, '')
    truncateSync(file, 8 * 1024 ** 3) // sparse: 8 GiB that would take long to read
    const start = performance.now()
    assert.is(refusal(() => loadProfile(file)), `${file}: is ${8 * 1024 ** 3} bytes, more than the 262144 bytes (256 KiB) a profile or lab file may have`)
    assert.ok(performance.now() - start < 100)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a device is not a profile', async () => {
  assert.is(refusal(() => loadProfile('/dev/zero')), '/dev/zero: is not a regular file')
})

test('deep nesting, complex keys and several documents are refused', async () => {
  assert.match(refusal(() => parseProfile(`software: X14.2.0\nx: ${'['.repeat(200)}${']'.repeat(200)}\n`, 'x.yaml')), /^x\.yaml: is not valid YAML: nesting exceeded maxDepth \(64\)/)
  assert.is(refusal(() => parseProfile('software: X14.2.0\n? [a, b]\n: 1\n', 'x.yaml')), 'x.yaml: mapping keys must be plain names, not lists, mappings or aliases (line 2, column 3)')
  assert.is(refusal(() => parseProfile('software: X14.2.0\n---\nsoftware: X14.0.2\n', 'x.yaml')), 'x.yaml: holds more than one YAML document (---): expected exactly one')
})

test('a __proto__ key is an unknown field, and pollutes nothing', async () => {
  assert.match(refusal(() => parseProfile('software: X14.2.0\n__proto__: {fips: true}\n', 'x.yaml')), /^x\.yaml: __proto__: unknown field/)
  assert.match(refusal(() => parseProfile('software: X14.2.0\nnetwork:\n  __proto__: {hostname: x}\n', 'x.yaml')), /^x\.yaml: network\.__proto__: unknown field/)
  assert.is(({} as Record<string, unknown>).fips, undefined)
})

test('binary garbage is refused as YAML, with a position', async () => {
  const garbage = '\u0000\u0001\u0002software: X14.2.0\n'
  assert.match(refusal(() => parseProfile(garbage, 'x.yaml')), /^x\.yaml: is not valid YAML: .* \(line 1, column \d+\)$/)
})

test.run()
