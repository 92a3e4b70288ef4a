import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'

import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {BadInputError} from '../../src/errors.js'
import {loadProfile, parseProfile, ProfileError} from '../../src/profile/load.js'

const test = suite('profiles')
const FIXTURES = resolve('test/fixtures/profiles')
const VERSIONS = ['X14.0.2', 'X14.2.0']

/** The message a profile's text is refused with (parsed as profiles/x.yaml). */
function refusal(text: string, options: {versions?: string[]} = {}): string {
  let message: string | undefined
  try {
    parseProfile(text, 'profiles/x.yaml', options)
  } catch (error) {
    assert.instance(error, ProfileError)
    message = (error as Error).message
  }

  if (message === undefined) assert.unreachable('the profile was accepted')
  return message as string
}

test('a profile of only `software` gets the defaults of SPEC 3', async () => {
  const p = parseProfile('software: X14.2.0\n', 'profiles/x.yaml')
  assert.equal(p, {
    file: resolve('profiles/x.yaml'),
    software: 'X14.2.0',
    brand: 'expressway',
    type: 'expressway-c',
    edition: 'standard',
    hardware: {pid: 'EXPWY-VE-M-K9'},
    network: {dns: []},
    mgmt: null,
    passwords: {},
    fips: false,
    optionKeys: [],
    licensing: {enabled: false, transport: {mode: 'direct'}, hideIdentity: false, trustAnchors: []},
    usage: {calls: 0, desktop: 0, room: 0, webrtc: false},
  })
})

test('every field of SPEC 3 is read, trust anchors resolved from the profile folder', async () => {
  const p = loadProfile(join(FIXTURES, 'full.yaml'), {versions: VERSIONS})
  assert.is(p.edition, 'select')
  assert.equal(p.hardware, {pid: 'EXPWY-VE-L-K9', serial: '0A1B2C3D'})
  assert.equal(p.network, {hostname: 'exp-e7', domain: 'lab.example', dns: ['192.0.2.53', '2001:db8::53'], lan1: {address: '192.0.2.70/24', gateway: '192.0.2.1'}})
  assert.equal(p.mgmt, {address: '198.51.100.70/24'})
  assert.equal(p.passwords.root, {fromEnv: 'XWAY_ROOT_PASSWORD'})
  assert.ok(p.passwords.admin && 'hash' in p.passwords.admin && p.passwords.admin.hash.startsWith('$6$Xw4yLab0$'))
  assert.is(p.fips, true)
  assert.equal(p.optionKeys, ['116341J00-1-ABCD1234'])
  assert.equal(p.licensing, {
    enabled: true,
    transport: {mode: 'proxy', host: 'proxy.lab.example', port: 3128, username: 'u', passwordFromEnv: 'XWAY_PROXY_PASSWORD'},
    hideIdentity: true,
    trustAnchors: [join(FIXTURES, 'lab', 'ca.pem')],
    directUrl: 'https://127.0.0.1:8443/SmartTransport',
    register: {tokenFromEnv: 'XWAY_TOKEN'},
  })
  assert.equal(p.usage, {calls: 10, desktop: 20, room: 30, webrtc: true})
})

test('on-prem transport keeps its url', async () => {
  const p = parseProfile('software: X14.2.0\nlicensing:\n  transport: {mode: on-prem, url: "https://192.0.2.80/SmartTransport"}\n', 'x.yaml')
  assert.equal(p.licensing.transport, {mode: 'on-prem', url: 'https://192.0.2.80/SmartTransport'})
})

test('SPEC 3 example: an On-Prem url not ending with /SmartTransport, at line 14, column 10', async () => {
  try {
    loadProfile(join(FIXTURES, 'bad-url.yaml'))
    assert.unreachable()
  } catch (error) {
    assert.instance(error, ProfileError)
    assert.instance(error, BadInputError)
    assert.is((error as BadInputError).exitCode, 4)
    assert.is((error as Error).message, 'test/fixtures/profiles/bad-url.yaml: licensing.transport.url: must end with /SmartTransport (line 14, column 10)')
    assert.equal((error as ProfileError).issues, [{
      file: 'test/fixtures/profiles/bad-url.yaml', path: 'licensing.transport.url', message: 'must end with /SmartTransport', line: 14, column: 10, unit: undefined,
    }])
  }
})

test('a wrong type names the field and where its value starts', async () => {
  assert.is(refusal('apiVersion: xway/v1\nsoftware: X14.2.0\nfips: "yes"\n'), 'profiles/x.yaml: fips: must be boolean (line 3, column 7)')
  assert.is(refusal('software: X14.2.0\nusage: {calls: many}\n'), 'profiles/x.yaml: usage.calls: must be an integer (line 2, column 16)')
  assert.is(refusal('software: X14.2.0\nnetwork:\n  dns: 192.0.2.53\n'), 'profiles/x.yaml: network.dns: must be a list (line 3, column 8)')
  assert.is(refusal('software: X14.2.0\nfips:\n'), 'profiles/x.yaml: fips: must be boolean (line 2, column 1)')
})

