import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {AREAS, type AreaName} from '../../src/areas/registry.js'
import {
  checkKeepAnswers, type KeepAnswers, LICENSING_WITHOUT_BRAND_MESSAGE, RESET_CONFIRM_PROMPT, RESET_WARNING_LINES, resetQuestions, runResetDialogue,
} from '../../src/lifecycle/reset-dialogue.js'
import {type FactoryResetState, planFactoryReset} from '../../src/lifecycle/reset-plan.js'
import type {ProductInfo} from '../../src/product.js'
import {LEGACY_QUESTIONS, X142_QUESTIONS} from '../support/reset-dialogue.js'

const AT = new Date('2026-03-01T00:00:00Z')
const C00 = '116341C00-1-0A1B2C3D'
const J00 = '116341J00-1-4E5F6A7B'

function info(over: Partial<ProductInfo> = {}): ProductInfo {
  return {formatVersion: 1, brand: 'Expressway', type: 'Expressway-E', edition: 'standard', softwareVersion: 'X14.2.0', pid: 'EXPWY-VE-M-K9', serial: '0A1B2C3D', ...over}
}

function state(over: Partial<FactoryResetState> = {}, infoOver: Partial<ProductInfo> = {}): FactoryResetState {
  const sizes = Object.fromEntries(AREAS.map((a, i) => [a.name, {bytes: 100 * (i + 1), files: i + 1}])) as FactoryResetState['sizes']
  return {
    info: info(infoOver), sizes, optionKeys: [], fipsEnabled: false, dns: ['192.0.2.53'], licensingMode: 'smart', sniFiles: 2, hasProxyPassword: false,
    payload: {version: 'X14.2.0', brand: 'VCS', type: 'Expressway-C', dns: [], fipsEnabled: false},
    ...over,
  }
}

const actionOf = (plan: ReturnType<typeof planFactoryReset>, name: AreaName) => plan.areas.find((a) => a.area === name)!.action

function refusal(fn: () => unknown): {exitCode: number; message: string} {
  try {
    fn()
  } catch (error) {
    return error as {exitCode: number; message: string}
  }
  throw new Error('expected a refusal')
}

test('nothing kept on an X14.2 Expressway: brand becomes VCS Expressway-C, smart licensing gone, logs deleted, the rest reset', async () => {
  const plan = planFactoryReset(state(), {}, AT)
  assert.equal(plan.after, {brand: 'VCS', type: 'Expressway-C'})
  assert.is(plan.licensing, 'none')
  assert.is(plan.evaluationStartedAt, null)
  for (const a of plan.areas) assert.is(a.action, a.area === 'logs' ? 'deleted' : 'reset', a.area)
  assert.equal(plan.areas.map((a) => a.area), AREAS.map((a) => a.name))
  assert.equal(plan.alarms, [])
})

test('every area reports the bytes and files it holds now', async () => {
  const s = state()
  const plan = planFactoryReset(s, {brand: true, logs: true}, AT)
  for (const a of plan.areas) assert.equal({bytes: a.bytes, files: a.files}, s.sizes[a.area])
})

test('-v keeps brand and type; without -t the licensing reverts to Direct and the evaluation restarts now', async () => {
  const plan = planFactoryReset(state(), {brand: true}, AT)
  assert.equal(plan.after, {brand: 'Expressway', type: 'Expressway-E'})
  assert.is(plan.licensing, 'evaluation')
  assert.is(plan.evaluationStartedAt, AT.toISOString())
  assert.is(actionOf(plan, 'brand'), 'kept')
  assert.is(actionOf(plan, 'licensing'), 'reset')
})

