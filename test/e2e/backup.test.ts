import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {areaOf} from '../../src/areas/registry.js'
import {readHeader} from '../../src/backup/container.js'
import {PBKDF2_ITERATIONS} from '../../src/crypto/policy.js'
import {P} from '../support/paths.js'
import {cleanup, PROFILES, tempDir, writeProfile} from '../support/run.js'
import {
  BACKUP_AREAS, copyOf, fileHolding, hashAll, hashAreas, inspect, outputs, PASSWORD, run, runJson, sha256, template, verifies, writeRegistered,
} from './backup-helpers.js'

const dir = tempDir('xway-backup-e2e-')
const pwDir = tempDir('xway-backup-pw-')
const t: Record<string, string> = {}

test.before(() => {
  const profile = writeProfile(dir, [
    'apiVersion: xway/v1', 'kind: Unit', 'software: X14.2.0',
    'network: {hostname: src-c1, domain: lab.example, dns: [192.0.2.53], lan1: {address: 192.0.2.11/24, gateway: 192.0.2.1}}',
    'passwords: {root: {fromEnv: XWAY_TEST_ROOT_PW}}',
  ].join('\n') + '\n', 'src.yaml')
  const env = {XWAY_TEST_ROOT_PW: 'root password of the source'}
  t.src = template(dir, 't-src', profile, 'src', env)
  t.other = template(dir, 't-other', profile, 'other', env)
  t.legacy = template(dir, 't-legacy', join(PROFILES, 'x14.0.2.yaml'), 'legacy')
})

function backupOf(unit: string, name: string, options: {env?: NodeJS.ProcessEnv} = {}): string {
  const file = join(dir, name)
  const r = runJson(['backup', 'create', unit, '-o', file], options)
  assert.is(r.code, 0, r.stdout + r.stderr)
  return file
}

function restore(unit: string, file: string, extra: string[] = [], options: {env?: NodeJS.ProcessEnv; input?: string} = {}) {
  return runJson(['backup', 'restore', unit, file, '--yes', ...extra], options)
}

test('create writes <version>_<serial>_<YYYYMMDD>_<HHMMSS>_backup.tar.gz.enc in the current directory, mode 0600, and reports {file, unit, bytes, kdfMs, manifest, files}', async () => {
  const unit = copyOf(t.src, dir)
  const cwd = tempDir()
  const serial = (await inspect(unit)).hardware.serial
  const r = runJson(['backup', 'create', unit], {cwd})
  assert.is(r.code, 0, r.stdout + r.stderr)
  const name = `X14.2.0_${serial}_20260203_040506_backup.tar.gz.enc`
  assert.equal(Object.keys(r.json).sort(), ['bytes', 'file', 'files', 'kdfMs', 'manifest', 'unit'])
  assert.is(r.json.file, name)
  assert.is(r.json.unit, unit)
  const file = join(cwd, name)
  assert.is(statSync(file).size, r.json.bytes)
  assert.is(statSync(file).mode & 0o777, 0o600)
  assert.ok(r.json.kdfMs > 0)
  assert.ok(r.json.files > 5)
  assert.equal(r.json.manifest, {
    formatVersion: 1, softwareVersion: 'X14.2.0', brand: 'Expressway', type: 'Expressway-C', edition: 'standard',
    serial, fips: false, createdAt: '2026-02-03T04:05:06.000Z', kdf: {iterations: PBKDF2_ITERATIONS}, areas: BACKUP_AREAS,
  })
  assert.is((await readHeader(file)).iterations, PBKDF2_ITERATIONS)
  assert.equal(readdirSync(cwd), [name])
})

