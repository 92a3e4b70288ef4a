import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'

import {Ajv} from 'ajv'
import {load} from 'js-yaml'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'

import {loadLab, loadProfile, profilesDir} from '../../src/profile/load.js'

const test = suite('bundled profiles')
const VERSIONS = ['X14.0.2', 'X14.2.0']
const dir = profilesDir()
const yamlFiles = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()

test('the bundled folder holds the profiles SPEC 3a and the brief name', async () => {
  for (const name of ['default.yaml', 'expressway-c.yaml', 'expressway-e.yaml', 'vcs.yaml', 'x14.0.2.yaml', 'demo-lab.yaml', 'schema.json']) {
    assert.ok(readdirSync(dir).includes(name), `${name} is missing from profiles/`)
  }
})

test('every bundled YAML file starts with the yaml-language-server schema comment', async () => {
  for (const name of yamlFiles) {
    const first = readFileSync(join(dir, name), 'utf8').split('\n')[0]
    assert.is(first, '# yaml-language-server: $schema=./schema.json', name)
  }
})

test('default.yaml is an X14.2.0 Expressway-C, standard edition', async () => {
  const p = loadProfile(join(dir, 'default.yaml'), {versions: VERSIONS})
  assert.is(p.software, 'X14.2.0')
  assert.is(p.brand, 'expressway')
  assert.is(p.type, 'expressway-c')
  assert.is(p.edition, 'standard')
  assert.is(p.file, join(dir, 'default.yaml'))
})

test('expressway-c, expressway-e, vcs and x14.0.2 load with their brand, type and version', async () => {
  const cases: Array<[string, string, string, string]> = [
    ['expressway-c.yaml', 'X14.2.0', 'expressway', 'expressway-c'],
    ['expressway-e.yaml', 'X14.2.0', 'expressway', 'expressway-e'],
    ['vcs.yaml', 'X14.2.0', 'vcs', 'expressway-c'],
    ['x14.0.2.yaml', 'X14.0.2', 'expressway', 'expressway-c'],
  ]
  for (const [file, software, brand, type] of cases) {
    const p = loadProfile(join(dir, file), {versions: VERSIONS})
    assert.equal([p.software, p.brand, p.type], [software, brand, type], file)
  }

  assert.ok(loadProfile(join(dir, 'vcs.yaml')).optionKeys.some((k) => k.startsWith('116341J00-')), 'vcs.yaml shows the AAS key FIPS needs')
})

test('the demo lab is an Expressway-C/E pair on an embedded license server with licenses of each type', async () => {
  const lab = loadLab(join(dir, 'demo-lab.yaml'), {versions: VERSIONS})
  assert.is(lab.name, 'demo-lab')
  assert.equal(lab.units.map((u) => u.profile.type).sort(), ['expressway-c', 'expressway-e'])
  assert.ok(lab.units.every((u) => u.profile.brand === 'expressway' && u.profile.software === 'X14.2.0'))
  assert.is(lab.licenseServer.embedded, true)
  if (lab.licenseServer.embedded) {
    const {rms, room, desktop} = lab.licenseServer.licenses
    assert.ok(rms > 0 && room > 0 && desktop > 0)
  }

  const hostnames = lab.units.map((u) => u.profile.network.hostname)
  assert.equal(hostnames, lab.units.map((u) => u.name), 'hostnames follow the unit names')
})

test('bundled files use documentation addresses and lab.example only', async () => {
  for (const name of yamlFiles) {
    const text = readFileSync(join(dir, name), 'utf8')
    for (const ip of text.match(/\b\d{1,3}(\.\d{1,3}){3}\b/g) ?? []) {
      assert.ok(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./.test(ip), `${name}: ${ip} is not a documentation address`)
    }

    for (const domain of text.match(/\bdomain: \S+/g) ?? []) assert.is(domain, 'domain: lab.example', name)
  }
})

test('bundled profiles hold no clear-text password', async () => {
  for (const name of yamlFiles.filter((f) => f !== 'demo-lab.yaml')) {
    const p = loadProfile(join(dir, name))
    for (const source of Object.values(p.passwords)) {
      assert.ok('fromEnv' in source || source.hash.startsWith('$6$'), name)
    }

    assert.not.match(readFileSync(join(dir, name), 'utf8').replaceAll(/^#.*$/gm, ''), /password:/i, name)
  }
})

test('schema.json compiles as an editor would use it, and accepts every bundled file', async () => {
  const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8'))
  assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#')
  const ajv = new Ajv({allErrors: true, strict: false})
  const validate = ajv.compile(schema)
  for (const name of yamlFiles) {
    const ok = validate(load(readFileSync(join(dir, name), 'utf8')))
    assert.ok(ok, `${name}: ${JSON.stringify(validate.errors)}`)
  }

  assert.not.ok(validate({software: 'X14.2.0', fips: 'yes'}))
  assert.not.ok(validate({kind: 'Lab', units: [{name: 'a'}]}))
})

test.run()