test('-v -t keep the licensing; with no DNS server after the reset, alarms 30042 and 30044 are planned', async () => {
  const withDns = planFactoryReset(state(), {brand: true, licensing: true, ip: true}, AT)
  assert.is(withDns.licensing, 'kept')
  assert.equal(withDns.alarms, [])
  // IP not kept: the payload's IP configuration has no DNS server
  const noDns = planFactoryReset(state(), {brand: true, licensing: true}, AT)
  assert.equal(noDns.alarms, ['smart-licensing-registration', 'smart-licensing-authorization'])
  assert.match(noDns.warnings.join(' '), /30042 and 30044/)
  // IP kept, but it had no DNS server
  const keptEmpty = planFactoryReset(state({dns: []}), {brand: true, licensing: true, ip: true}, AT)
  assert.is(keptEmpty.alarms.length, 2)
})

test('-t without -v is refused (exit 3) with the documented explanation', async () => {
  const e = refusal(() => planFactoryReset(state(), {licensing: true}, AT))
  assert.is(e.exitCode, 3)
  assert.is(e.message, LICENSING_WITHOUT_BRAND_MESSAGE)
})

test('-o is refused on an X14.2 Expressway, quoting the seed', async () => {
  const e = refusal(() => planFactoryReset(state(), {'option-keys': true, brand: true}, AT))
  assert.is(e.exitCode, 3)
  assert.match(e.message, 'the -o flag (saving of the option keys) was removed from the Expressway factory reset')
})

test('-o keeps every option key on a VCS; without -o only Microsoft Interoperability (C00) survives', async () => {
  const vcs = state({optionKeys: [C00, J00], licensingMode: 'legacy', payload: {version: 'X14.2.0', brand: 'VCS', type: 'Expressway-C', dns: [], fipsEnabled: false}}, {brand: 'VCS'})
  assert.equal(planFactoryReset(vcs, {'option-keys': true}, AT).optionKeys, [C00, J00])
  const dropped = planFactoryReset(vcs, {}, AT)
  assert.equal(dropped.optionKeys, [C00])
  assert.is(actionOf(dropped, 'option-keys'), 'reset')
})

test('C00 survives every reset of an Expressway, whether it stays one or reverts to VCS', async () => {
  const s = state({optionKeys: [C00]})
  assert.equal(planFactoryReset(s, {}, AT).optionKeys, [C00])
  assert.equal(planFactoryReset(s, {brand: true}, AT).optionKeys, [C00])
  assert.equal(planFactoryReset(state({optionKeys: []}), {}, AT).optionKeys, [])
})

test('the VCS reset is unchanged: brand and type stay, no smart licensing; -t is not its flag, -v and -m are honoured', async () => {
  const vcs = state({licensingMode: 'legacy'}, {brand: 'VCS', type: 'Expressway-E'})
  const plan = planFactoryReset(vcs, {}, AT)
  assert.equal(plan.after, {brand: 'VCS', type: 'Expressway-E'})
  assert.is(actionOf(plan, 'brand'), 'kept')
  assert.is(plan.licensing, 'none')
  const e = refusal(() => planFactoryReset(vcs, {licensing: true}, AT))
  assert.is(e.exitCode, 3)
  assert.match(e.message, /is not a question of the factory reset on Cisco VCS X14\.2\.0/)
  const kept = planFactoryReset(vcs, {brand: true, mgmt: true} as Record<AreaName, boolean>, AT)
  assert.is(actionOf(kept, 'mgmt'), 'kept')
  assert.equal(kept.after, {brand: 'VCS', type: 'Expressway-E'})
})

test('an Expressway before X14.2 keeps its brand and gets its own version\'s licensing defaults', async () => {
  const legacy = state({licensingMode: 'legacy', payload: {version: 'X14.0.2', brand: 'VCS', type: 'Expressway-C', dns: [], fipsEnabled: false}}, {softwareVersion: 'X14.0.2'})
  const plan = planFactoryReset(legacy, {'option-keys': true}, AT)
  assert.equal(plan.after, {brand: 'Expressway', type: 'Expressway-E'})
  assert.is(plan.licensing, 'payload')
  assert.is(actionOf(plan, 'option-keys'), 'kept')
})

