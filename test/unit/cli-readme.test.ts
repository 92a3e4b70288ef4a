import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {ROOT} from '../support/run.js'

const check = (env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'readme.js'), '--check'], {cwd: ROOT, encoding: 'utf8', env: {...process.env, ...env}})

test('the README\'s command reference is what the commands say (npm run readme writes it), whatever the terminal width', () => {
  for (const env of [{}, {COLUMNS: '40'}, {COLUMNS: '300'}]) {
    const r = check(env)
    assert.is(r.status, 0, r.stderr + r.stdout)
  }
})

test('it lists every command of the manifest with its help, examples included', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
  for (const id of Object.keys(manifest.commands)) {
    const name = `xway ${id.replaceAll(':', ' ')}`
    assert.ok(readme.includes(`### \`${name}\``), name)
  }
  const inspect = readme.slice(readme.indexOf('### `xway image inspect`'))
  assert.match(inspect, /^USAGE\n {2}\$ xway image inspect UNIT/m)
  assert.match(inspect, /EXAMPLES\n {2}\$ xway image inspect \.\/units\/exp-c1/)
})

test.run()
