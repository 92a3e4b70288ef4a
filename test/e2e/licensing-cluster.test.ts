import {join} from 'node:path'
import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {ownTempDir} from './license-server-helpers.js'
import {at, makeLicenseServer, ok, profileFor, run, status, unitFrom, type LicenseServer} from './licensing-helpers.js'

// Cluster reporting (SPEC 11) against a real license server process: Cisco's 2-node example.
// "In a 2 node cluster, if each node has 10 licenses then 1 node can consume a maximum of 20
// licenses. In that case, it will be reporting only the installed number of licenses that is,
// 10 licenses instead of 20 licenses."

const test = suite('licensing cluster reporting')
const ctx = {} as {tmp: ReturnType<typeof ownTempDir>; server: LicenseServer; a: string; b: string}
const HOUR = 60

test.before(async () => {
  ctx.tmp = ownTempDir('xway-lic-cluster-')
  // the account owns exactly the 20 the two nodes hold: a report of 20 by one node could not be granted
  ctx.server = await makeLicenseServer(join(ctx.tmp.path, 'server'), {rms: 20})
  await ctx.server.start()
  const profile = profileFor(ctx.tmp.path, ctx.server, {calls: 10})
  ctx.a = unitFrom(ctx.tmp.path, profile, 'node-a')
  ctx.b = unitFrom(ctx.tmp.path, profile, 'node-b')
})

test.after(async () => {
  await ctx.server?.stop()
  ctx.tmp?.remove()
})

test('each node has 10 licenses; one node uses 20: it borrows 10, reports 10 and is Authorized; the server is never asked for more', async () => {
  for (const unit of [ctx.a, ctx.b]) {
    const r = ok(['licensing', 'register', unit, '--token', ctx.server.token()], at(1))
    assert.equal(r.licensing.licenses, [{type: 'Rich Media Session', inUse: 10, status: 'Authorized'}])
  }
  assert.is(ctx.server.pool().rms!.inUse, 20)
  ok(['cluster', 'create', ctx.a, ctx.b], at(1))
  ok(['usage', 'set', ctx.a, '--calls', '0'], at(1, HOUR))
  ok(['usage', 'set', ctx.b, '--calls', '20'], at(1, HOUR))

  const b = status(ctx.b, at(1, HOUR))
  assert.equal(b.licenses, [{type: 'Rich Media Session', inUse: 20, status: 'Authorized', reported: 10, borrowed: 10}])
  assert.is(b.authorization.status, 'Authorized')
  // the node that lends: nothing in use of its own, the 10 its peer uses reported by it
  assert.equal(status(ctx.a, at(1, HOUR)).licenses, [])
  assert.equal(ok(['licensing', 'usage', ctx.a], at(1, HOUR)).licenses, [{type: 'Rich Media Session', inUse: 0, status: 'Authorized', reported: 10, borrowed: 0}])

  // the borrowing node's usage report: 10, which the server grants (20 would be short: the account owns 20 and its peer holds 10)
  const rb = ok(['licensing', 'usage', ctx.b, '--refresh'], at(1, 2 * HOUR))
  assert.equal(rb.licenses, [{type: 'Rich Media Session', inUse: 20, status: 'Authorized', reported: 10, borrowed: 10}])
  let pool = ctx.server.pool().rms!
  assert.equal([pool.inUse, pool.shortage], [20, 0])
  // the lender reports the 10 its peer uses of its own, so it keeps them
  const ra = ok(['licensing', 'usage', ctx.a, '--refresh'], at(1, 2 * HOUR))
  assert.equal(ra.licenses, [{type: 'Rich Media Session', inUse: 0, status: 'Authorized', reported: 10, borrowed: 0}])
  pool = ctx.server.pool().rms!
  assert.equal([pool.inUse, pool.shortage], [20, 0])
  assert.is(status(ctx.b, at(1, 3 * HOUR)).authorization.status, 'Authorized')

  // the appliance's own status shows the same
  const x = run(['xapi', ctx.b, 'xstatus License Smart License'], at(1, 3 * HOUR))
  assert.is(x.code, 0, x.stdout)
  const lines = x.json.replies[0].lines as string[]
  for (const line of ['*s License Smart License 1 InUse: 20', '*s License Smart License 1 Reported: 10', '*s License Smart License 1 Borrowed: 10']) assert.ok(lines.includes(line), lines.join('\n'))
})

test('when the peers have nothing left to lend, a node registered with the server asks it for the rest', async () => {
  // a now uses its own 10: nothing to lend; b reports its 10 and asks for the 10 nobody lends
  ok(['usage', 'set', ctx.a, '--calls', '10'], at(1, 4 * HOUR))
  const b = status(ctx.b, at(1, 4 * HOUR))
  assert.equal(b.licenses, [{type: 'Rich Media Session', inUse: 20, status: 'Waiting', reported: 20, borrowed: 0}])
  const r = ok(['licensing', 'usage', ctx.b, '--refresh'], at(1, 5 * HOUR))
  assert.equal(r.licenses, [{type: 'Rich Media Session', inUse: 20, status: 'Out of compliance', reported: 20, borrowed: 0}])
  assert.is(status(ctx.b, at(1, 5 * HOUR)).authorization.status, 'Out-of-compliance')
  assert.is(ctx.server.pool().rms!.inUse, 20, 'never over-allocated')

  // leaving the cluster ends the sharing; the lines lose their cluster fields
  ok(['usage', 'set', ctx.b, '--calls', '10'], at(1, 6 * HOUR))
  ok(['cluster', 'leave', ctx.b], at(1, 6 * HOUR))
  const alone = ok(['licensing', 'usage', ctx.b, '--refresh'], at(1, 6 * HOUR))
  assert.equal(alone.licenses, [{type: 'Rich Media Session', inUse: 10, status: 'Authorized'}])
  for (const unit of [ctx.a, ctx.b]) ok(['licensing', 'deregister', unit], at(2))
  assert.is(ctx.server.pool().rms!.inUse, 0)
})

test.run()
