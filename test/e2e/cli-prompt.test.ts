// The hidden password prompt on a real terminal (a pseudo-terminal from util-linux's script(1)):
// typed passwords never show, Ctrl+C cancels, and the terminal is back in its normal mode
// (canonical, echoing) however the prompt ended. Piped stdin is never read for a password.
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {BIN, cleanup, hasCommand, makeUnit, tempDir, xwayJson} from '../support/run.js'

const dir = tempDir()
const unit = makeUnit(dir)
const PASSWORD = 'typed-on-a-terminal-7'

/**
 * Runs `xway ARGS` on a pseudo-terminal, then `stty -a` on the same terminal; answers each
 * expected prompt once it shows (typing earlier would let the terminal echo it).
 */
function onTerminal(args: string[], answers: Array<[string, string]>): Promise<{screen: string; exit: number | null}> {
  const command = `stty cols 120 rows 40; node ${BIN} ${args.join(' ')}; echo "xway-exit=$?"; stty -a`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {env: {...process.env, XWAY_BACKUP_PASSWORD: '', XWAY_DEBUG: '', TERM: 'xterm'}})
  let screen = ''
  let next = 0
  let from = 0
  child.stdout.on('data', (d: Buffer) => {
    screen += d.toString('utf8')
    const answer = answers[next]
    if (answer && screen.indexOf(answer[0], from) !== -1) {
      next++
      from = screen.length
      setTimeout(() => child.stdin.write(answer[1]), 150)
    }
  })
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', () => {
      clearTimeout(timer)
      const m = /xway-exit=(\d+)/.exec(screen)
      resolve({screen, exit: m ? Number(m[1]) : null})
    })
  })
}

function terminalRestored(screen: string): void {
  const stty = screen.slice(screen.indexOf('xway-exit='))
  assert.match(stty, /(^|\s)icanon(\s|$)/m, 'canonical mode again')
  assert.match(stty, /(^|\s)echo(\s|$)/m, 'echo again')
}

test('backup create asks for the password twice on a terminal, never shows it, and leaves the terminal as it was', async () => {
  assert.ok(hasCommand('script'), 'script(1) from util-linux runs the terminal tests')
  const out = join(dir, 'typed.enc')
  const r = await onTerminal(['backup', 'create', unit, '-o', out], [['Backup password:', `${PASSWORD}\r`], ['Backup password (again):', `${PASSWORD}\r`]])
  assert.is(r.exit, 0, r.screen)
  assert.not.ok(r.screen.includes(PASSWORD), 'the typed password shows nowhere on the screen')
  assert.match(r.screen, /Backed up .* into .*typed\.enc/)
  terminalRestored(r.screen)
  // the password typed is the backup's
  const inspect = xwayJson(['backup', 'inspect', out], {env: {XWAY_BACKUP_PASSWORD: PASSWORD}})
  assert.is(inspect.code, 0, inspect.stdout)
})

test('Ctrl+C at the password prompt cancels (exit 1, "Cancelled"), writes nothing, and restores the terminal', async () => {
  const out = join(dir, 'cancelled.enc')
  const r = await onTerminal(['backup', 'create', unit, '-o', out], [['Backup password:', '\u0003']])
  assert.is(r.exit, 1, r.screen)
  assert.match(r.screen, /Error: Cancelled at the prompt \(Ctrl\+C\): nothing was changed\./)
  assert.not.match(r.screen, /ExitPromptError|User force closed|\bat .*\.js:\d+/)
  assert.not.ok(existsSync(out))
  terminalRestored(r.screen)
})

test('two different passwords are refused (exit 2) and nothing is written', async () => {
  const out = join(dir, 'differ.enc')
  const r = await onTerminal(['backup', 'create', unit, '-o', out], [['Backup password:', `${PASSWORD}\r`], ['Backup password (again):', 'something-else\r']])
  assert.is(r.exit, 2, r.screen)
  assert.match(r.screen, /the two passwords typed differ/)
  assert.not.ok(existsSync(out))
  terminalRestored(r.screen)
})

test('with piped stdin no password is read from it: exit 2, as before', () => {
  const r = xwayJson(['backup', 'create', unit, '-o', join(dir, 'piped.enc')], {input: `${PASSWORD}\n${PASSWORD}\n`, env: {XWAY_BACKUP_PASSWORD: ''}})
  assert.is(r.code, 2, r.stdout)
  assert.match(r.json.error.message, /no backup password/)
  assert.not.ok(existsSync(join(dir, 'piped.enc')))
})

test.after(() => cleanup())

test.run()
