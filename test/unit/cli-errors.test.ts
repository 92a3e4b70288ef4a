import {accessSync, constants, linkSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {createInterface} from 'node:readline/promises'
import {PassThrough} from 'node:stream'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {describeError} from '../../src/cli/base.js'
import {inWords, SYSTEM_ERROR_CODES} from '../../src/cli/system-error.js'
import {BadInputError, errorFor, exitCodeFor, RefusedError, UsageError, XwayError} from '../../src/errors.js'

const dir = mkdtempSync(join(tmpdir(), 'xway-cli-errors-'))
const file = join(dir, 'file.txt')
writeFileSync(file, 'text\n')

/** The error a call throws (it must throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected the call to throw')
}

/** No errno code, no "errno" word, no Node's raw "ENOENT: no such file or directory, open '…'" anywhere the user reads. */
function assertWords(d: {message: string; actions: string[]}, code: string): void {
  const text = [d.message, ...d.actions].join('\n')
  assert.not.ok(text.includes(code), `the raw code ${code} reaches the user: ${text}`)
  assert.not.match(text, /\bE[A-Z]{3,}\b|errno|syscall/)
  assert.ok(d.actions.length > 0 && d.actions.every((a) => a.length > 10), `an action says what to do: ${text}`)
}

const real: Array<[string, () => unknown, string, string]> = [
  // [code, the failing call, exit code name, words the message must hold]
  ['ENOENT', () => readFileSync(join(dir, 'missing.yaml')), 'bad-input', 'no such file or folder'],
  ['ENOTDIR', () => readFileSync(join(file, 'below')), 'bad-input', 'is a file, not a folder'],
  ['EISDIR', () => readFileSync(dir), 'bad-input', 'it is a folder'],
  ['EEXIST', () => mkdirSync(dir), 'bad-input', 'already exists'],
  ['ENOTEMPTY', () => rmdirSync(dir), 'bad-input', 'not empty'],
  ['ENAMETOOLONG', () => readFileSync(join(dir, 'n'.repeat(300))), 'bad-input', 'too long'],
  ['ELOOP', () => {
    const link = join(dir, 'link')
    rmSync(link, {force: true})
    symlinkSync(file, link)
    return openSync(link, constants.O_RDONLY | constants.O_NOFOLLOW)
  }, 'bad-input', 'symbolic link'],
  // even root may not execute a file without an execute bit
  ['EACCES', () => accessSync(file, constants.X_OK), 'failed', 'permission denied'],
  // a hard link to a folder is not permitted, to anyone
  ['EPERM', () => linkSync(dir, join(dir, 'hard')), 'failed', 'not permitted'],
  ['ENOSPC', () => writeFileSync('/dev/full', 'x'), 'failed', 'no space left'],
]

for (const [code, call, exit, words] of real) {
  test(`${code} from a real system call: a sentence with the path and what to do, exit ${exitCodeFor(exit as 'failed')}`, () => {
    const error = thrown(call) as NodeJS.ErrnoException
    assert.is(error.code, code, `the call gave ${error.code}`)
    const d = describeError(error)
    assert.is(d.code, exit)
    assert.match(d.message, words)
    // read(2) and write(2) fail on an open file, without a path; every other call names it
    if (error.syscall === 'read' || error.syscall === 'write') assert.match(d.message, /^Cannot (read|write to) a file: /)
    else assert.ok(error.path !== undefined && d.message.includes(error.path), `${d.message} names ${error.path}`)
    assert.match(d.message, /^Cannot [a-z]/)
    assertWords(d, code)
  })
}

test('a refused connection (loopback, a closed port) says so with the address, exit 6', async () => {
  const error = await new Promise<unknown>((resolve) => {
    const socket = connect({host: '127.0.0.1', port: 1})
    socket.once('error', resolve)
    socket.once('connect', () => {
      socket.destroy()
      resolve(new Error('port 1 answered'))
    })
  })
  assert.is((error as NodeJS.ErrnoException).code, 'ECONNREFUSED')
  const d = describeError(error)
  assert.is(d.code, 'unreachable')
  assert.match(d.message, 'Cannot connect to 127.0.0.1:1: the connection was refused')
  assertWords(d, 'ECONNREFUSED')
})

test('every system error code it knows, shaped as Node shapes them, is told in words with its path', () => {
  assert.ok(SYSTEM_ERROR_CODES.length >= 25)
  for (const code of SYSTEM_ERROR_CODES) {
    const error = Object.assign(new Error(`${code}: something, open '/srv/units/exp-c1'`), {code, errno: -1, syscall: 'open', path: '/srv/units/exp-c1'})
    const d = describeError(error)
    assert.ok(['bad-input', 'failed', 'unreachable'].includes(d.code), code)
    assert.match(d.message, 'Cannot open /srv/units/exp-c1: ')
    assertWords(d, code)
  }
  // a move names both paths
  const rename = Object.assign(new Error('EXDEV: cross-device link not permitted'), {code: 'EXDEV', syscall: 'rename', path: '/a/x', dest: '/b/x'})
  assert.is(describeError(rename).message, 'Cannot move /a/x to /b/x: it cannot be moved across file systems.')
  // a program that cannot be run
  const spawn = Object.assign(new Error('spawn qemu-img ENOENT'), {code: 'ENOENT', syscall: 'spawn qemu-img', path: 'qemu-img'})
  assert.is(describeError(spawn).message, 'Cannot run qemu-img: no such file or folder.')
})

test('an aborted prompt (Ctrl+C: ABORT_ERR from readline) says it was cancelled, exit 1', async () => {
  const input = new PassThrough()
  const rl = createInterface({input, output: new PassThrough()})
  const controller = new AbortController()
  const asked = rl.question('Backup password: ', {signal: controller.signal})
  controller.abort()
  const error = await asked.then(() => new Error('no abort'), (e: unknown) => e)
  rl.close()
  assert.is((error as {code?: string}).code, 'ABORT_ERR')
  const d = describeError(error)
  assert.is(d.code, 'failed')
  assert.match(d.message, /^Cancelled at the prompt \(Ctrl\+C\)/)
  assertWords(d, 'ABORT_ERR')
  // what @inquirer prompts throw on Ctrl+C reads the same
  const exitPrompt = Object.assign(new Error('User force closed the prompt with SIGINT'), {name: 'ExitPromptError'})
  assert.is(describeError(exitPrompt).message, d.message)
})

test('typed errors keep their code, message and actions; data only when they carry some', () => {
  const plain = describeError(new RefusedError('The rule.', {actions: ['Do this instead.']}))
  assert.equal(plain, {code: 'refused', message: 'The rule.', actions: ['Do this instead.']})
  assert.not.ok('data' in plain)
  const problems = [{path: 'tandberg/persistent/systemkey', area: 'bootstrap-key', problem: 'missing'}]
  const withData = describeError(new XwayError('failed', 'not sound', {data: problems}))
  assert.equal(withData.data, problems)
  const made = errorFor('unreachable', 'down', {actions: ['retry'], data: {ok: false}})
  assert.is(made.exitCode, 6)
  assert.equal(describeError(made), {code: 'unreachable', message: 'down', actions: ['retry'], data: {ok: false}})
  for (const code of ['failed', 'usage', 'refused', 'bad-input', 'busy', 'unreachable'] as const) assert.is(errorFor(code, 'x').code, code)
})

test('a typed error thrown while oclif parses a flag loses oclif\'s "Parsing --flag" wrapping and keeps its code', () => {
  const bad = new BadInputError('--password-file /x cannot be read: no such file or folder.')
  bad.message = `Parsing --password-file \n\t${bad.message}\nSee more help with --help`
  assert.equal(describeError(bad), {code: 'bad-input', message: '--password-file /x cannot be read: no such file or folder.', actions: []})
  const usage = new UsageError('not a count')
  usage.message = `Parsing --calls \n\t${usage.message}\nSee more help with --help`
  assert.is(describeError(usage).message, '--calls: not a count')
  // oclif's own flag errors are usage errors (exit 2) with the same cleaning
  const oclif = Object.assign(new Error('Parsing --calls \n\tExpected an integer but received: x\nSee more help with --help'), {})
  assert.equal(describeError(oclif), {code: 'usage', message: '--calls: Expected an integer but received: x', actions: ['See the command\'s --help for its flags and examples.']})
})

test('Node\'s text of a system error inside a library\'s message is told in words too', () => {
  assert.is(inWords('f.tar.gz is not a readable .tar.gz archive (EISDIR: illegal operation on a directory, read).'),
    'f.tar.gz is not a readable .tar.gz archive (it is a folder, where a file was expected).')
  assert.is(inWords("cannot open the profile: ENOENT: no such file or directory, open '/srv/p.yaml'"),
    'cannot open the profile: no such file or folder: /srv/p.yaml')
  assert.is(inWords("/srv/p.yaml cannot be read (ENOENT: no such file or directory, open '/srv/p.yaml')"),
    '/srv/p.yaml cannot be read (no such file or folder)')
  assert.is(inWords('cannot read the password file /x (EACCES)'), 'cannot read the password file /x (permission denied)')
  assert.is(inWords('the prompt ended (ABORT_ERR)'), 'the prompt ended (cancelled)')
  // words that only look like codes are left alone
  assert.is(inWords('SLR: 4 Rich Media Session licenses; PLR: none'), 'SLR: 4 Rich Media Session licenses; PLR: none')
  const typed = describeError(new BadInputError("x is unreadable (ENOSPC: no space left on device, write)", {actions: ['Retry (EIO).']}))
  assert.equal(typed, {code: 'bad-input', message: 'x is unreadable (no space left on the device)', actions: ['Retry (an input/output error on the device).']})
})

test('anything else fails with exit 1 and the hint of XWAY_DEBUG', () => {
  const d = describeError(new Error('something odd'))
  assert.equal(d, {code: 'failed', message: 'something odd', actions: ['Run again with XWAY_DEBUG=1 for details.']})
})

test.after(() => rmSync(dir, {recursive: true, force: true}))

test.run()
