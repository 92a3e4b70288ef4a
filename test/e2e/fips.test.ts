import {generateKeyPairSync} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {openSshPrivateKey, openSshPublicKey} from '../../src/crypto/ssh.js'
import {certificateInfo, issueCertificate} from '../../src/crypto/x509.js'
import {hashTree} from '../../src/unit/fsutil.js'
import {isTransient, P, sshKeyPath} from '../support/paths.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, writeProfile, xwayJson} from '../support/run.js'

const test = suite('fips')
const NOW = '2026-03-01T00:00:00Z'
const env = {XWAY_NOW: NOW}
const hash = (unit: string, filter: (rel: string) => boolean = () => true) => hashTree(unit, (rel) => !isTransient(rel) && filter(rel))

let dir: string
const templates: Record<string, string> = {}

const copyOf = (name: string) => copyUnit(templates[name])

const inspect = (unit: string) => xwayJson(['image', 'inspect', unit], {env}).json
const verify = (unit: string) => xwayJson(['image', 'verify', unit])

test.before(() => {
  dir = tempDir()
  templates.vcs = makeUnit(dir, {name: 't-vcs', profile: join(PROFILES, 'vcs.yaml')})
  templates.expC = makeUnit(dir, {name: 't-exp-c', profile: join(PROFILES, 'expressway-c.yaml')})
  templates.vcsNoAas = makeUnit(dir, {name: 't-vcs-no-aas', profile: writeProfile(dir, 'apiVersion: xway/v1\nkind: Unit\nsoftware: X14.2.0\nbrand: vcs\n', 'vcs-no-aas.yaml')})
  templates.select = makeUnit(dir, {
    name: 't-select',
    profile: writeProfile(dir, 'apiVersion: xway/v1\nkind: Unit\nsoftware: X14.2.0\nedition: select\noptionKeys: [116341J00-1-4E5F6A7B]\n', 'select.yaml'),
  })
})

test('status: {unit, fips: {enabled}, policy, available, reason}', async () => {
  const r = xwayJson(['fips', 'status', templates.vcs], {env})
  assert.is(r.code, 0)
  assert.equal(r.json, {unit: templates.vcs, fips: {enabled: false, enabledAt: null}, policy: 'default', available: true, reason: null})
  const std = xwayJson(['fips', 'status', templates.expC], {env}).json
  assert.is(std.available, false)
  assert.match(std.reason, /FIPS140-2 cryptographic mode is not available under export control/)
})

test('enter is refused on a standard-edition Expressway X14.2 (exit 3, unchanged)', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  const r = xwayJson(['fips', 'enter', unit], {env})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /FIPS140-2 cryptographic mode is not available under export control/)
  assert.is(hash(unit), before)
})

test('enter needs the J00 key on a VCS (exit 3 naming the key, unchanged)', async () => {
  const unit = copyOf('vcsNoAas')
  const before = hash(unit)
  const r = xwayJson(['fips', 'enter', unit], {env})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /Advanced Account Security option key \(116341J00/)
  assert.is(hash(unit), before)
  assert.is(xwayJson(['fips', 'status', unit], {env}).json.available, false)
})

test('enter on a VCS with J00: ed25519 removed, RSA-3072 and ECDSA P-256 kept, fips.json recorded; the unit verifies under the FIPS policy', async () => {
  const unit = copyOf('vcs')
  const rsaBefore = readFileSync(join(unit, sshKeyPath('rsa')))
  const certBefore = readFileSync(join(unit, P.serverCert))
  const r = xwayJson(['fips', 'enter', unit], {env})
  assert.is(r.code, 0, r.stdout)
  assert.is(r.json.changed, true)
  assert.equal(r.json.rekeyed, {sshKeysRemoved: ['ed25519'], sshKeysGenerated: [], serverCertificateReissued: false})
  assert.equal(r.json.fips, {enabled: true, enabledAt: '2026-03-01T00:00:00.000Z'})
  assert.is(r.json.policy, 'fips')
  assert.equal(JSON.parse(readFileSync(join(unit, P.fips), 'utf8')), {enabled: true, enabledAt: '2026-03-01T00:00:00.000Z'})
  assert.not.ok(existsSync(join(unit, sshKeyPath('ed25519'))))
  assert.not.ok(existsSync(join(unit, `${sshKeyPath('ed25519')}.pub`)))
  assert.ok(readFileSync(join(unit, sshKeyPath('rsa'))).equals(rsaBefore))
  assert.ok(readFileSync(join(unit, P.serverCert)).equals(certBefore))
  const after = (await inspect(unit))
  assert.is(after.fips.enabled, true)
  assert.equal(after.ssh.hostKeys.map((k: {type: string; bits: number}) => `${k.type}-${k.bits}`), ['rsa-3072', 'ecdsa-256'])
  assert.is(xwayJson(['fips', 'status', unit], {env}).json.policy, 'fips')
  assert.match(readFileSync(join(unit, P.audit), 'utf8'), /"command":"fips enter"/)
  assert.is(verify(unit).code, 0)

  const again = hash(unit)
  const second = xwayJson(['fips', 'enter', unit], {env})
  assert.is(second.code, 0)
  assert.is(second.json.changed, false)
  assert.is(hash(unit), again)
})

