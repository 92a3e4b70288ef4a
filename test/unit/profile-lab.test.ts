import {cpSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {DEFAULT_LAB_LICENSES, loadLab, loadProfile, ProfileError} from '../../src/profile/load.js'
import {displayPath} from '../../src/profile/issues.js'

const test = suite('lab files')
const FIXTURES = resolve('test/fixtures/profiles/lab')

let dir: string
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'xway-lab-'))
  cpSync(FIXTURES, dir, {recursive: true})
})
test.after.each(() => {
  rmSync(dir, {recursive: true, force: true})
})

function lab(text: string, name = 'lab.yaml'): string {
  writeFileSync(join(dir, name), text)
  return join(dir, name)
}

function refusal(file: string): string {
  let message: string | undefined
  try {
    loadLab(file)
  } catch (error) {
    assert.instance(error, ProfileError)
    message = (error as Error).message
  }

  if (message === undefined) assert.unreachable('the lab was accepted')
  return message as string
}

test('count expands copies; set merges over the profile; {n} and {n+K} number them', async () => {
  const result = loadLab(join(FIXTURES, 'lab.yaml'))
  assert.is(result.file, join(FIXTURES, 'lab.yaml'))
  assert.is(result.name, 'lab', 'the name defaults to the file name')
  assert.equal(result.units.map((u) => u.name), ['c1', 'c2', 'c3', 'e1'])
  const [c1, c2, c3, e1] = result.units.map((u) => u.profile)
  assert.equal(c2.network, {hostname: 'exp-c2', domain: 'lab.example', dns: ['198.51.100.53'], lan1: {address: '192.0.2.12/24', gateway: '192.0.2.1'}},
    'mappings merge (domain and gateway kept), lists replace (dns)')
  assert.equal([c1.mgmt, c3.mgmt], [{address: '198.51.100.1/24'}, {address: '198.51.100.3/24'}])
  assert.is(c1.file, join(FIXTURES, 'base.yaml'))
  assert.equal(c1.usage, {calls: 1, desktop: 2, room: 3, webrtc: true}, 'what set does not touch comes from the profile')
  assert.equal(c1.licensing.trustAnchors, [join(FIXTURES, 'ca.pem')], 'anchors of the profile are relative to the profile')
  assert.is(e1.type, 'expressway-e')
  assert.equal(e1.network.hostname, 'base')
  assert.is(e1.licensing.register, undefined, 'null in set removes a field')
  assert.equal(c1.licensing.register, {tokenFromEnv: 'XWAY_TOKEN'})
  assert.equal(result.licenseServer, {embedded: false, url: 'https://license.lab.example:8443/SmartTransport', tokenFromEnv: 'LAB_TOKEN'})
})

test('{n} is also substituted in the strings of the profile itself', async () => {
  writeFileSync(join(dir, 'numbered.yaml'), 'software: X14.2.0\nnetwork:\n  hostname: node{n}\n  lan1: {address: "192.0.2.{n+100}/24"}\n')
  const result = loadLab(lab('kind: Lab\nname: numbered\nunits:\n  - {name: "n{n}", profile: numbered.yaml, count: 2}\n'))
  assert.equal(result.units.map((u) => [u.name, u.profile.network.hostname, u.profile.network.lan1?.address]),
    [['n1', 'node1', '192.0.2.101/24'], ['n2', 'node2', '192.0.2.102/24']])
  assert.is(result.name, 'numbered')
})

test('the license server is embedded by default, with default or named licenses', async () => {
  assert.equal(loadLab(lab('kind: Lab\nunits: [{name: a, profile: base.yaml}]\n')).licenseServer, {embedded: true, licenses: {...DEFAULT_LAB_LICENSES}})
  assert.equal(loadLab(lab('kind: Lab\nunits: [{name: a, profile: base.yaml}]\nlicenseServer: {embedded: true, licenses: {rms: 4}}\n')).licenseServer,
    {embedded: true, licenses: {rms: 4, room: 0, desktop: 0}})
})

test('trust anchors given in set are relative to the lab file', async () => {
  writeFileSync(join(dir, 'lab-ca.pem'), 'x')
  const result = loadLab(lab('kind: Lab\nunits:\n  - name: a\n    profile: base.yaml\n    set: {licensing: {trustAnchors: [lab-ca.pem]}}\n'))
  assert.equal(result.units[0].profile.licensing.trustAnchors, [join(dir, 'lab-ca.pem')])
})

