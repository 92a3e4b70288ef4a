import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {fsckAll, sfdisk, sh, TEST_DISK} from '../support/disk.js'
import {cleanup, PROFILES, tempDir, unitHash, writeProfile, xwayJson} from '../support/run.js'

// lab up --format: an Expressway-C/E pair, built and registered, each also written as a disk image
// that lab.json and lab status name; the image holds exactly the unit folder beside it.

function labFile(dir: string): string {
  return writeProfile(dir, `apiVersion: xway/v1
kind: Lab
name: pair-lab
units:
  - name: exp-c1
    profile: ${join(PROFILES, 'expressway-c.yaml')}
  - name: exp-e1
    profile: ${join(PROFILES, 'expressway-e.yaml')}
licenseServer:
  embedded: true
  licenses: { rms: 5, room: 5, desktop: 5 }
`, 'lab.yaml')
}

for (const [format, ext] of [['raw', 'img'], ['qcow2', 'qcow2'], ['ova', 'ova']]) {
  test(`lab up --format ${format}: each unit is a ${format} image equal to its folder, named by lab.json and lab status`, () => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const r = xwayJson(['lab', 'up', labFile(dir), '--out', out, '--concurrency', '2', '--format', format, '--disk-size', TEST_DISK], {timeoutMs: 300_000})
    assert.is(r.code, 0, r.stdout + r.stderr)
    const record = JSON.parse(readFileSync(join(out, 'lab.json'), 'utf8'))
    assert.equal(record.units.map((u: {path: string}) => u.path), [`units/exp-c1.${ext}`, `units/exp-e1.${ext}`])
    for (const u of r.json.units) assert.is(u.registration, 'Registered', u.name)
    for (const name of ['exp-c1', 'exp-e1']) {
      const img = join(out, 'units', `${name}.${ext}`)
      assert.ok(existsSync(img))
      const imp = xwayJson(['image', 'import', img, join(dir, `imported-${name}`)])
      assert.is(imp.code, 0, imp.stdout)
      assert.is(imp.json.format, format)
      assert.is(unitHash(join(dir, `imported-${name}`)), unitHash(join(out, 'units', name)), `${name}: the image holds the unit`)
      if (format === 'raw') {
        assert.is(sfdisk(img).label, 'gpt')
        for (const [p, f] of Object.entries(fsckAll(img))) assert.is(f.code, 0, `${name} ${p}: ${f.output}`)
      }
      if (format === 'qcow2') assert.is(sh('qemu-img', ['check', '-f', 'qcow2', img]).code, 0)
      if (format === 'ova') assert.match(sh('tar', ['-tf', img]).stdout, `${name}.ovf`)
    }
    const st = xwayJson(['lab', 'status', out])
    assert.is(st.code, 0, st.stdout)
    assert.equal(st.json.units.map((u: {registration: string}) => u.registration), ['Registered', 'Registered'])
    assert.equal(st.json.units.map((u: {type: string}) => u.type), ['Expressway-C', 'Expressway-E'])
  })
}

test.after.each(() => cleanup())
test.run()
