import {chmodSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree, walk} from '../../src/unit/fsutil.js'
import {P} from '../support/paths.js'
import {cleanup, makeUnit, PROFILES, tempDir, writeProfile, xway, xwayJson} from '../support/run.js'

const NOW = {XWAY_NOW: '2026-01-01T00:00:00Z'}

test('image create + inspect: the full SPEC 5 contract for an X14.2 Expressway-C', async () => {
  const dir = tempDir()
  const unit = makeUnit(dir)
  const r = xwayJson(['image', 'inspect', unit], {env: NOW})
  assert.is(r.code, 0, r.stderr)
  const j = r.json
  assert.equal(Object.keys(j), ['unit', 'formatVersion', 'brand', 'type', 'edition', 'softwareVersion', 'hardware', 'fips', 'network', 'mgmt', 'ssh', 'certificates', 'users', 'optionKeys', 'licensing', 'usage', 'logs', 'alarms', 'cluster'])
  assert.is(j.unit, unit)
  assert.is(j.formatVersion, 1)
  assert.is(j.brand, 'Expressway')
  assert.is(j.type, 'Expressway-C')
  assert.is(j.softwareVersion, 'X14.2.0')
  assert.is(j.hardware.udi, `PID:${j.hardware.pid},SN:${j.hardware.serial}`)
  assert.equal(j.ssh.hostKeys.map((k: {type: string; bits: number}) => `${k.type}-${k.bits}`), ['rsa-3072', 'ecdsa-256', 'ed25519-256'])
  assert.match(j.ssh.hostKeys[0].fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/)
  assert.match(j.certificates.server.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  assert.equal(j.certificates.sni, [])
  assert.equal(j.users, {root: {default: true}, admin: {default: true}})
  const l = j.licensing
  assert.is(l.mode, 'smart')
  assert.equal(Object.keys(l), ['mode', 'transport', 'hideIdentity', 'registration', 'authorization', 'evaluation', 'unauthorized', 'licenses', 'reservation', 'trustStore'])
  assert.is(l.registration.status, 'Unregistered')
  assert.is(l.authorization.status, 'Evaluation Mode')
  assert.is(l.evaluation.startedAt, '2026-01-01T00:00:00.000Z')
  assert.is(l.evaluation.expiresAt, '2026-04-01T00:00:00.000Z')
  assert.is(l.unauthorized, false)
  assert.equal(l.licenses, [])
  assert.equal(l.reservation, {enabled: false, state: 'none', kind: null, entitlements: []})
  assert.is(l.trustStore[0].subject, 'CN=QuoVadis Root CA 2, O=QuoVadis Limited, C=BM')
  assert.is(l.trustStore[0].fingerprint, '85:A0:DD:7D:D7:20:AD:B7:FF:05:F8:3D:54:2B:20:9D:C7:FF:45:28:F7:D6:77:B1:83:89:FE:A5:E5:C4:9E:86')
  assert.is(l.trustStore[0].lab, false)
  assert.equal(j.usage, {calls: 0, desktop: 0, room: 0, webrtc: false, exportControl: {limit: 2500, state: 'ok'}})
  assert.equal(j.logs, {files: 0, bytes: 0})
  assert.equal(j.alarms, [])
  assert.is(j.cluster, null)
})

test('evaluation expires 90 days after the unit was built, by XWAY_NOW', async () => {
  const unit = makeUnit(tempDir())
  const at = (now: string) => xwayJson(['image', 'inspect', unit], {env: {XWAY_NOW: now}}).json.licensing
  assert.is(at('2026-03-31T23:59:59Z').authorization.status, 'Evaluation Mode')
  const expired = at('2026-04-01T00:00:00Z')
  assert.is(expired.authorization.status, 'Evaluation Expired')
  assert.is(expired.unauthorized, true)
})

test('a VCS unit and an X14.0.2 Expressway show legacy licensing only', async () => {
  const dir = tempDir()
  for (const name of ['vcs', 'x14.0.2']) {
    const unit = makeUnit(dir, {profile: join(PROFILES, `${name}.yaml`), name})
    const j = xwayJson(['image', 'inspect', unit]).json
    assert.equal(j.licensing, {mode: 'legacy'}, name)
  }
})

test('every bundled unit profile builds a unit that verifies', async () => {
  const dir = tempDir()
  for (const name of ['default', 'expressway-c', 'expressway-e', 'vcs', 'x14.0.2']) {
    const unit = makeUnit(dir, {profile: join(PROFILES, `${name}.yaml`), name})
    const r = xwayJson(['image', 'verify', unit])
    assert.is(r.code, 0, `${name}: ${r.stdout}`)
    assert.is(r.json.ok, true)
  }
})

test('same profile + seed + XWAY_NOW give identical units; another seed does not', async () => {
  const dir = tempDir()
  const a = makeUnit(dir, {name: 'a', seed: 'one'})
  const b = makeUnit(dir, {name: 'b', seed: 'one'})
  const c = makeUnit(dir, {name: 'c', seed: 'two'})
  assert.is(hashTree(a), hashTree(b))
  const d = xwayJson(['image', 'diff', a, c])
  assert.is(d.code, 0)
  assert.is(d.json.identical, false)
  assert.ok(d.json.areas.includes('ssh-keys') && d.json.areas.includes('brand') && d.json.areas.includes('bootstrap-key'))
  assert.is(xwayJson(['image', 'diff', a, b]).json.identical, true)
})

test('image create refuses an existing non-empty UNIT and leaves it unchanged', async () => {
  const dir = tempDir()
  const unit = makeUnit(dir)
  const before = hashTree(unit)
  const r = xwayJson(['image', 'create', unit, '--profile', join(PROFILES, 'default.yaml')])
  assert.is(r.code, 3)
  assert.match(r.json.error.message, /exists and is not empty/)
  assert.is(hashTree(unit), before)
})

test('a password read from the environment appears nowhere in the unit or any output', async () => {
  const dir = tempDir()
  const secret = 'S3cret-Env-Passw0rd!'
  const profile = writeProfile(dir, `software: X14.2.0\npasswords:\n  root: { fromEnv: XWAY_ROOT_PASSWORD }\n  admin: { fromEnv: XWAY_ADMIN_PASSWORD }\n`)
  const unit = join(dir, 'unit')
  const env = {XWAY_ROOT_PASSWORD: secret, XWAY_ADMIN_PASSWORD: secret}
  const outputs = [
    xwayJson(['image', 'create', unit, '--profile', profile], {env}),
    xway(['image', 'create', join(dir, 'u2'), '--profile', profile], {env}),
    xwayJson(['image', 'inspect', unit], {env}),
    xway(['image', 'inspect', unit], {env}),
    xwayJson(['image', 'verify', unit], {env}),
  ]
  for (const o of outputs) {
    assert.is(o.code, 0, o.stderr)
    assert.not.ok((o.stdout + o.stderr).includes(secret))
  }
  for (const {rel, stat} of walk(unit)) {
    if (stat.isFile()) assert.not.ok(readFileSync(join(unit, rel)).includes(secret), rel)
  }
  const users = JSON.parse(readFileSync(join(unit, P.users), 'utf8'))
  assert.match(users.root.hash, /^\$6\$/)
  assert.equal(outputs[2].json.users, {root: {default: false}, admin: {default: false}})
})

test('a profile password variable that is not set is a usage error and builds nothing', async () => {
  const dir = tempDir()
  const profile = writeProfile(dir, 'software: X14.2.0\npasswords:\n  root: { fromEnv: XWAY_UNSET_PASSWORD_VAR }\n')
  const r = xwayJson(['image', 'create', join(dir, 'unit'), '--profile', profile])
  assert.is(r.code, 2)
  assert.not.ok(existsSync(join(dir, 'unit')))
})

test('profile errors name file, line, column and field path (exit 4)', async () => {
  const dir = tempDir()
  const profile = writeProfile(dir, 'software: X14.2.0\nfips: "yes"\n')
  const r = xwayJson(['image', 'create', join(dir, 'unit'), '--profile', profile])
  assert.is(r.code, 4)
  assert.match(r.json.error.message, /profile\.yaml: fips: must be boolean \(line 2, column 7\)/)
  const bomb = writeProfile(dir, 'a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n', 'bomb.yaml')
  const rb = xwayJson(['image', 'create', join(dir, 'unit'), '--profile', bomb])
  assert.is(rb.code, 4)
  assert.not.ok(existsSync(join(dir, 'unit')))
})

test('option keys and FIPS that the appliance forbids are refused at build (exit 3)', async () => {
  const dir = tempDir()
  const c00 = writeProfile(dir, 'software: X14.2.0\noptionKeys: [116341C00-1-ABCD1234]\n', 'c00.yaml')
  const r1 = xwayJson(['image', 'create', join(dir, 'u1'), '--profile', c00])
  assert.is(r1.code, 3)
  assert.match(r1.json.error.message, /cannot be added from X14\.2/)
  const fips = writeProfile(dir, 'software: X14.2.0\nfips: true\n', 'fips.yaml')
  const r2 = xwayJson(['image', 'create', join(dir, 'u2'), '--profile', fips])
  assert.is(r2.code, 3)
  assert.match(r2.json.error.message, /FIPS140-2 cryptographic mode is not available under export control/)
})

test('image verify finds loose key permissions, missing halves and mismatched pairs (exit 1)', async () => {
  const unit = makeUnit(tempDir())
  chmodSync(join(unit, P.serverKey), 0o644)
  unlinkSync(join(unit, 'etc/ssh/ssh_host_ed25519_key.pub'))
  const r = xwayJson(['image', 'verify', unit])
  assert.is(r.code, 1)
  const text = r.json.error.actions.join('\n')
  assert.match(text, /server\.key.*0600/)
  assert.match(text, /ssh_host_ed25519_key.*both present/)
  const other = makeUnit(tempDir(), {seed: 'other'})
  chmodSync(join(unit, P.serverKey), 0o600)
  writeFileSync(join(unit, 'etc/ssh/ssh_host_ed25519_key.pub'), readFileSync(join(other, 'etc/ssh/ssh_host_ed25519_key.pub')))
  const r2 = xwayJson(['image', 'verify', unit])
  assert.is(r2.code, 1)
  assert.match(r2.json.error.actions.join('\n'), /does not match/)
})

test('image recover on a sound unit says there is nothing to recover', async () => {
  const unit = makeUnit(tempDir())
  const r = xwayJson(['image', 'recover', unit])
  assert.is(r.code, 0)
  assert.equal(r.json, {unit, recovered: false, action: 'none', command: null})
  assert.match(xway(['image', 'recover', unit]).stdout, /nothing to recover/)
})

test('a unit with an unfinished journal is refused by other commands (exit 5) until recovered', async () => {
  const unit = makeUnit(tempDir())
  writeFileSync(join(unit, P.journal), JSON.stringify({formatVersion: 1, command: 'network set', ops: []}))
  const r = xwayJson(['image', 'inspect', unit])
  assert.is(r.code, 5)
  assert.match(r.json.error.actions[0], /xway image recover/)
  assert.is(xwayJson(['network', 'set', unit, '--hostname', 'x']).code, 5)
  assert.is(xwayJson(['image', 'recover', unit]).json.action, 'rolled-forward')
  assert.is(xwayJson(['image', 'inspect', unit]).code, 0)
})

test('image pack is reproducible and unpack gives back an identical unit', async () => {
  const dir = tempDir()
  const unit = makeUnit(dir)
  mkdirSync(join(unit, P.logDir, 'sub'), {recursive: true})
  writeFileSync(join(unit, P.logDir, 'sub/messages'), 'x'.repeat(300_000))
  const a = join(dir, 'a.tar.gz')
  const b = join(dir, 'b.tar.gz')
  const ra = xwayJson(['image', 'pack', unit, '-o', a])
  assert.is(ra.code, 0, ra.stdout)
  assert.is(xwayJson(['image', 'pack', unit, '-o', b]).code, 0)
  assert.ok(readFileSync(a).equals(readFileSync(b)))
  const copy = join(dir, 'copy')
  const ru = xwayJson(['image', 'unpack', a, copy])
  assert.is(ru.code, 0, ru.stdout)
  assert.is(hashTree(copy), hashTree(unit))
  assert.is(xwayJson(['image', 'diff', unit, copy]).json.identical, true)
  assert.is(xwayJson(['image', 'verify', copy]).code, 0)
})

test('network set and network mgmt change the unit; bad values are refused (exit 2) unchanged', async () => {
  const unit = makeUnit(tempDir())
  const r = xwayJson(['network', 'set', unit, '--hostname', 'exp-c9', '--dns', '192.0.2.1', '--dns', '192.0.2.2', '--lan1', '192.0.2.99/24', '--gateway', '192.0.2.254'])
  assert.is(r.code, 0, r.stdout)
  const before = hashTree(unit)
  for (const bad of [['--hostname', 'bad_name!'], ['--dns', 'not-an-ip'], ['--lan1', '192.0.2.1']]) {
    const rb = xwayJson(['network', 'set', unit, ...bad])
    assert.is(rb.code, 2, bad.join(' '))
    assert.is(hashTree(unit), before)
  }
  assert.is(xwayJson(['network', 'set', unit]).code, 2)
  assert.is(xwayJson(['network', 'mgmt', unit, '--address', '198.51.100.9/24']).code, 0)
  const j = xwayJson(['image', 'inspect', unit]).json
  assert.equal(j.network, {hostname: 'exp-c9', domain: 'lab.example', dns: ['192.0.2.1', '192.0.2.2'], lan1: {address: '192.0.2.99/24', gateway: '192.0.2.254'}})
  assert.equal(j.mgmt, {enabled: true, address: '198.51.100.9/24'})
  assert.is(xwayJson(['network', 'mgmt', unit, '--off']).code, 0)
  assert.equal(xwayJson(['image', 'inspect', unit]).json.mgmt, {enabled: false, address: null})
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"network set"/)
})

