import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup, PROFILES, tempDir, writeProfile, xway, xwayJson} from '../support/run.js'

function labFile(dir: string, extra = ''): string {
  return writeProfile(dir, `apiVersion: xway/v1
kind: Lab
name: test-lab
units:
  - name: c{n}
    profile: ${join(PROFILES, 'expressway-c.yaml')}
    count: 3
    set:
      network: { hostname: "c{n}" }
  - name: vcs1
    profile: ${join(PROFILES, 'vcs.yaml')}
licenseServer:
  embedded: true
  licenses: { rms: 5, room: 5, desktop: 5 }
${extra}`, 'lab.yaml')
}

test('lab up builds every unit, registers the Expressways to an embedded server, and lab status tabulates them', async () => {
  const dir = tempDir()
  const out = join(dir, 'out')
  const r = xwayJson(['lab', 'up', labFile(dir), '--out', out, '--concurrency', '2'])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.is(r.json.lab, 'test-lab')
  assert.is(r.json.licenseServer.embedded, true)
  assert.match(r.json.licenseServer.url, /^https:\/\/127\.0\.0\.1:\d+\/SmartTransport$/)
  const byName = Object.fromEntries(r.json.units.map((u: {name: string}) => [u.name, u]))
  assert.equal(Object.keys(byName).sort(), ['c1', 'c2', 'c3', 'vcs1'])
  for (const n of ['c1', 'c2', 'c3']) assert.is(byName[n].registration, 'Registered', n)
  assert.is(byName.vcs1.registration, 'legacy')
  assert.ok(existsSync(join(out, 'lab.json')))
  assert.ok(existsSync(join(out, 'license-server', 'ca.pem')))

  const instances = xwayJson(['license-server', 'instances', join(out, 'license-server')])
  assert.is(instances.json.instances.length, 3)
  const hostnames = instances.json.instances.map((i: {hostname: string}) => i.hostname).sort()
  assert.equal(hostnames, ['c1', 'c2', 'c3'])

  const s = xwayJson(['lab', 'status', out])
  assert.is(s.code, 0)
  assert.equal(s.json.units.map((u: {name: string; serial: string}) => [u.name, u.serial]), r.json.units.map((u: {name: string; serial: string}) => [u.name, u.serial]))
  assert.match(xway(['lab', 'status', out]).stdout, /UNIT\s+TYPE\s+VERSION\s+SERIAL\s+REGISTRATION/)

  // a second run reuses what is there: same units, nothing rebuilt, still registered
  const again = xwayJson(['lab', 'up', labFile(dir), '--out', out])
  assert.is(again.code, 0, again.stdout)
  assert.equal(again.json.units.map((u: {serial: string}) => u.serial), r.json.units.map((u: {serial: string}) => u.serial))
  assert.is(xwayJson(['license-server', 'instances', join(out, 'license-server')]).json.instances.length, 3)
})

test('lab status refuses a folder that is not a lab (exit 4); lab up refuses a bad lab file (exit 4)', async () => {
  const dir = tempDir()
  assert.is(xwayJson(['lab', 'status', dir]).code, 4)
  const bad = writeProfile(dir, 'apiVersion: xway/v1\nkind: Lab\nunits: 3\n', 'bad.yaml')
  const r = xwayJson(['lab', 'up', bad, '--out', join(dir, 'out')])
  assert.is(r.code, 4)
  assert.match(readFileSync(bad, 'utf8'), /units: 3/)
})

test.after.each(() => cleanup())
test.run()