test('inspect shows the manifest after authentication: exactly the backup areas with each file\'s SHA-256; no logs, no ssh host keys', async () => {
  const unit = copyOf(t.src, dir)
  writeFileSync(join(unit, P.logDir, 'messages.log'), 'a log line\n')
  const file = backupOf(unit, 'inspect.enc')
  const r = runJson(['backup', 'inspect', file])
  assert.is(r.code, 0, r.stdout)
  const m = r.json
  assert.is(m.formatVersion, 1)
  assert.is(m.serial, (await inspect(unit)).hardware.serial)
  assert.equal(m.areas, BACKUP_AREAS)
  const paths = m.files.map((f: {path: string}) => f.path)
  for (const p of [P.systemKey, P.config, P.ip, P.mgmt, P.users, P.authorizedKeys, P.serverCert, P.serverKey, P.caTrustStore, P.licensing, P.optionKeys, P.cluster]) {
    assert.ok(paths.includes(p), `${p} is carried`)
  }
  assert.ok(m.directories.includes(P.sniDir), 'the empty SNI folder is carried')
  for (const f of m.files) {
    assert.ok(BACKUP_AREAS.includes(areaOf(f.path)!), `${f.path} lies in a backup area`)
    assert.not.ok(f.path.startsWith('etc/ssh') || f.path.startsWith(P.logDir) || f.path.startsWith('info/'), f.path)
    const content = readFileSync(join(unit, f.path))
    assert.is(f.sha256, sha256(content))
    assert.is(f.size, content.length)
    assert.is(f.mode, statSync(join(unit, f.path)).mode & 0o777)
  }
  assert.is(m.files.find((f: {path: string}) => f.path === P.serverKey).mode, 0o600)
  const human = run(['backup', 'inspect', file])
  assert.is(human.code, 0)
  assert.match(human.stdout, `serial ${m.serial}`)
  assert.match(human.stdout, 'all checked against their SHA-256')
})

test('round trip: create → factory-reset -v → restore gives back every restored area, in image inspect and byte for byte; ssh keys and logs are not touched', async () => {
  const unit = copyOf(t.src, dir)
  assert.is(run(['network', 'set', unit, '--hostname', 'rt-host', '--dns', '192.0.2.99']).code, 0)
  assert.is(run(['network', 'mgmt', unit, '--address', '198.51.100.7/24']).code, 0)
  writeFileSync(join(unit, P.sniDir, 'conference.lab.example.pem'), readFileSync(join(unit, P.serverCert)))
  writeFileSync(join(unit, P.logDir, 'messages.log'), 'a log line\n')
  const before = (await inspect(unit))
  const areasBefore = hashAreas(unit, BACKUP_AREAS)
  const file = backupOf(unit, 'roundtrip.enc')

  const reset = runJson(['factory-reset', unit, '-v', '--yes'])
  assert.is(reset.code, 0, reset.stdout + reset.stderr)
  const afterReset = (await inspect(unit))
  assert.is.not(afterReset.network.hostname, 'rt-host')
  assert.is(afterReset.users.root.default, true)

  const r = restore(unit, file)
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.equal(Object.keys(r.json).sort(), ['cancelled', 'file', 'kdfMs', 'notes', 'registration', 'restored', 'unit', 'warnings'])
  assert.equal({...r.json, kdfMs: 0, notes: []}, {unit, file, cancelled: false, restored: BACKUP_AREAS, registration: 'none', warnings: [], notes: [], kdfMs: 0})
  assert.ok(r.json.notes.some((n: string) => /root and admin passwords are now those of the backup/.test(n)))

  const after = (await inspect(unit))
  for (const key of ['network', 'mgmt', 'certificates', 'users', 'optionKeys', 'licensing', 'cluster', 'hardware', 'brand', 'type', 'softwareVersion']) {
    assert.equal(after[key], before[key], key)
  }
  assert.is(after.users.root.default, false)
  assert.is(after.certificates.sni.length, 1)
  assert.is(hashAreas(unit, BACKUP_AREAS), areasBefore)
  // not carried: the reset's new ssh host keys and empty log folder stay
  assert.equal(after.ssh, afterReset.ssh)
  assert.equal(after.logs, {files: 0, bytes: 0})
  assert.ok((await verifies(unit)))
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"backup restore"/)
})