test('enter re-keys what FIPS does not approve: RSA-2048 and P-521 host keys, DSA, an RSA-1024 server key', async () => {
  const unit = copyOf('select')
  const put = (type: string, key: ReturnType<typeof generateKeyPairSync>['privateKey']) => {
    writeFileSync(join(unit, sshKeyPath(type)), openSshPrivateKey(key, 'root@weak'), {mode: 0o600})
    writeFileSync(join(unit, `${sshKeyPath(type)}.pub`), openSshPublicKey(key, 'root@weak'))
  }
  put('rsa', generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey)
  put('ecdsa', generateKeyPairSync('ec', {namedCurve: 'P-521'}).privateKey)
  writeFileSync(join(unit, sshKeyPath('dsa')), 'not really a key\n', {mode: 0o600})
  writeFileSync(join(unit, `${sshKeyPath('dsa')}.pub`), 'ssh-dss AAAA root@weak\n')
  const weak = generateKeyPairSync('rsa', {modulusLength: 1024}).privateKey
  writeFileSync(join(unit, P.serverKey), weak.export({type: 'pkcs8', format: 'pem'}) as string, {mode: 0o600})
  writeFileSync(join(unit, P.serverCert), issueCertificate({subject: {commonName: 'weak.lab.example'}, subjectKey: weak, notBefore: new Date(), days: 30}))

  const r = xwayJson(['fips', 'enter', unit], {env})
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json.rekeyed.sshKeysRemoved.sort(), ['dsa', 'ecdsa', 'ed25519', 'rsa'])
  assert.equal(r.json.rekeyed.sshKeysGenerated, ['rsa-3072', 'ecdsa-256'])
  assert.is(r.json.rekeyed.serverCertificateReissued, true)
  assert.not.ok(existsSync(join(unit, sshKeyPath('dsa'))))
  const cert = certificateInfo(readFileSync(join(unit, P.serverCert), 'utf8'))
  assert.ok(cert.keyBits >= 2048)
  assert.is(cert.signatureHash, 'sha256')
  assert.equal((await inspect(unit)).ssh.hostKeys.map((k: {type: string; bits: number}) => `${k.type}-${k.bits}`), ['rsa-3072', 'ecdsa-256'])
  const v = verify(unit)
  assert.is(v.code, 0, v.stdout)
})

test('leave resets the FIPS configuration and keeps every key; the default policy applies again', async () => {
  const unit = copyOf('vcs')
  assert.is(xwayJson(['fips', 'enter', unit], {env}).code, 0)
  const keys = hash(unit, (rel) => rel.startsWith('etc') || rel.startsWith('tandberg/persistent/certs') || rel === 'tandberg' || rel === 'tandberg/persistent')
  const r = xwayJson(['fips', 'leave', unit], {env})
  assert.is(r.code, 0, r.stdout)
  assert.is(r.json.changed, true)
  assert.equal(r.json.fips, {enabled: false, enabledAt: null})
  assert.is(r.json.policy, 'default')
  assert.is(hash(unit, (rel) => rel.startsWith('etc') || rel.startsWith('tandberg/persistent/certs') || rel === 'tandberg' || rel === 'tandberg/persistent'), keys)
  assert.is((await inspect(unit)).fips.enabled, false)
  assert.is(verify(unit).code, 0)
  const before = hash(unit)
  const again = xwayJson(['fips', 'leave', unit], {env})
  assert.is(again.code, 0)
  assert.is(again.json.changed, false)
  assert.is(hash(unit), before)
})

test.after(() => cleanup())
test.run()
