import {mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {hashTree} from '../../src/unit/fsutil.js'
import {cleanup, ROOT, tempDir, xwayJson} from '../support/run.js'

const LAB = join(ROOT, 'test', 'fixtures', 'profiles', 'lab', 'lab.yaml')

test('lab up refuses --out on a non-empty folder that is not a lab (exit 3), leaving it unchanged', () => {
  const out = tempDir()
  writeFileSync(join(out, 'notes.txt'), 'my own files\n')
  mkdirSync(join(out, 'units'))
  const before = hashTree(out)
  const r = xwayJson(['lab', 'up', LAB, '--out', out], {env: {LAB_TOKEN: 'unused'}})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /is not empty and is not a lab \(it has no lab\.json\)/)
  assert.ok(r.json.error.actions.some((a: string) => a.includes('exit 3')))
  assert.is(hashTree(out), before)
  assert.equal(readdirSync(out).sort(), ['notes.txt', 'units'])
})

test('lab up refuses --out naming a file (exit 3), leaving it unchanged', () => {
  const dir = tempDir()
  const file = join(dir, 'out')
  writeFileSync(file, 'a file\n')
  const r = xwayJson(['lab', 'up', LAB, '--out', file], {env: {LAB_TOKEN: 'unused'}})
  assert.is(r.code, 3, r.stdout)
  assert.match(r.json.error.message, /exists and is not a folder/)
  assert.equal(readdirSync(dir), ['out'])
})

test.after.each(() => cleanup())
test.run()
