import {readFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {P} from '../support/paths.js'
import {cleanup, PROFILES, tempDir, writeProfile} from '../support/run.js'
import {copyOf, hashAll, inspect, runJson, template} from './backup-helpers.js'

const dir = tempDir('xway-cluster-')
const t: Record<string, string> = {}

test.before(() => {
  t.a = template(dir, 't-a', undefined, 'a')
  t.b = template(dir, 't-b', undefined, 'b')
  t.select = template(dir, 't-select', writeProfile(dir, 'apiVersion: xway/v1\nkind: Unit\nsoftware: X14.2.0\nedition: select\n', 'select.yaml'), 'select')
  t.legacy = template(dir, 't-legacy', join(PROFILES, 'x14.0.2.yaml'), 'legacy')
})

const clusterFile = (unit: string) => readFileSync(join(unit, P.cluster), 'utf8')

test('create writes the same cluster configuration on every unit: {cluster: {name, primary, peers}, units}', async () => {
  const a = copyOf(t.a, dir)
  const b = copyOf(t.b, dir)
  const c = copyOf(t.b, dir)
  const r = runJson(['cluster', 'create', a, b, c])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.equal(r.json.units, [a, b, c])
  assert.is(r.json.cluster.name, 'exp-c1-cluster.lab.example')
  assert.equal(r.json.cluster.peers.map((p: string) => resolve(a, p)), [a, b, c])
  assert.is(resolve(a, r.json.cluster.primary), a)
  // siblings: one identical file on every peer, and each resolves its peers from where it is
  assert.is(clusterFile(b), clusterFile(a))
  assert.is(clusterFile(c), clusterFile(a))
  assert.equal((await inspect(c)).cluster, r.json.cluster)
  assert.match(readFileSync(join(b, P.audit), 'utf8'), /"command":"cluster create"/)
  const named = runJson(['cluster', 'create', copyOf(t.a, dir), copyOf(t.b, dir), '--name', 'expc.lab.example'])
  assert.is(named.json.cluster.name, 'expc.lab.example')
})

test('refuses a unit already in a cluster (exit 3) and changes none of the units', async () => {
  const a = copyOf(t.a, dir)
  const b = copyOf(t.b, dir)
  const c = copyOf(t.b, dir)
  assert.is(runJson(['cluster', 'create', a, b]).code, 0)
  const before = [a, b, c].map(hashAll)
  const r = runJson(['cluster', 'create', c, b])
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /already in the cluster/)
  assert.ok(r.json.error.actions.some((x: string) => x.includes('xway cluster leave')))
  assert.equal([a, b, c].map(hashAll), before)
})

test('refuses mixing Select and standard, software versions, or giving a unit twice; changes nothing', async () => {
  const a = copyOf(t.a, dir)
  const s = copyOf(t.select, dir)
  const l = copyOf(t.legacy, dir)
  const before = [a, s, l].map(hashAll)
  const edition = runJson(['cluster', 'create', a, s])
  assert.is(edition.code, 3, edition.stdout)
  assert.match(edition.json.error.message, 'a cluster cannot mix Select and standard')
  const version = runJson(['cluster', 'create', a, l])
  assert.is(version.code, 3, version.stdout)
  assert.match(version.json.error.message, /X14\.0\.2/)
  const twice = runJson(['cluster', 'create', a, a])
  assert.is(twice.code, 2, twice.stdout)
  assert.equal([a, s, l].map(hashAll), before)
})

test('refuses cluster configuration on an Unauthorized unit (evaluation over, not registered)', async () => {
  const a = copyOf(t.a, dir)
  const b = copyOf(t.b, dir)
  const r = runJson(['cluster', 'create', a, b], {env: {XWAY_NOW: '2027-01-01T00:00:00Z'}})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /Unauthorized/)
  assert.is((await inspect(a)).cluster, null)
})

test('leave clears the unit\'s cluster configuration; on a unit in no cluster it says so and exits 0', async () => {
  const a = copyOf(t.a, dir)
  const b = copyOf(t.b, dir)
  assert.is(runJson(['cluster', 'create', a, b]).code, 0)
  const r = runJson(['cluster', 'leave', b])
  assert.is(r.code, 0, r.stdout)
  assert.equal(r.json, {unit: b, left: 'exp-c1-cluster.lab.example'})
  assert.equal(JSON.parse(clusterFile(b)), {cluster: null})
  assert.is.not((await inspect(a)).cluster, null, 'the other peers keep theirs')
  const before = hashAll(b)
  const again = runJson(['cluster', 'leave', b])
  assert.is(again.code, 0)
  assert.equal(again.json, {unit: b, left: null})
  assert.is(hashAll(b), before)
})

test.after(() => cleanup())
test.run()