test('an unknown field is named at its key, with the allowed ones and a likely meaning', async () => {
  assert.is(refusal('software: X14.2.0\nnetwork:\n  hostnme: exp\n'),
    'profiles/x.yaml: network.hostnme: unknown field; did you mean hostname? (allowed: hostname, domain, dns, lan1) (line 3, column 3)')
  assert.is(refusal('software: X14.2.0\ncolour: blue\n'),
    'profiles/x.yaml: colour: unknown field (allowed: apiVersion, kind, software, brand, type, edition, hardware, network, mgmt, passwords, fips, optionKeys, licensing, usage) (line 2, column 1)')
})

test('a field the transport mode does not use is refused', async () => {
  assert.is(refusal('software: X14.2.0\nlicensing:\n  transport: {mode: direct, url: "https://a/SmartTransport"}\n'),
    'profiles/x.yaml: licensing.transport.url: is not used with mode direct (allowed: mode) (line 3, column 29)')
  assert.is(refusal('software: X14.2.0\nlicensing:\n  transport: {mode: proxy, host: proxy.lab.example}\n'),
    'profiles/x.yaml: licensing.transport.port: is required (line 3, column 14)')
})

test('a bad enum value lists the allowed ones', async () => {
  assert.is(refusal('software: X14.2.0\nbrand: cisco\n'), 'profiles/x.yaml: brand: must be one of: expressway, vcs (line 2, column 8)')
  assert.is(refusal('software: X14.2.0\ntype: expressway-x\n'), 'profiles/x.yaml: type: must be one of: expressway-c, expressway-e (line 2, column 7)')
  assert.is(refusal('software: X14.2.0\nlicensing: {transport: {mode: pigeon}}\n'),
    'profiles/x.yaml: licensing.transport.mode: must be one of: direct, on-prem, proxy (line 2, column 31)')
})

test('software is required, and must be a version present in images/ when those are given', async () => {
  assert.is(refusal('brand: vcs\n'), 'profiles/x.yaml: software: is required (line 1, column 1)')
  assert.is(refusal('software: X15.0.0\n', {versions: VERSIONS}),
    'profiles/x.yaml: software: must be one of the software versions in images/: X14.0.2, X14.2.0 (line 1, column 11)')
  assert.is(refusal('software: 14.2\n'), 'profiles/x.yaml: software: must be a software version like X14.2.0 (line 1, column 11)')
  assert.is(refusal('software: x14.2.0\n'), 'profiles/x.yaml: software: must be a software version like X14.2.0 (line 1, column 11)')
})

test('clear-text passwords and malformed hashes are refused', async () => {
  assert.is(refusal('software: X14.2.0\npasswords:\n  root: TANDBERG\n'),
    'profiles/x.yaml: passwords.root: must be {fromEnv: VARIABLE} or {hash: "$6$…"} (clear-text passwords are not accepted) (line 3, column 9)')
  assert.is(refusal('software: X14.2.0\npasswords:\n  admin: {hash: "$1$abc$def"}\n'),
    'profiles/x.yaml: passwords.admin.hash: must be a SHA-512 crypt hash ($6$salt$… as made by `openssl passwd -6`) (line 3, column 17)')
  assert.is(refusal('software: X14.2.0\npasswords:\n  admin: {fromEnv: A, hash: "$6$x"}\n'),
    'profiles/x.yaml: passwords.admin: must have exactly one of: fromEnv, hash (line 3, column 10)')
  assert.is(refusal('software: X14.2.0\npasswords:\n  admin: {password: secret}\n').split('\n')[0],
    'profiles/x.yaml: passwords.admin.password: unknown field (allowed: fromEnv, hash) (line 3, column 11)')
})

test('option keys must follow 116341<feature>-<m>-<8 characters>', async () => {
  assert.is(refusal('software: X14.2.0\noptionKeys:\n  - 116341C00-1-ABCD123\n'),
    'profiles/x.yaml: optionKeys[0]: must be an option key like 116341C00-1-ABCD1234 (116341<feature>-<m>-<8 characters>) (line 3, column 5)')
  assert.is(refusal('software: X14.2.0\noptionKeys: [116341C00-1-ABCD1234, 116341C00-1-ABCD1234]\n'),
    'profiles/x.yaml: optionKeys: lists 116341C00-1-ABCD1234 twice (items 0 and 1) (line 2, column 13)')
})

