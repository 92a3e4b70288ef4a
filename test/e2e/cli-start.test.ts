// Start-up: a command the manifest knows starts through bin/fast-path.js (its bundle when the build
// made one), with the same output, errors and exit codes as through oclif's execute(); read-only
// commands load none of the heavy libraries. Timing itself is measured by `npm run bench`.
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {fastCommand} from '../../bin/fast-path.js'
import {BIN, cleanup, makeUnit, ROOT, tempDir} from '../support/run.js'

const dir = tempDir()
const unit = makeUnit(dir)
const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8'))
const env = {...process.env, XWAY_DEBUG: '', XWAY_NOW: '2026-01-01T00:00:00Z', FORCE_COLOR: '0'}

function spawn(args: string[], input = '') {
  const r = spawnSync(process.execPath, args, {cwd: ROOT, env, input, encoding: 'utf8', timeout: 60_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

/** The same command through @oclif/core's execute(), as bin/run.js ran every command before. */
function throughOclif(args: string[]) {
  const script = `import('@oclif/core').then((o) => o.execute({dir: ${JSON.stringify(pathToFileURL(BIN).href)}, args: ${JSON.stringify(args)}}))`
  return spawn(['--input-type=module', '-e', script])
}

test('fastCommand finds the command id as oclif does, and leaves help, topics and unknown words to oclif', () => {
  const f = fastCommand(['image', 'inspect', './u', '--json'], manifest)!
  assert.is(f.id, 'image:inspect')
  assert.equal(f.argv, ['./u', '--json'])
  assert.ok(f.file.endsWith(join('dist', 'commands', 'image', 'inspect.js')))
  assert.is(fastCommand(['licensing', 'reservation', 'install', './u', 'CODE'], manifest)!.id, 'licensing:reservation:install')
  assert.is(fastCommand(['licensing', 'status', './u'], manifest)!.id, 'licensing:status')
  assert.is(fastCommand(['factory-reset', './u', '-v', '--yes'], manifest)!.id, 'factory-reset')
  // a unit named like a command word is an argument
  assert.equal(fastCommand(['image', 'inspect', 'inspect'], manifest)!.argv, ['inspect'])
  for (const argv of [[], ['image'], ['licensing', 'reservation'], ['image', 'inspect', '--help'], ['image', '--help', 'inspect'], ['nosuch', 'command'], ['--version', 'x'], ['help', 'image']]) {
    assert.is(fastCommand(argv, manifest), undefined, argv.join(' '))
  }
  // "--help" after "--" is an argument, as for oclif
  assert.is(fastCommand(['image', 'inspect', '--', '--help'], manifest)!.id, 'image:inspect')
})

const cases: Array<[string, string[]]> = [
  ['a result', ['image', 'inspect', '<unit>', '--json']],
  ['human output', ['licensing', 'status', '<unit>']],
  ['a failure', ['image', 'inspect', '<dir>/missing', '--json']],
  ['a failure, human', ['image', 'verify', '<dir>/missing']],
  ['a bad flag value', ['usage', 'set', '<unit>', '--calls', '-1', '--json']],
  ['an unknown flag', ['image', 'inspect', '<unit>', '--bogus']],
  ['a missing argument', ['image', 'verify', '--json']],
  ['too many arguments', ['image', 'inspect', '<unit>', 'extra']],
]
for (const [what, args] of cases) {
  test(`bin/run.js and oclif's execute() print the same, exit the same: ${what}`, () => {
    const argv = args.map((a) => a.replace('<unit>', unit).replace('<dir>', dir))
    const fast = spawn([BIN, ...argv])
    const oclif = throughOclif(argv)
    assert.is(fast.code, oclif.code, `${fast.stderr} / ${oclif.stderr}`)
    assert.is(fast.stdout, oclif.stdout)
    assert.is(fast.stderr, oclif.stderr)
  })
}

test('--help, a topic and --version are oclif\'s own', () => {
  for (const argv of [['image', 'inspect', '--help'], ['image'], ['--help']]) {
    const fast = spawn([BIN, ...argv])
    assert.is(fast.code, 0, argv.join(' '))
    assert.is(fast.stdout, throughOclif(argv).stdout, argv.join(' '))
  }
  assert.match(spawn([BIN, 'image', 'inspect', '--help']).stdout, /EXAMPLES[\s\S]*EXIT CODES/)
  assert.is(spawn([BIN, '--version']).stdout, throughOclif(['--version']).stdout)
})

test('the build bundled the read-only commands for this manifest', () => {
  const index = JSON.parse(readFileSync(join(ROOT, 'dist', 'bundle', 'index.json'), 'utf8'))
  assert.is(index.version, manifest.version)
  for (const id of ['image:inspect', 'image:verify', 'licensing:status']) {
    assert.ok(index.commands[id], id)
    assert.is(fastCommand(id.split(':'), manifest)!.bundle, join(ROOT, ...index.commands[id]))
  }
})

test('read-only commands load no heavy library and not the whole of oclif', () => {
  // CommonJS modules from require.cache; ES modules from a resolve hook (a worker, so it writes to a file)
  const log = join(dir, 'loaded.txt')
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(hooks, `import {appendFileSync} from 'node:fs'\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r }\n`)
  const register = join(dir, 'register.mjs')
  writeFileSync(register, `import {register} from 'node:module'\nimport {appendFileSync} from 'node:fs'\nimport {createRequire} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(hooks).href)})\nconst require = createRequire(import.meta.url)\nprocess.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(require.cache).join('\\n') + '\\n'))\n`)
  for (const args of [['image', 'inspect', unit, '--json'], ['licensing', 'status', unit, '--json'], ['image', 'verify', unit, '--json'], ['image', 'inspect', unit]]) {
    writeFileSync(log, '')
    const r = spawn(['--import', pathToFileURL(register).href, BIN, ...args])
    assert.is(r.code, 0, r.stderr)
    const loaded = readFileSync(log, 'utf8')
    assert.match(loaded, /dist\/bundle\//, 'the bundle ran')
    for (const heavy of ['node-forge', 'ajv', 'js-yaml', 'listr2', 'better-sqlite3', '@oclif/core/lib/index.js', '@oclif/core/lib/help/']) {
      assert.not.ok(loaded.includes(heavy), `${args.slice(0, 2).join(' ')} loaded ${heavy}`)
    }
  }
})

test.after(() => cleanup())

test.run()
