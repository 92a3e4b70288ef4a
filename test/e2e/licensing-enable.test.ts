import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {PROFILES} from '../support/run.js'
import {ownTempDir} from './license-server-helpers.js'
import {at, expect, human, makeLicenseServer, ok, status, T0, treeHash, type LicenseServer} from './licensing-helpers.js'

// `licensing enable` (SPEC 11): Cisco's advice "We recommend you to enable Smart License before
// upgrading Expressway to version X14.2", followed on an X14.0.2 Expressway, then registered to
// a real license server process and upgraded: the upgrade no longer warns and keeps the
// registration. Refused on VCS and on X14.2.

const test = suite('licensing enable')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer}

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-enable-')
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 5})
  await ctx.server.start()
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

/**
 * An X14.0.2 Expressway on option keys whose agent trusts the lab server: built as an X14.0.2
 * VCS (the profile bakes the lab trust anchor; a VCS has no smart licensing), then converted to
 * the Expressway Series, which before X14.2 stays on option keys.
 */
function legacyExpressway(name: string): string {
  const profile = join(ctx.tmp.path, `${name}.yaml`)
  writeFileSync(profile, `software: X14.0.2
brand: vcs
type: expressway-c
network: { hostname: ${name}, domain: lab.example, dns: [192.0.2.53], lan1: { address: 192.0.2.41/24, gateway: 192.0.2.1 } }
optionKeys: [116341C00-1-0A1B2C3D, 116341E00-1-8C9D0E1F]
licensing:
  trustAnchors: [${JSON.stringify(ctx.server.ca)}]
usage: { calls: 2, desktop: 0, room: 0, webrtc: false }
`)
  const unit = join(ctx.tmp.path, name)
  ok(['image', 'create', unit, '--profile', profile, '--seed', name])
  const c = ok(['convert', unit, '--type', 'expressway-c'])
  assert.is(c.to.brand, 'Expressway')
  assert.equal(status(unit), {mode: 'legacy'})
  return unit
}

test('an X14.0.2 Expressway: enable turns smart licensing on, the evaluation starts, option keys can no longer be added', async () => {
  const unit = legacyExpressway('exp-legacy1')
  const r = ok(['licensing', 'enable', unit], at(1))
  assert.is(r.changed, true)
  assert.equal(r.licensing, {mode: 'smart', evaluation: {startedAt: at(1), expiresAt: at(91)}})
  assert.equal(r.optionKeys, ['116341C00-1-0A1B2C3D', '116341E00-1-8C9D0E1F'])
  assert.match(r.warnings.join(' '), /Option keys can no longer be added/)
  const s = status(unit, at(2))
  assert.is(s.mode, 'smart')
  assert.is(s.authorization.status, 'Evaluation Mode')
  assert.is(s.evaluation.expiresAt, at(91))

  // Cisco: "After Smart Licensing is enabled, you cannot use option keys on the Expressway"
  const before = treeHash(unit)
  const refused = expect(3, ['option-keys', 'add', unit, '116341B00-1-12345678'], at(2))
  assert.match(refused.error.message, /once smart licensing is on/)
  assert.is(treeHash(unit), before)
  // enabling again changes nothing
  assert.is(ok(['licensing', 'enable', unit], at(3)).changed, false)
  assert.is(treeHash(unit), before)
})

test('enabled before the upgrade: it registers to the license server, and the upgrade to X14.2 keeps it and no longer warns', async () => {
  const unit = legacyExpressway('exp-legacy2')
  ok(['licensing', 'enable', unit], at(1))
  ok(['licensing', 'transport', unit, '--on-prem', ctx.server.url], at(1))
  const reg = ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
  assert.is(reg.licensing.registration.status, 'Registered')
  assert.is(reg.licensing.authorization.status, 'Authorized')
  const up = ok(['upgrade', unit, '--to', 'X14.2.0'], at(2))
  assert.not.ok(up.warnings.some((w: string) => /enable Smart License before upgrading/.test(w)), up.warnings.join('\n'))
  assert.equal([up.licensing.mode, up.licensing.turnedOn, up.licensing.registrationKept, up.licensing.evaluationStartedAt], ['smart', false, true, at(1)])
  assert.equal(up.optionKeys.dropped, ['116341E00-1-8C9D0E1F'])
  assert.is(status(unit, at(2)).registration.status, 'Registered')
  assert.is(ok(['licensing', 'renew', unit, '--authorization'], at(3)).licensing.authorization.status, 'Authorized')
  ok(['licensing', 'deregister', unit], at(4))

  // without enabling first, the same upgrade warns (Cisco's advice)
  const other = legacyExpressway('exp-legacy3')
  const warned = ok(['upgrade', other, '--to', 'X14.2.0'], at(2))
  assert.ok(warned.warnings.some((w: string) => /enable Smart License before upgrading/.test(w)), warned.warnings.join('\n'))
})

test('refused on Cisco VCS and on X14.2 (exit 3, the rule quoted, the unit unchanged); --help shows examples', async () => {
  const vcs = join(ctx.tmp.path, 'vcs')
  ok(['image', 'create', vcs, '--profile', join(PROFILES, 'vcs.yaml'), '--seed', 'enable-vcs'])
  let before = treeHash(vcs)
  let r = expect(3, ['licensing', 'enable', vcs])
  assert.match(r.error.message, /Cisco: "For Cisco VCS, legacy\/option key license mode remains the only licensing mode\."/)
  assert.is(treeHash(vcs), before)

  const x142 = join(ctx.tmp.path, 'x142')
  ok(['image', 'create', x142, '--profile', join(PROFILES, 'expressway-c.yaml'), '--seed', 'enable-x142'])
  before = treeHash(x142)
  r = expect(3, ['licensing', 'enable', x142], T0)
  assert.match(r.error.message, /already on: on Expressway X14\.2\.0 it is the only licensing mode/)
  assert.is(treeHash(x142), before)

  const help = human(['licensing', 'enable', '--help'])
  assert.is(help.code, 0)
  assert.match(help.stdout, /EXAMPLES[\s\S]*licensing enable \.\/units\/exp-c1/)
})

test.run()
