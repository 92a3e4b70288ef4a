// SPEC 7: no command reads, writes or deletes anything outside the unit it was given, whatever the
// unit holds. Links are planted at every level of SPEC 2's table (the tool folder, its audit log,
// every folder an area lives in, area files) and every changing command runs on the unit; an
// outside folder the links point at is compared byte for byte afterwards, and a refused command
// leaves the unit byte-for-byte unchanged.
import {execFileSync} from 'node:child_process'
import {cpSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {recoverUnit} from '../../src/areas/open.js'
import {createBackup} from '../../src/backup/create.js'
import {restoreBackup} from '../../src/backup/restore.js'
import {XwayError} from '../../src/errors.js'
import {registerUnit} from '../../src/agent/agent.js'
import {reservationEnable} from '../../src/agent/reservation.js'
import {setTransport} from '../../src/agent/transport.js'
import {bootUnit} from '../../src/lifecycle/boot.js'
import {convertUnit} from '../../src/lifecycle/convert.js'
import {factoryReset} from '../../src/lifecycle/factory-reset.js'
import {enterFips, leaveFips} from '../../src/lifecycle/fips.js'
import {setMgmt, setNetwork} from '../../src/lifecycle/network.js'
import {addOptionKey} from '../../src/lifecycle/option-keys.js'
import {upgradeUnit} from '../../src/lifecycle/upgrade.js'
import {setUsage} from '../../src/lifecycle/usage.js'
import {verifyUnit} from '../../src/report/verify.js'
import {hashTree} from '../../src/unit/fsutil.js'
import {P} from '../support/paths.js'
import {cleanup, makeUnit, PROFILES, tempDir, unitHash, writeProfile, xwayJson} from '../support/run.js'

const AT = new Date('2026-03-01T00:00:00Z')
const PASSWORD = 'correct horse battery staple'

/** Folders of SPEC 2's table and the folders leading to them: each is replaced by a link to an outside copy. */
const FOLDERS = [
  'info', 'tandberg', 'tandberg/etc', 'tandberg/persistent', 'tandberg/persistent/config', 'tandberg/persistent/network',
  'tandberg/persistent/users', 'tandberg/persistent/fips', 'tandberg/persistent/licensing', 'tandberg/persistent/optionkeys',
  'tandberg/persistent/certs', 'tandberg/persistent/certs/sni', 'tandberg/persistent/clusterdb', 'tandberg/.ssh',
  'tandberg/etc/licensing-trust', 'etc', 'etc/ssh', 'mnt', 'mnt/harddisk', 'mnt/harddisk/log', 'mnt/harddisk/factory-reset',
  'var', 'var/lib', 'var/lib/xway',
]
/** Files of areas (and the tool's audit log): each is replaced by a link to an outside file. */
const FILES = [
  P.productInfo, P.ip, P.mgmt, P.users, P.fips, P.licensing, P.optionKeys, P.cluster, P.alarms, P.usage, P.systemKey,
  P.config, P.serverKey, P.releaseKey, P.audit, P.payloadImage,
]

type Run = (unit: string, ctx: {dir: string; backup: string}) => Promise<unknown>
const COMMANDS: Array<[string, Run]> = [
  ['factory-reset --yes', (u) => factoryReset(u, {}, {at: AT})],
  ['factory-reset -v -t -i -l --yes', (u) => factoryReset(u, {brand: true, licensing: true, ip: true, logs: true}, {at: AT})],
  ['backup create', (u, c) => createBackup(u, {output: join(c.dir, 'out.tar.gz.enc'), password: PASSWORD, at: AT})],
  ['backup restore', (u, c) => restoreBackup(u, c.backup, PASSWORD)],
  ['network set', (u) => setNetwork(u, {hostname: 'moved', dns: ['192.0.2.99']})],
  ['network mgmt', (u) => setMgmt(u, {address: '198.51.100.9/24'})],
  ['boot', (u) => bootUnit(u, AT)],
  ['image recover', (u) => recoverUnit(u)],
  ['convert', (u) => convertUnit(u, {type: 'Expressway-E'}, AT)],
  ['upgrade', (u) => upgradeUnit(u, 'X14.2.0', AT)],
  ['fips enter', (u) => enterFips(u, AT)],
  ['fips leave', (u) => leaveFips(u)],
  ['option-keys add', (u) => addOptionKey(u, '116341C00-1-ABCD1234')],
  ['usage set', (u) => setUsage(u, {calls: 7}, AT)],
  ['licensing transport', (u) => setTransport(u, {mode: 'on-prem', url: 'https://127.0.0.1:9/SmartTransport'})],
  ['licensing register', (u) => registerUnit(u, {token: 'NOT-A-REAL-TOKEN'}, AT)],
  ['licensing reservation enable', (u) => reservationEnable(u, true)],
]

const links = suite('links')
let dir: string
let templates: {x142: string; legacy: string; select: string}
let backup: string

links.before(async () => {
  dir = tempDir()
  templates = {
    x142: makeUnit(dir, {name: 't-x142', profile: join(PROFILES, 'expressway-c.yaml'), seed: 'links'}),
    legacy: makeUnit(dir, {name: 't-legacy', profile: join(PROFILES, 'x14.0.2.yaml'), seed: 'links'}),
    select: makeUnit(dir, {name: 't-select', seed: 'links', profile: writeProfile(dir, `apiVersion: xway/v1
kind: Unit
software: X14.2.0
edition: select
optionKeys: [116341J00-1-ABCD1234]
network: {hostname: sel, domain: lab.example, dns: [192.0.2.53], lan1: {address: 192.0.2.12/24, gateway: 192.0.2.1}}
`, 'select.yaml')}),
  }
  for (const t of Object.values(templates)) {
    mkdirSync(join(t, P.sniDir), {recursive: true})
    writeFileSync(join(t, P.logDir, 'messages.log'), 'a log line\n'.repeat(100))
    writeFileSync(join(t, P.audit), '')
  }
  backup = join(dir, 'clean.tar.gz.enc')
  await createBackup(templates.x142, {output: backup, password: PASSWORD, at: AT})
})

let n = 0
/** A copy of a template with `rel` moved outside the unit and a link left in its place; returns both. */
function planted(template: string, rel: string): {unit: string; outside: string} {
  const unit = join(dir, `u${n++}`)
  cpSync(template, unit, {recursive: true, verbatimSymlinks: true})
  const outside = join(dir, `outside${n}`)
  mkdirSync(outside)
  renameSync(join(unit, rel), join(outside, 'moved'))
  symlinkSync(join(outside, 'moved'), join(unit, rel))
  return {unit, outside}
}

async function outcome(run: Run, unit: string): Promise<number> {
  try {
    await run(unit, {dir: join(dir, 'spare'), backup})
    return 0
  } catch (error) {
    if (error instanceof XwayError) return error.exitCode
    throw error
  }
}

function templateFor(command: string): string {
  if (command === 'upgrade') return templates.legacy
  if (command.startsWith('fips') || command.startsWith('option-keys')) return templates.select
  return templates.x142
}

links('every changing command refuses (exit 4) a unit whose tool folder or area folder is a link, touching nothing outside and nothing inside', async () => {
  mkdirSync(join(dir, 'spare'), {recursive: true})
  for (const rel of FOLDERS) {
    for (const [name, run] of COMMANDS) {
      const {unit, outside} = planted(templateFor(name), rel)
      const outsideBefore = hashTree(outside)
      const unitBefore = unitHash(unit)
      const code = await outcome(run, unit)
      assert.is(code, 4, `${name} with ${rel} a link: exit ${code}`)
      assert.is(hashTree(outside), outsideBefore, `${name} with ${rel} a link changed the outside folder`)
      assert.is(unitHash(unit), unitBefore, `${name} with ${rel} a link changed the unit`)
      rmSync(unit, {recursive: true, force: true})
    }
  }
})

links('a link where an area file is expected is never followed: the outside file is untouched, and a refusal leaves the unit unchanged', async () => {
  for (const rel of FILES) {
    for (const [name, run] of COMMANDS) {
      const {unit, outside} = planted(templateFor(name), rel)
      const outsideBefore = hashTree(outside)
      const unitBefore = unitHash(unit)
      const code = await outcome(run, unit)
      assert.is(hashTree(outside), outsideBefore, `${name} with ${rel} a link changed the outside file`)
      // exit 6 is the agent's "server unreachable": it records Registration Pending by design (SPEC 4)
      if (code === 3 || code === 4) assert.is(unitHash(unit), unitBefore, `${name} with ${rel} a link was refused (exit ${code}) but changed the unit`)
      assert.ok(code === 0 || code === 3 || code === 4 || (code === 6 && name === 'licensing register'), `${name} with ${rel} a link: exit ${code}`)
      rmSync(unit, {recursive: true, force: true})
    }
  }
})

links('a link planted inside the outside folder\'s path at depth (a linked parent two levels up) is refused the same way', async () => {
  const {unit, outside} = planted(templates.x142, 'tandberg')
  const before = hashTree(outside)
  for (const [name, run] of COMMANDS.filter(([c]) => !c.startsWith('fips') && !c.startsWith('option') && c !== 'upgrade')) {
    assert.is(await outcome(run, unit), 4, name)
  }
  assert.is(hashTree(outside), before)
})

links('image verify reports a link leaving the unit, a link where a folder is expected, a FIFO and a corrupt payload', async () => {
  const {unit} = planted(templates.x142, 'tandberg/persistent/network')
  symlinkSync('/etc/passwd', join(unit, P.logDir, 'passwd.log'))
  symlinkSync('../../../../../../..', join(unit, P.logDir, 'up'))
  symlinkSync('messages.log', join(unit, P.logDir, 'inside.log'))
  writeFileSync(join(unit, P.payloadImage), 'truncated')
  execFileSync('mkfifo', [join(unit, P.logDir, 'pipe')])
  const r = await verifyUnit(unit)
  assert.is(r.ok, false)
  const by = (path: string) => r.problems.find((p) => p.path === path)?.problem ?? ''
  assert.match(by('tandberg/persistent/network'), /symbolic link where a folder is expected/)
  assert.match(by(`${P.logDir}/passwd.log`), /leaving the unit/)
  assert.match(by(`${P.logDir}/up`), /leaving the unit/)
  assert.is(by(`${P.logDir}/inside.log`), '', 'a link that stays inside is not a problem')
  assert.match(by(P.payloadImage), /corrupt/)
  assert.match(by(`${P.logDir}/pipe`), /device, FIFO or socket/)
  const cli = xwayJson(['image', 'verify', unit])
  assert.is(cli.code, 1)
})

links.after(() => cleanup())
links.run()