test('a restore replaces the areas whole: files added since the backup go away', async () => {
  const unit = copyOf(t.src, dir)
  const file = backupOf(unit, 'whole.enc')
  const areasAtBackup = hashAreas(unit, BACKUP_AREAS)
  writeFileSync(join(unit, P.configDir, 'extra.json'), '{}\n')
  writeFileSync(join(unit, P.sniDir, 'new.pem'), readFileSync(join(unit, P.serverCert)))
  writeFileSync(join(unit, P.authorizedKeys), 'ssh-ed25519 AAAA… added@later\n')
  assert.is(run(['network', 'set', unit, '--domain', 'changed.example']).code, 0)
  const r = restore(unit, file)
  assert.is(r.code, 0, r.stdout)
  assert.not.ok(existsSync(join(unit, P.configDir, 'extra.json')))
  assert.not.ok(existsSync(join(unit, P.sniDir, 'new.pem')))
  assert.is(readFileSync(join(unit, P.authorizedKeys), 'utf8'), '')
  assert.is(hashAreas(unit, BACKUP_AREAS), areasAtBackup)
})

test('refused onto another software version, naming both versions (exit 3, unit unchanged)', async () => {
  const file = backupOf(t.legacy, 'legacy.enc')
  const unit = copyOf(t.src, dir)
  const before = hashAll(unit)
  const r = restore(unit, file)
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, 'X14.0.2')
  assert.match(r.json.error.message, 'X14.2.0')
  assert.match(r.json.error.message, 'same software version')
  assert.is(hashAll(unit), before)
})

test('refused across brands: after a factory reset without -v the unit is a VCS (exit 3, unit unchanged)', async () => {
  const unit = copyOf(t.src, dir)
  const file = backupOf(unit, 'brand.enc')
  assert.is(runJson(['factory-reset', unit, '--yes']).code, 0)
  assert.is((await inspect(unit)).brand, 'VCS')
  const before = hashAll(unit)
  const r = restore(unit, file)
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /across brands/)
  assert.is(hashAll(unit), before)
})

test('refused while the unit is in a cluster, before any password is asked; allowed once it has left', async () => {
  const unit = copyOf(t.src, dir)
  const peer = copyOf(t.other, dir)
  const file = backupOf(unit, 'cluster.enc')
  assert.is(runJson(['cluster', 'create', unit, peer]).code, 0)
  const before = hashAll(unit)
  const r = restore(unit, file, [], {env: {XWAY_BACKUP_PASSWORD: ''}})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /in a cluster/)
  assert.ok(r.json.error.actions.some((a: string) => a.includes('xway cluster leave')))
  assert.is(hashAll(unit), before)
  assert.is(runJson(['cluster', 'leave', unit]).code, 0)
  const ok = restore(unit, file)
  assert.is(ok.code, 0, ok.stdout)
  assert.is((await inspect(unit)).cluster, null)
})

test('FIPS: a non-FIPS backup onto a FIPS unit is refused (exit 3); a FIPS backup onto a non-FIPS unit is allowed and made with the FIPS policy', async () => {
  const select = template(dir, 't-select', writeProfile(dir, 'apiVersion: xway/v1\nkind: Unit\nsoftware: X14.2.0\nedition: select\noptionKeys: [116341J00-1-4E5F6A7B]\n', 'select.yaml'), 'select')
  const unit = copyOf(select, dir)
  const plain = backupOf(unit, 'plain.enc')
  const enter = runJson(['fips', 'enter', unit])
  assert.is(enter.code, 0, enter.stdout + enter.stderr)
  const before = hashAll(unit)
  const refused = restore(unit, plain)
  assert.is(refused.code, 3, refused.stdout)
  assert.match(refused.json.error.message, /non-FIPS backup cannot be restored onto a FIPS system/)
  assert.is(hashAll(unit), before)

  const fipsBackup = join(dir, 'fips.enc')
  const made = runJson(['backup', 'create', unit, '-o', fipsBackup])
  assert.is(made.code, 0, made.stdout)
  assert.is(made.json.manifest.fips, true)
  assert.is(made.json.manifest.kdf.iterations, PBKDF2_ITERATIONS)
  const target = copyOf(select, dir)
  const ok = restore(target, fipsBackup)
  assert.is(ok.code, 0, ok.stdout)
  assert.is((await inspect(target)).fips.enabled, false, 'the FIPS configuration is not part of a backup')
  // and the FIPS unit takes its own FIPS backup back
  assert.is(restore(unit, fipsBackup).code, 0)
})