test('regenerated keys follow the crypto policy after the reset: FIPS kept → FIPS policy', async () => {
  const vcs = state({fipsEnabled: true, optionKeys: [J00], licensingMode: 'legacy'}, {brand: 'VCS'})
  assert.is(planFactoryReset(vcs, {fips: true, 'option-keys': true}, AT).cryptoPolicy, 'fips')
  assert.is(planFactoryReset(vcs, {'option-keys': true}, AT).cryptoPolicy, 'default')
  // FIPS kept without the J00 key it needs: said so
  assert.match(planFactoryReset(vcs, {fips: true}, AT).warnings.join(' '), /J00/)
})

test('SNI certificates are deleted even when the server certificate is kept; logs are saved with -l', async () => {
  const plan = planFactoryReset(state(), {brand: true, certs: true, logs: true}, AT)
  const certs = plan.areas.find((a) => a.area === 'certs')!
  assert.is(certs.action, 'kept')
  assert.match(certs.detail, /SNI\/domain certificates deleted \(2\)/)
  assert.is(actionOf(plan, 'logs'), 'kept')
})

test('areas without a question are always reset; the bootstrap key stays only for a kept proxy password', async () => {
  const all: KeepAnswers = {brand: true, licensing: true, fips: true, ip: true, mgmt: true, 'ssh-keys': true, certs: true, passwords: true, logs: true}
  const plan = planFactoryReset(state(), all, AT)
  for (const name of ['config', 'cluster', 'alarms', 'usage', 'bootstrap-key'] as AreaName[]) assert.is(actionOf(plan, name), 'reset', name)
  assert.is(actionOf(planFactoryReset(state({hasProxyPassword: true}), all, AT), 'bootstrap-key'), 'kept')
  assert.is(actionOf(planFactoryReset(state({hasProxyPassword: true}), {brand: true}, AT), 'bootstrap-key'), 'reset')
})

test('the plan is a pure function of state, answers and now', async () => {
  const s = state({optionKeys: [C00]})
  assert.equal(planFactoryReset(s, {brand: true}, AT), planFactoryReset(structuredClone(s), {brand: true}, AT))
})

test('questions of each series come from the registry, in the documented order and wording', async () => {
  assert.equal(resetQuestions(info()).map((q) => q.prompt), X142_QUESTIONS)
  const legacy = LEGACY_QUESTIONS
  assert.equal(resetQuestions(info({brand: 'VCS'})).map((q) => q.prompt), legacy)
  assert.equal(resetQuestions(info({softwareVersion: 'X14.0.2'})).map((q) => q.prompt), legacy)
  assert.is(RESET_WARNING_LINES[0], '*'.repeat(61))
})

test('the dialogue stops right after -t YES following -v NO, before further questions', async () => {
  const asked: string[] = []
  const answers = [false, true, true]
  try {
    await runResetDialogue(info(), {}, {yes: false}, {write: () => {}, ask: async (p) => (asked.push(p), answers.shift()!)})
    assert.unreachable()
  } catch (error) {
    assert.is((error as {exitCode: number}).exitCode, 3)
  }
  assert.equal(asked, ['Keep brand and type of the device [YES/NO]?', 'Keep smart licensing settings [YES/NO]?'])
})

test('with a keep flag only the final question is asked; --yes asks nothing', async () => {
  const asked: string[] = []
  const io = {write: () => {}, ask: async (p: string) => (asked.push(p), true)}
  const r = await runResetDialogue(info(), {brand: true}, {yes: false}, io)
  assert.equal(asked, [RESET_CONFIRM_PROMPT])
  assert.equal(r, {answers: {brand: true}, confirmed: true})
  asked.length = 0
  assert.equal(await runResetDialogue(info(), {}, {yes: true}, io), {answers: {}, confirmed: true})
  assert.equal(asked, [])
  assert.throws(() => checkKeepAnswers(info(), {'option-keys': true}))
})

test.run()
