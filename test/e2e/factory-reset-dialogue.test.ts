import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {inspectUnit} from '../../src/report/inspect.js'
import {P} from '../support/paths.js'
import {verifyUnit} from '../../src/report/verify.js'
import {CONFIRM_QUESTION, LEGACY_QUESTIONS, RESET_BANNER, X142_QUESTIONS} from '../support/reset-dialogue.js'
import {cleanup, copyUnit, makeUnit, PROFILES, tempDir, unitHash, xway, xwayJson} from '../support/run.js'

// The appliance's factory-reset dialogue, answered on piped stdin and compared line by line
// (reference/expressway-facts.md, "Factory reset"; the seed).
const test = suite('factory-reset dialogue')
const NOW = '2026-03-01T00:00:00Z'
const env = {XWAY_NOW: NOW}
const hash = unitHash
const inspect = async (unit: string) => (await inspectUnit(unit, new Date(NOW)))

const BANNER = RESET_BANNER
const CONFIRM = CONFIRM_QUESTION

/** The transcript as stdout shows it when answers are piped: each question on its own line, exactly as worded. */
function transcript(questions: string[], answers: string[]): string[] {
  assert.ok(answers.length >= questions.length)
  return [...BANNER, ...questions]
}

let dir: string
const templates: Record<string, string> = {}
const copyOf = (name: string) => copyUnit(templates[name])

test.before(() => {
  dir = tempDir()
  templates.expC = makeUnit(dir, {name: 't-exp-c', profile: join(PROFILES, 'expressway-c.yaml')})
  writeFileSync(join(templates.expC, P.logDir, 'messages.log'), 'boot\n'.repeat(1000))
  templates.vcs = makeUnit(dir, {name: 't-vcs', profile: join(PROFILES, 'vcs.yaml')})
  templates.legacy = makeUnit(dir, {name: 't-legacy', profile: join(PROFILES, 'x14.0.2.yaml')})
})

test('an X14.2 Expressway asks the -v/-t questions in the documented order and wording, then applies the answers', async () => {
  const unit = copyOf('expC')
  const before = (await inspect(unit))
  const answers = ['yes', 'no', 'NO', 'y', 'n', 'YES', 'no', 'no', 'no', 'yes']
  const r = xway(['factory-reset', unit, '--seed', 'dlg'], {env, input: answers.join('\n') + '\n'})
  assert.is(r.code, 0, r.stdout + r.stderr)
  const expected = transcript([...X142_QUESTIONS, CONFIRM], answers)
  assert.equal(r.stdout.split('\n').slice(0, expected.length), expected)
  assert.match(r.stdout, 'Factory reset done: Expressway Expressway-C X14.2.0')
  const after = (await inspect(unit))
  assert.is(after.brand, 'Expressway')
  assert.equal(after.network, before.network) // -i YES
  assert.equal(after.ssh, before.ssh) // ssh keys YES
  assert.is.not(after.certificates.server!.fingerprint, before.certificates.server!.fingerprint)
  assert.equal(after.users, {root: {default: true}, admin: {default: true}})
  assert.equal(after.logs, {files: 0, bytes: 0})
  assert.ok((await verifyUnit(unit)).ok)
})

test('a VCS unit asks the unchanged VCS questions (option keys first, no -v/-t/-m)', async () => {
  const unit = copyOf('vcs')
  const answers = ['no', 'no', 'yes', 'no', 'no', 'no', 'no', 'yes']
  const r = xway(['factory-reset', unit, '--seed', 'dlg'], {env, input: answers.join('\n') + '\n'})
  assert.is(r.code, 0, r.stdout + r.stderr)
  const expected = transcript([...LEGACY_QUESTIONS, CONFIRM], answers)
  assert.equal(r.stdout.split('\n').slice(0, expected.length), expected)
  const after = (await inspect(unit))
  assert.is(after.brand, 'VCS')
  assert.equal(after.optionKeys.map((k) => k.feature), ['C00'])
  assert.is(after.network.hostname, 'vcs-c1')
  assert.ok((await verifyUnit(unit)).ok)
})

test('an Expressway before X14.2 (X14.0.2) asks the same questions as VCS; -o YES keeps its option keys', async () => {
  const unit = copyOf('legacy')
  const answers = ['y', 'n', 'n', 'n', 'n', 'n', 'n', 'y']
  const r = xway(['factory-reset', unit, '--seed', 'dlg'], {env, input: answers.join('\n') + '\n'})
  assert.is(r.code, 0, r.stdout + r.stderr)
  const expected = transcript([...LEGACY_QUESTIONS, CONFIRM], answers)
  assert.equal(r.stdout.split('\n').slice(0, expected.length), expected)
  const after = (await inspect(unit))
  assert.is(after.brand, 'Expressway')
  assert.equal(after.optionKeys.map((k) => k.feature), ['C00', 'E00'])
  assert.ok((await verifyUnit(unit)).ok)
})

test('NO to the final question changes nothing and exits 0 with {cancelled: true}; prompts go to stderr under --json', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  const human = xway(['factory-reset', unit], {env, input: 'no\n'.repeat(9) + 'NO\n'})
  assert.is(human.code, 0, human.stderr)
  assert.match(human.stdout, 'Factory reset cancelled; nothing changed')
  assert.is(hash(unit), before)
  const json = xwayJson(['factory-reset', unit, '-v'], {env, input: 'no\n'})
  assert.is(json.code, 0, json.stderr)
  assert.is(json.json.cancelled, true)
  assert.is(json.json.brand, 'Expressway')
  assert.match(json.stderr, CONFIRM)
  assert.match(json.stderr, BANNER[1])
  assert.is(hash(unit), before)
})

test('without a terminal, a missing answer is an error (exit 2), never a guess; nothing changes', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  const none = xwayJson(['factory-reset', unit], {env, input: ''})
  assert.is(none.code, 2, none.stdout)
  assert.match(none.json.error.message, 'No answer to "Keep brand and type of the device [YES/NO]?"')
  // stdin ends half-way through the questions
  const half = xway(['factory-reset', unit], {env, input: 'yes\nno\nno\n'})
  assert.is(half.code, 2)
  // a keep flag without --yes still needs the final answer
  const flagged = xway(['factory-reset', unit, '-v'], {env, input: ''})
  assert.is(flagged.code, 2)
  assert.match(flagged.stderr, CONFIRM)
  assert.is(hash(unit), before)
})

test('YES to smart licensing after NO to brand and type is refused (exit 3) before the next question', async () => {
  const unit = copyOf('expC')
  const before = hash(unit)
  const r = xway(['factory-reset', unit], {env, input: 'no\nyes\n' + 'yes\n'.repeat(8)})
  assert.is(r.code, 3, r.stdout + r.stderr)
  assert.equal(r.stdout.trimEnd().split('\n'), transcript(X142_QUESTIONS.slice(0, 2), ['no', 'yes']))
  assert.match(r.stderr, 'Smart licensing settings cannot be kept (-t) when brand and type are not kept (-v): the unit would revert to Cisco VCS, which has no smart licensing. Add -v, or drop -t.')
  assert.is(hash(unit), before)
})

test('an unclear answer is asked again', async () => {
  const unit = copyOf('expC')
  const r = xway(['factory-reset', unit, '-v', '-l', '--seed', 'dlg'], {env, input: 'maybe\nyes\n'})
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, `${CONFIRM}\nPlease answer YES or NO.\n${CONFIRM}\n`)
  assert.is(readFileSync(join(unit, P.logDir, 'messages.log'), 'utf8').length, 5000)
})

test.after(() => cleanup())
test.run()