test('onto another serial: a warning, allowed; smart licensing stays enabled but the registration is dropped ("register again with a registration token")', async () => {
  const source = copyOf(t.src, dir)
  const target = copyOf(t.other, dir)
  const serial = (await inspect(source)).hardware.serial
  writeRegistered(source, serial)
  assert.is((await inspect(source)).licensing.registration.status, 'Registered')
  const file = backupOf(source, 'registered.enc')
  const targetBefore = (await inspect(target))
  assert.is.not(targetBefore.hardware.serial, serial)

  const r = restore(target, file)
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.is(r.json.registration, 'dropped')
  assert.ok(r.json.warnings.some((w: string) => w.includes('another system') && w.includes(serial)))
  assert.ok(r.json.warnings.some((w: string) => w.includes('register again with a registration token')))
  assert.match(r.stderr, 'Warning: the backup was made on another system')
  const after = (await inspect(target))
  assert.is(after.hardware.serial, targetBefore.hardware.serial)
  assert.is(after.licensing.mode, 'smart')
  assert.is(after.licensing.registration.status, 'Unregistered')
  assert.is(after.licensing.registration.smartAccount, null)
  assert.equal(after.licensing.transport, (await inspect(source)).licensing.transport, 'the licensing configuration comes with the backup')
  assert.equal(after.licensing.evaluation, targetBefore.licensing.evaluation, 'the evaluation period is the unit\'s own')
  for (const rel of [P.agentKey, P.agentCert, P.pendingToken]) assert.not.ok(existsSync(join(target, rel)), rel)
  assert.ok((await verifies(target)))

  const human = run(['backup', 'restore', copyOf(t.other, dir), file, '--yes'])
  assert.is(human.code, 0)
  assert.match(human.stderr, 'Warning: smart licensing stays enabled')
  assert.match(human.stdout, 'register again with a registration token')
  assert.match(human.stdout, 'The root and admin passwords are now those of the backup')
})

test('same serial: the registration is restored as it was in the backup', async () => {
  const unit = copyOf(t.src, dir)
  writeRegistered(unit, (await inspect(unit)).hardware.serial)
  const registered = (await inspect(unit)).licensing
  const file = backupOf(unit, 'same-serial.enc')
  assert.is(runJson(['factory-reset', unit, '-v', '--yes']).code, 0)
  assert.is((await inspect(unit)).licensing.registration.status, 'Unregistered')
  const r = restore(unit, file)
  assert.is(r.code, 0, r.stdout)
  assert.is(r.json.registration, 'restored')
  assert.equal(r.json.warnings, [])
  assert.equal((await inspect(unit)).licensing, registered)
  assert.is(statSync(join(unit, P.agentKey)).mode & 0o777, 0o600)
})