test('boot regenerates missing ssh host keys and server certificate; the unit verifies', async () => {
  const unit = makeUnit(tempDir())
  rmSync(join(unit, 'etc/ssh'), {recursive: true})
  unlinkSync(join(unit, P.serverCert))
  assert.is(xwayJson(['image', 'verify', unit]).code, 1)
  const r = xwayJson(['boot', unit])
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.regenerated.filter((p: string) => p.startsWith('etc/ssh/')).length, 6)
  assert.ok(r.json.regenerated.includes(P.serverCert))
  assert.is(xwayJson(['image', 'verify', unit]).code, 0)
  assert.is(xwayJson(['boot', unit]).json.regenerated.length, 0)
})

test('boot re-evaluates the evaluation alarm by the unit\'s clock', async () => {
  const unit = makeUnit(tempDir())
  const alarms = (now: string) => xwayJson(['image', 'inspect', unit], {env: {XWAY_NOW: now}}).json.alarms.map((a: {key: string}) => a.key)
  assert.is(xwayJson(['boot', unit], {env: {XWAY_NOW: '2026-02-01T00:00:00Z'}}).code, 0)
  assert.not.ok(alarms('2026-02-01T00:00:00Z').includes('evaluation-expired'))
  assert.is(xwayJson(['boot', unit], {env: {XWAY_NOW: '2026-04-02T00:00:00Z'}}).code, 0)
  assert.ok(alarms('2026-04-02T00:00:00Z').includes('evaluation-expired'))
})

test('--json errors print one object on stdout; usage errors exit 2; --help shows exit codes', async () => {
  const r = xwayJson(['image', 'inspect'])
  assert.is(r.code, 2)
  assert.equal(Object.keys(r.json.error), ['code', 'message', 'actions'])
  const missing = xwayJson(['image', 'inspect', '/nonexistent/unit'])
  assert.is(missing.code, 4)
  assert.not.match(missing.stdout + missing.stderr, /at .*\.js:\d+/)
  const help = xway(['image', 'inspect', '--help'])
  assert.match(help.stdout, /EXIT CODES[\s\S]*5 {2}unit busy/)
  assert.match(help.stdout, /EXAMPLES/)
})

test.after.each(() => cleanup())
test.run()
