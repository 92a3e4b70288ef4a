import {chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {inspectUnit} from '../../src/report/inspect.js'
import {P} from '../support/paths.js'
import {verifyUnit} from '../../src/report/verify.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, unitHash, writeProfile, xway, xwayJson} from '../support/run.js'

// Every flag's effect, the rules of the appliance, the payload checks and --dry-run, inspected before
// and after. Resets run with the hidden --seed (fast, reproducible key regeneration) except where the
// default (system randomness) path is the point.
const test = suite('factory-reset')
const NOW = '2026-03-01T00:00:00Z'
const env = {XWAY_NOW: NOW}
const C00 = '116341C00-1-0A1B2C3D'
const LAB_URL = 'https://127.0.0.1:8443/SmartTransport'
const DIRECT_URL = 'https://127.0.0.1:9443/SmartTransport'
const hash = unitHash
const inspect = async (unit: string) => (await inspectUnit(unit, new Date(NOW)))
const readJson = (unit: string, rel: string) => JSON.parse(readFileSync(join(unit, rel), 'utf8'))
const writeJson = (unit: string, rel: string, value: unknown) => writeFileSync(join(unit, rel), JSON.stringify(value, null, 2) + '\n')
/** A digest of some paths of a unit (files or folders); equal digests: those paths are untouched. */
function digest(unit: string, ...rels: string[]): string {
  return rels.map((rel) => (existsSync(join(unit, rel)) ? (statSync(join(unit, rel)).isDirectory() ? hashTree(join(unit, rel)) : hashTree(unit, (r) => rel === r || rel.startsWith(`${r}/`))) : 'absent')).join(',')
}
async function reset(unit: string, flags: string[], options: {seed?: boolean} = {}) {
  const r = xwayJson(['factory-reset', unit, ...flags, ...(options.seed === false ? [] : ['--seed', 'e2e'])], {env})
  assert.is(r.code, 0, r.stdout + r.stderr)
  const v = (await verifyUnit(unit))
  assert.ok(v.ok, `the unit must verify right after the reset: ${JSON.stringify(v.problems)}`)
  return r.json
}
function refused(unit: string, flags: string[], code: number, message: string | RegExp) {
  const before = hash(unit)
  const r = xwayJson(['factory-reset', unit, ...flags], {env})
  assert.is(r.code, code, r.stdout + r.stderr)
  assert.match(r.json.error.message, message)
  assert.is(hash(unit), before, 'a refused or failed reset leaves the unit byte-for-byte unchanged')
  return r.json.error
}

let dir: string
const templates: Record<string, string> = {}
const copyOf = (name: string) => copyUnit(templates[name])

/** An Expressway-E as a lab leaves it: registered on-prem, management interface, SNI certificate, logs, usage, a cluster. */
async function lived(unit: string): Promise<void> {
  const lic = readJson(unit, P.licensing)
  lic.transport = {mode: 'on-prem', url: LAB_URL, proxy: null}
  lic.directUrl = DIRECT_URL
  lic.registration = {...lic.registration, state: 'registered', smartAccount: 'Lab', virtualAccount: 'Default', exportControlled: 'Allowed', registeredAt: '2026-01-02T00:00:00.000Z', serial: (await inspect(unit)).hardware.serial, endpoint: LAB_URL}
  lic.authorization = {...lic.authorization, lastSuccessAt: '2026-01-02T00:00:00.000Z', result: 'authorized'}
  writeJson(unit, P.licensing, lic)
  for (const rel of [P.agentKey, P.agentCert]) {
    writeFileSync(join(unit, rel), readFileSync(join(unit, rel === P.agentKey ? P.serverKey : P.serverCert)))
    chmodSync(join(unit, rel), 0o600)
  }
  writeJson(unit, P.mgmt, {enabled: true, address: '198.51.100.10/24'})
  writeFileSync(join(unit, P.sniDir, 'exp-e.example.pem'), readFileSync(join(unit, P.serverCert)))
  writeFileSync(join(unit, P.logDir, 'messages.log'), 'a log line\n'.repeat(5000))
  writeFileSync(join(unit, P.logDir, 'developer.log'), 'debug\n'.repeat(100))
  writeJson(unit, P.usage, {calls: 5, desktop: 2, room: 1, webrtc: false, exportControl: {state: 'ok'}})
  writeJson(unit, P.cluster, {cluster: {name: 'c1', primary: 'exp-e1', peers: ['exp-e2']}})
  writeJson(unit, P.alarms, {alarms: [{id: null, key: 'export-control-approaching', title: 'x', raisedAt: NOW}]})
  writeFileSync(join(unit, P.authorizedKeys), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn2dbA root@laptop\n')
}

test.before(async () => {
  dir = tempDir()
  templates.expE = makeUnit(dir, {name: 't-exp-e', profile: join(PROFILES, 'expressway-e.yaml')})
  await lived(templates.expE)
  templates.vcs = makeUnit(dir, {name: 't-vcs', profile: join(PROFILES, 'vcs.yaml')})
  templates.legacy = makeUnit(dir, {name: 't-legacy', profile: join(PROFILES, 'x14.0.2.yaml')})
  templates.vcsFips = makeUnit(dir, {
    name: 't-vcs-fips',
    profile: writeProfile(dir, `apiVersion: xway/v1
kind: Unit
software: X14.2.0
brand: vcs
type: expressway-e
network: { hostname: vcs-e1, domain: lab.example, dns: [192.0.2.53] }
fips: true
optionKeys: [${C00}, 116341J00-1-4E5F6A7B]
`, 'vcs-fips.yaml'),
  })
})

test('--yes alone keeps nothing: Cisco VCS Expressway-C from the payload, factory defaults, new keys, and the unit verifies', async () => {
  const unit = copyOf('expE')
  const before = (await inspect(unit))
  const product = digest(unit, P.licensingTrustDir, P.payloadDir)
  const r = await reset(unit, ['--yes'], {seed: false})
  assert.equal(Object.keys(r).sort(), ['brand', 'cancelled', 'dryRun', 'plan', 'series', 'softwareVersion', 'type', 'unit', 'warnings'])
  assert.equal({brand: r.brand, type: r.type, dryRun: r.dryRun, cancelled: r.cancelled, series: r.series}, {brand: 'VCS', type: 'Expressway-C', dryRun: false, cancelled: false, series: 'x14.2-expressway'})
  assert.equal(r.plan.areas.find((a: {area: string}) => a.area === 'logs'), {area: 'logs', action: 'deleted', bytes: 11 * 5000 + 6 * 100, files: 2, detail: 'deleted; log folder left empty'})
  const after = (await inspect(unit))
  assert.equal([after.brand, after.type], ['VCS', 'Expressway-C'])
  assert.equal([after.softwareVersion, after.hardware, after.edition], [before.softwareVersion, before.hardware, before.edition])
  assert.equal(after.licensing, {mode: 'legacy'})
  assert.not.ok(existsSync(join(unit, P.agentKey)) || existsSync(join(unit, P.agentCert)))
  assert.equal(after.network, {hostname: '', domain: '', dns: [], lan1: {address: '192.168.0.100/24', gateway: '192.168.0.1'}})
  assert.equal(after.mgmt, {enabled: false, address: null})
  assert.equal(after.users, {root: {default: true}, admin: {default: true}})
  assert.is(readJson(unit, P.users).admin.mustChange, true)
  assert.is(statSync(join(unit, P.users)).mode & 0o777, 0o600)
  assert.is(readFileSync(join(unit, P.authorizedKeys), 'utf8'), '')
  assert.is(after.ssh.hostKeys.length, 3)
  for (const k of after.ssh.hostKeys) assert.not.ok(before.ssh.hostKeys.some((b) => b.fingerprint === k.fingerprint))
  assert.is.not(after.certificates.server!.fingerprint, before.certificates.server!.fingerprint)
  assert.equal(after.certificates.sni, [])
  assert.equal(after.logs, {files: 0, bytes: 0})
  assert.ok(statSync(join(unit, P.logDir)).isDirectory())
  assert.equal(after.alarms, [])
  assert.equal(after.cluster, null)
  assert.equal([after.usage.calls, after.usage.desktop, after.usage.room], [0, 0, 0])
  assert.is(readJson(unit, P.config).Administration.InstallWizard, 'Pending')
  assert.is.not(readFileSync(join(unit, P.systemKey), 'utf8'), readFileSync(join(templates.expE, P.systemKey), 'utf8'))
  assert.is(digest(unit, P.licensingTrustDir, P.payloadDir), product, 'the agent trust store and the payload are kept by every reset')
  const audit = readFileSync(join(unit, P.audit), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(audit.at(-1).command, 'factory-reset')
  assert.equal(audit.at(-1).deleted, ['logs'])
})

test('each keep flag keeps its area (-v -f -i -m -s -c -p -l); SNI certificates are deleted anyway; areas without a question are reset', async () => {
  const unit = copyOf('expE')
  const kept = [P.productInfo, P.fipsDir, P.ip, P.mgmt, P.sshDir, P.serverCert, P.serverKey, P.caTrustStore, P.usersDir, P.authorizedKeys, P.logDir]
  const before = kept.map((rel) => digest(unit, rel))
  const r = await reset(unit, ['-v', '-f', '-i', '-m', '-s', '-c', '-p', '-l', '--yes'])
  assert.equal(r.plan.areas.filter((a: {action: string}) => a.action === 'kept').map((a: {area: string}) => a.area), ['brand', 'fips', 'ip', 'mgmt', 'ssh-keys', 'certs', 'passwords', 'logs'])
  kept.forEach((rel, i) => assert.is(digest(unit, rel), before[i], `${rel} must be kept`))
  const after = (await inspect(unit))
  assert.equal(after.certificates.sni, [])
  assert.equal(readdirSync(join(unit, P.sniDir)), [])
  assert.equal(after.cluster, null)
  assert.equal(after.alarms, [])
  assert.is(after.usage.calls, 0)
  assert.is(after.type, 'Expressway-E')
  assert.is.not(readFileSync(join(unit, P.systemKey), 'utf8'), readFileSync(join(templates.expE, P.systemKey), 'utf8'))
})

test('-v without -t on a registered Expressway: Direct transport, registration gone, evaluation restarts now, agent key pair deleted, lab directUrl kept', async () => {
  const unit = copyOf('expE')
  assert.is(((await inspect(unit)).licensing as {registration: {status: string}}).registration.status, 'Registered')
  await reset(unit, ['-v', '--yes'])
  const lic = (await inspect(unit)).licensing as {mode: string; transport: {mode: string; url: string | null}; registration: {status: string}; evaluation: {startedAt: string}; reservation: {state: string}}
  assert.is(lic.mode, 'smart')
  assert.equal(lic.transport.mode, 'direct')
  assert.is(lic.registration.status, 'Unregistered')
  assert.is(lic.evaluation.startedAt, new Date(NOW).toISOString())
  assert.is(lic.reservation.state, 'none')
  assert.is(readJson(unit, P.licensing).directUrl, DIRECT_URL)
  assert.not.ok(existsSync(join(unit, P.agentKey)) || existsSync(join(unit, P.agentCert)))
  assert.is((await inspect(unit)).type, 'Expressway-E')
})

test('-v -t keep configuration and registration; without DNS after the reset, alarms 30042 and 30044 are raised', async () => {
  const withIp = copyOf('expE')
  const licensing = digest(withIp, P.licensingDir)
  const r1 = await reset(withIp, ['-v', '-t', '-i', '--yes'])
  assert.is(digest(withIp, P.licensingDir), licensing)
  assert.equal((await inspect(withIp)).alarms, [])
  assert.equal(r1.warnings, [])
  const noIp = copyOf('expE')
  const r2 = await reset(noIp, ['-v', '-t', '--yes'])
  assert.is(digest(noIp, P.licensingDir), licensing)
  assert.equal((await inspect(noIp)).alarms.map((a) => a.id), [30042, 30044])
  assert.match(r2.warnings.join(' '), 'alarms 30042 and 30044')
  assert.is(((await inspect(noIp)).licensing as {registration: {status: string}}).registration.status, 'Registered')
})

test('-o on an X14.2 Expressway is refused (exit 3), quoting the seed; the unit is unchanged', async () => {
  const unit = copyOf('expE')
  const e = refused(unit, ['-o', '-v', '--yes'], 3, 'the -o flag (saving of the option keys) was removed from the Expressway factory reset')
  assert.ok(e.actions.length > 0)
  refused(unit, ['-o', '--dry-run'], 3, 'the -o flag (saving of the option keys) was removed')
})

test('-t without -v is refused (exit 3) before anything changes, explaining why', async () => {
  const unit = copyOf('expE')
  refused(unit, ['-t', '--yes'], 3, 'Smart licensing settings cannot be kept (-t) when brand and type are not kept (-v): the unit would revert to Cisco VCS, which has no smart licensing. Add -v, or drop -t.')
})

test('on a VCS, -t (no smart licensing to keep) is refused; -v and -m are honoured as keeps', async () => {
  const unit = copyOf('vcs')
  refused(unit, ['-t', '--yes'], 3, /is not a question of the factory reset on Cisco VCS X14\.2\.0/)
  const before = (await inspect(unit))
  xwayJson(['network', 'mgmt', unit, '--address', '198.51.100.44/24'])
  await reset(unit, ['-v', '-m', '--yes'])
  const after = (await inspect(unit))
  assert.is(after.brand, 'VCS')
  assert.is(after.type, before.type)
  assert.equal(after.mgmt, {enabled: true, address: '198.51.100.44/24'})
})

test('the Microsoft Interoperability key (C00) survives every reset; -o keeps all keys on VCS and X14.0.2', async () => {
  const features = async (unit: string) => (await inspect(unit)).optionKeys.map((k) => k.feature)
  const vcs = copyOf('vcs')
  await reset(vcs, ['--yes'])
  assert.equal((await features(vcs)), ['C00'])
  const vcsO = copyOf('vcs')
  await reset(vcsO, ['-o', '--yes'])
  assert.equal((await features(vcsO)), ['C00', 'J00'])
  const legacy = copyOf('legacy')
  await reset(legacy, ['--yes'])
  assert.equal((await features(legacy)), ['C00'])
  assert.is((await inspect(legacy)).brand, 'Expressway')
  // an X14.2 Expressway that kept C00 from before its upgrade
  const expE = copyOf('expE')
  writeJson(expE, P.optionKeys, {keys: [C00]})
  const expE2 = copyOf('expE')
  writeJson(expE2, P.optionKeys, {keys: [C00]})
  await reset(expE, ['--yes'])
  assert.equal([(await inspect(expE)).brand, (await features(expE))], ['VCS', ['C00']])
  await reset(expE2, ['-v', '--yes'])
  assert.equal([(await inspect(expE2)).brand, (await features(expE2))], ['Expressway', ['C00']])
})

test('FIPS kept (-f): regenerated keys follow the FIPS policy (no ed25519); not kept: FIPS off, default policy', async () => {
  const kept = copyOf('vcsFips')
  const r = await reset(kept, ['-o', '-f', '--yes'])
  assert.equal(r.brand, 'VCS')
  assert.equal(r.type, 'Expressway-E')
  assert.is((await inspect(kept)).fips.enabled, true)
  assert.equal((await inspect(kept)).ssh.hostKeys.map((k) => k.type), ['rsa', 'ecdsa'])
  const dropped = copyOf('vcsFips')
  await reset(dropped, ['-o', '--yes'])
  assert.is((await inspect(dropped)).fips.enabled, false)
  assert.equal((await inspect(dropped)).ssh.hostKeys.map((k) => k.type), ['rsa', 'ecdsa', 'ed25519'])
})

test('a missing or corrupt payload stops the reset before anything changes (exit 1), naming the file to copy in', async () => {
  const cases: Array<[string, (unit: string) => void, RegExp | string]> = [
    ['image missing', (u) => rmSync(join(u, P.payloadImage)), 'mnt/harddisk/factory-reset/tandberg-image.tar.gz is missing: copy the X14.2.0 software image there, then run the reset again'],
    ['rk missing', (u) => rmSync(join(u, P.payloadRk)), 'mnt/harddisk/factory-reset/rk is missing'],
    ['rk corrupt', (u) => writeFileSync(join(u, P.payloadRk), '12345\n'), 'mnt/harddisk/factory-reset/rk is corrupt'],
    ['rk of another unit', (u) => writeFileSync(join(u, P.payloadRk), '1234567890123456\n'), 'mnt/harddisk/factory-reset/rk does not hold the release key of this unit'],
    ['image truncated', (u) => writeFileSync(join(u, P.payloadImage), readFileSync(join(u, P.payloadImage)).subarray(0, 200)), 'mnt/harddisk/factory-reset/tandberg-image.tar.gz is corrupt'],
    ['image of another version', (u) => cpSync(join(templates.legacy, P.payloadImage), join(u, P.payloadImage)), 'tandberg-image.tar.gz holds software X14.0.2, but the unit runs X14.2.0'],
  ]
  for (const [what, damage, message] of cases) {
    const unit = copyOf('expE')
    damage(unit)
    const e = refused(unit, ['-v', '--yes'], 1, message)
    assert.ok(e.actions.some((a: string) => a.includes('mnt/harddisk/factory-reset/')), what)
  }
})

test('--dry-run prints the plan, asks nothing and changes nothing', async () => {
  const unit = copyOf('expE')
  const before = hash(unit)
  const r = xwayJson(['factory-reset', unit, '--dry-run'], {env, input: ''})
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.is(r.json.dryRun, true)
  assert.is(r.json.brand, 'VCS')
  assert.equal(r.json.plan.areas.map((a: {area: string}) => a.area), ['brand', 'option-keys', 'licensing', 'fips', 'ip', 'mgmt', 'ssh-keys', 'certs', 'passwords', 'logs', 'config', 'cluster', 'bootstrap-key', 'alarms', 'usage'])
  const human = xway(['factory-reset', unit, '-v', '-l', '--dry-run'], {env, input: ''})
  assert.is(human.code, 0, human.stderr)
  assert.not.match(human.stdout, 'Are you sure')
  assert.match(human.stdout, /^Plan \(dry run: nothing changed\)\nAREA +ACTION +FILES +BYTES +DETAIL\nbrand +kept /)
  assert.match(human.stdout, /\nlogs +kept +2 +55600 +saved\n/)
  assert.is(hash(unit), before)
})

test.after(() => cleanup())
test.run()