test('without --yes it asks "Are you sure you want to continue [YES/NO]?" on piped stdin: NO cancels (exit 0), no answer is exit 2, both leave the unit unchanged', async () => {
  const unit = copyOf(t.src, dir)
  const file = backupOf(unit, 'ask.enc')
  assert.is(run(['network', 'set', unit, '--hostname', 'changed']).code, 0)
  const before = hashAll(unit)
  const no = run(['backup', 'restore', unit, file], {input: 'NO\n'})
  assert.is(no.code, 0, no.stderr)
  assert.match(no.stdout, 'Are you sure you want to continue [YES/NO]?')
  assert.match(no.stdout, 'Restore cancelled; nothing changed')
  assert.is(hashAll(unit), before)
  const noJson = runJson(['backup', 'restore', unit, file], {input: 'no\n'})
  assert.is(noJson.code, 0)
  assert.is(noJson.json.cancelled, true)
  assert.match(noJson.stderr, 'Are you sure you want to continue [YES/NO]?')
  assert.is(hashAll(unit), before)
  const none = runJson(['backup', 'restore', unit, file], {input: ''})
  assert.is(none.code, 2, none.stdout)
  assert.match(none.json.error.message, 'No answer to "Are you sure you want to continue [YES/NO]?"')
  assert.is(hashAll(unit), before)
  const yes = run(['backup', 'restore', unit, file], {input: 'YES\n'})
  assert.is(yes.code, 0, yes.stderr)
  assert.match(yes.stdout, 'The root and admin passwords will become those of the backup')
  assert.match(yes.stdout, 'Restored ')
  assert.is((await inspect(unit)).network.hostname, 'src-c1')
})

test('password sources: --password-file (first line), XWAY_BACKUP_PASSWORD; empty counts as unset, and without a password or terminal it is exit 2 with no file written', async () => {
  const unit = copyOf(t.src, dir)
  const cwd = tempDir()
  const pw = join(pwDir, 'backup.pw')
  writeFileSync(pw, `${PASSWORD}\nnot part of it\n`)
  const none = runJson(['backup', 'create', unit], {cwd, env: {XWAY_BACKUP_PASSWORD: ''}})
  assert.is(none.code, 2, none.stdout)
  assert.match(none.json.error.message, /no backup password/)
  assert.equal(readdirSync(cwd), [])
  const made = runJson(['backup', 'create', unit, '--password-file', pw], {cwd, env: {XWAY_BACKUP_PASSWORD: ''}})
  assert.is(made.code, 0, made.stdout)
  const file = join(cwd, made.json.file)
  assert.is(runJson(['backup', 'inspect', file]).code, 0, 'the environment holds the same password')
  const crlf = join(pwDir, 'crlf.pw')
  writeFileSync(crlf, `${PASSWORD}\r\n`)
  assert.is(runJson(['backup', 'inspect', file, '--password-file', crlf], {env: {XWAY_BACKUP_PASSWORD: 'ignored: the file comes first'}}).code, 0)
  assert.is(runJson(['backup', 'inspect', file], {env: {XWAY_BACKUP_PASSWORD: ''}}).code, 2)
  const before = hashAll(unit)
  assert.is(runJson(['backup', 'restore', unit, file, '--yes'], {env: {XWAY_BACKUP_PASSWORD: ''}}).code, 2)
  assert.is(hashAll(unit), before)
})

test('a wrong password is exit 4, for inspect and restore, and the unit is unchanged', async () => {
  const unit = copyOf(t.src, dir)
  const file = backupOf(unit, 'wrong.enc')
  const before = hashAll(unit)
  const r = restore(unit, file, [], {env: {XWAY_BACKUP_PASSWORD: 'not the password'}})
  assert.is(r.code, 4, r.stdout)
  assert.match(r.json.error.message, 'wrong password')
  assert.is(hashAll(unit), before)
  assert.is(runJson(['backup', 'inspect', file], {env: {XWAY_BACKUP_PASSWORD: 'not the password'}}).code, 4)
})

test('a backup is not written inside the unit it backs up (exit 2)', async () => {
  const unit = copyOf(t.src, dir)
  const before = hashAll(unit)
  const r = runJson(['backup', 'create', unit, '-o', join(unit, 'tandberg', 'b.enc')])
  assert.is(r.code, 2, r.stdout)
  assert.is(hashAll(unit), before)
})

test('the password appears in no output of any command and in no file of any unit', async () => {
  assert.ok(outputs.length > 60)
  const needle = PASSWORD.normalize('NFC')
  for (const out of outputs) assert.not.ok(out.includes(needle), `output holds the password: ${out.slice(0, 200)}`)
  assert.is(fileHolding(dir, PASSWORD), null)
})

test.after(() => cleanup())
test.run()