test('addresses: CIDR, gateway inside the LAN1 subnet', async () => {
  assert.is(refusal('software: X14.2.0\nnetwork:\n  lan1: {address: 192.0.2.300/24}\n'),
    'profiles/x.yaml: network.lan1.address: must be an IPv4 address with prefix length, like 192.0.2.10/24 (line 3, column 19)')
  assert.is(refusal('software: X14.2.0\nmgmt: {address: 198.51.100.10}\n'),
    'profiles/x.yaml: mgmt.address: must be an IPv4 address with prefix length, like 198.51.100.10/24 (line 2, column 17)')
  assert.is(refusal('software: X14.2.0\nnetwork:\n  lan1: {address: 192.0.2.10/24, gateway: 198.51.100.1}\n'),
    'profiles/x.yaml: network.lan1.gateway: is not in the subnet of lan1.address 192.0.2.10/24 (line 3, column 43)')
  const p = parseProfile('software: X14.2.0\nnetwork:\n  lan1: {address: 10.1.2.3/16, gateway: 10.1.200.1}\n', 'x.yaml')
  assert.equal(p.network.lan1, {address: '10.1.2.3/16', gateway: '10.1.200.1'})
})

test('several faults are all reported, one line each, in file order', async () => {
  const message = refusal('software: X14.2.0\nbrand: cisco\nfips: "no"\nextra: 1\n')
  assert.equal(message.split('\n'), [
    'profiles/x.yaml: brand: must be one of: expressway, vcs (line 2, column 8)',
    'profiles/x.yaml: fips: must be boolean (line 3, column 7)',
    'profiles/x.yaml: extra: unknown field (allowed: apiVersion, kind, software, brand, type, edition, hardware, network, mgmt, passwords, fips, optionKeys, licensing, usage) (line 4, column 1)',
  ])
})

test('anything but a mapping is refused, and a lab file is not a profile', async () => {
  assert.is(refusal('- software: X14.2.0\n'), 'profiles/x.yaml: must be a mapping of profile fields (found a list) (line 1, column 1)')
  assert.is(refusal('just text\n'), 'profiles/x.yaml: must be a mapping of profile fields (found a string) (line 1, column 1)')
  assert.is(refusal('# nothing\n'), 'profiles/x.yaml: is empty: expected a mapping of fields')
  assert.is(refusal('~\n'), 'profiles/x.yaml: is empty: expected a mapping of profile fields (line 1, column 1)')
  assert.is(refusal('kind: Lab\nunits: []\n'), 'profiles/x.yaml: kind: must be Unit: this is a lab file, build it with `xway lab up FILE` (line 1, column 7)')
  assert.is(refusal('apiVersion: xway/v2\nsoftware: X14.2.0\n'), 'profiles/x.yaml: apiVersion: must be xway/v1 (line 1, column 13)')
})

test('malformed YAML is refused with its line and column', async () => {
  assert.is(refusal('software: X14.2.0\nnetwork: {dns: [192.0.2.1\n'), 'profiles/x.yaml: is not valid YAML: deficient indentation (line 3, column 1)')
  assert.is(refusal('software: X14.2.0\nsoftware: X14.0.2\n'), 'profiles/x.yaml: is not valid YAML: duplicated mapping key (line 2, column 1)')
  assert.is(refusal('software: X14.2.0\nx: !!binary aGVsbG8=\n'), 'profiles/x.yaml: is not valid YAML: unknown scalar tag !<tag:yaml.org,2002:binary> (line 2, column 4)')
  assert.is(refusal('---\nsoftware: X14.2.0\n---\nsoftware: X14.0.2\n'), 'profiles/x.yaml: holds more than one YAML document (---): expected exactly one')
})

let tmp: string
test.before.each(() => {
  tmp = mkdtempSync(join(tmpdir(), 'xway-profile-'))
})
test.after.each(() => {
  rmSync(tmp, {recursive: true, force: true})
})

test('loadProfile refuses a missing file, a folder, and a trust anchor that does not exist', async () => {
  assert.throws(() => loadProfile(join(tmp, 'none.yaml')), (e: Error) => e instanceof ProfileError && e.message.endsWith('none.yaml: no such file'))
  mkdirSync(join(tmp, 'dir.yaml'))
  assert.throws(() => loadProfile(join(tmp, 'dir.yaml')), (e: Error) => e.message.endsWith('dir.yaml: is a folder, not a YAML file'))
  writeFileSync(join(tmp, 'p.yaml'), 'software: X14.2.0\nlicensing:\n  trustAnchors: [certs/ca.pem]\n')
  assert.throws(() => loadProfile(join(tmp, 'p.yaml')),
    (e: Error) => e.message === `${join(tmp, 'p.yaml')}: licensing.trustAnchors[0]: file not found: ${join(tmp, 'certs', 'ca.pem')} (line 3, column 18)`)
  // parseProfile does not touch the disk: anchors are only resolved
  assert.equal(parseProfile('software: X14.2.0\nlicensing:\n  trustAnchors: [certs/ca.pem]\n', join(tmp, 'p.yaml')).licensing.trustAnchors, [join(tmp, 'certs', 'ca.pem')])
})

test.run()