test('a fault in set is located in the lab file, at its path there, for the unit it makes', async () => {
  assert.equal(refusal(join(FIXTURES, 'bad-set.yaml')).split('\n'), [
    `${displayPath(join(FIXTURES, 'bad-set.yaml'))}: units[0].set.fips: must be boolean (line 7, column 13) [unit c1]`,
    `${displayPath(join(FIXTURES, 'bad-set.yaml'))}: units[0].set.network.hostname: must be a host name: letters, digits and -, at most 63, not starting or ending with - (line 8, column 28) [unit c1]`,
  ])
})

test('a fault the profile brings is located in the profile', async () => {
  writeFileSync(join(dir, 'broken.yaml'), 'software: X14.2.0\nbrand: cisco\n')
  assert.is(refusal(lab('kind: Lab\nunits: [{name: a, profile: broken.yaml}]\n')),
    `${join(dir, 'broken.yaml')}: brand: must be one of: expressway, vcs (line 2, column 8) [unit a]`)
  // set can repair it
  assert.is(loadLab(lab('kind: Lab\nunits: [{name: a, profile: broken.yaml, set: {brand: vcs}}]\n')).units[0].profile.brand, 'vcs')
})

test('a field made required by set is reported in the lab file', async () => {
  assert.is(refusal(lab('kind: Lab\nunits:\n  - name: a\n    profile: base.yaml\n    set:\n      licensing:\n        transport: {mode: proxy}\n')).split('\n')[0],
    `${join(dir, 'lab.yaml')}: units[0].set.licensing.transport.host: is required (line 7, column 20) [unit a]`)
})

test('lab-level faults: unknown fields, copies without {n}, duplicate names, missing profiles', async () => {
  const file = join(dir, 'lab.yaml')
  assert.is(refusal(lab('kind: Lab\nunits: [{name: a, profile: base.yaml, copies: 2}]\n')),
    `${file}: units[0].copies: unknown field (allowed: name, profile, count, set) (line 2, column 39)`)
  assert.is(refusal(lab('kind: Lab\nunits: [{name: exp, profile: base.yaml, count: 2}]\n')),
    `${file}: units[0].name: must contain {n} to number its 2 copies (for example exp{n}) (line 2, column 16)`)
  assert.is(refusal(lab('kind: Lab\nunits:\n  - {name: "a{n}", profile: base.yaml, count: 2}\n  - {name: a2, profile: base.yaml}\n')),
    `${file}: units[1].name: names a second unit a2 (the first is in units[0]) (line 4, column 12)`)
  assert.is(refusal(lab('kind: Lab\nunits:\n  - {name: a, profile: nowhere.yaml}\n')),
    `${file}: units[0].profile: names a profile that does not exist: ${join(dir, 'nowhere.yaml')} (paths are relative to the lab file) (line 3, column 24)`)
  assert.is(refusal(lab('kind: Lab\nunits:\n  - {name: "a{n}", profile: base.yaml, count: 500}\n  - {name: "b{n}", profile: base.yaml, count: 500}\n  - {name: c, profile: base.yaml}\n')),
    `${file}: units: expands to 1001 units, more than the 1000 a lab may have (line 3, column 3)`)
  assert.is(refusal(lab('kind: Lab\nunits: []\n')), `${file}: units: must list at least 1 (line 2, column 8)`)
  assert.is(refusal(lab('kind: Lab\nunits: [{name: a, profile: base.yaml}]\nlicenseServer: {url: "https://ls.lab.example/SmartTransport"}\n')),
    `${file}: licenseServer.tokenFromEnv: is required (line 3, column 16)`)
  assert.is(refusal(lab('kind: Lab\nunits: [{name: a, profile: base.yaml}]\nlicenseServer: {embedded: true, url: "https://ls.lab.example/SmartTransport", tokenFromEnv: T}\n')),
    `${file}: licenseServer.embedded: must be false (line 3, column 27)`)
})

test('a profile is not a lab file, and a lab file is not a profile', async () => {
  assert.match(refusal(join(FIXTURES, 'base.yaml')), /base\.yaml: is a unit profile, not a lab file/)
  assert.throws(() => loadProfile(join(FIXTURES, 'lab.yaml')), /lab\.yaml: kind: must be Unit: this is a lab file, build it with `xway lab up FILE` \(line 2, column 7\)/)
})

test.run()
