import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {cleanup, xway} from '../support/run.js'
import {authorize, licensing, makeLab, NOW, ok, pool, run, treeHash, unitOf, type Lab} from './reservation-helpers.js'

let lab: Lab

test.before(() => {
  lab = makeLab()
})
test.after(() => cleanup())

const xapi = (unit: string, line: string) => xway(['xapi', unit, line], {env: {XWAY_NOW: NOW}})

test('the seed\'s lines: enable, request, install, status and return, with the appliance\'s replies and the same effects', async () => {
  const unit = unitOf(lab, 'xapi-cycle')
  const enable = xapi(unit, 'xconfiguration License Smart ReservationEnable: On')
  assert.is(enable.code, 0, enable.stdout + enable.stderr)
  assert.is(enable.stdout, 'OK\n')

  const request = xapi(unit, 'xcommand License Smart Reservation Request')
  assert.is(request.code, 0)
  const m = /^\*r ReservationRequestResult \(status=OK\):\n {4}RequestCode: "(CB-Z[^"]+)"\n\*\* end\n\nOK\n$/.exec(request.stdout)
  assert.ok(m, request.stdout)
  const code = authorize(lab, m![1]!, ['--license', 'rms=4'])

  // a TSH-like session on stdin, the code pasted in double quotes; --json gives every reply
  const session = [
    `xcommand License Smart Reservation Install "${code}"`,
    'xstatus License Smart Reservation',
  ].join('\n') + '\n'
  const r = run(['xapi', unit], {input: session})
  assert.is(r.code, 0, r.stdout)
  const [install, status] = r.json.replies
  assert.is(install.status, 'OK')
  assert.is(install.lines[0], '*r ReservationInstallResult (status=OK):')
  assert.match(install.lines.join('\n'), /ConfirmationCode: "CF-[^"]+"\n\*\* end\n\nOK$/)
  assert.equal(Object.keys(install.result).sort(), ['confirmationCode', 'kind'])
  assert.is(install.result.kind, 'SLR')
  assert.ok(status.lines.includes('*s License Smart Reservation State: "Installed"'), status.lines.join('\n'))
  assert.ok(status.lines.includes('*s License Smart Reservation Entitlement 1 Count: 4'))
  assert.ok(status.lines.includes(`*s License Smart Reservation ConfirmationCode: "${install.result.confirmationCode}"`))
  assert.ok(!status.lines.some((l: string) => l.includes('Registration Status')), 'the path filters the status')
  ok(['license-server', 'reservation', 'confirm', lab.server, '--code', install.result.confirmationCode])
  assert.is(pool(lab).rms.reserved, 4)

  const lic = licensing(unit)
  assert.equal([lic.registration.status, lic.authorization.status, lic.reservation.state], ['Registered', 'Authorized', 'installed'])
  const full = xapi(unit, 'xstatus License Smart')
  assert.match(full.stdout, /^\*s License Smart Registration Status: "Registered"$/m)

  const ret = xapi(unit, 'xcommand License Smart Reservation Return')
  assert.is(ret.code, 0)
  assert.match(ret.stdout, /^\*r ReservationReturnResult \(status=OK\):\n {4}ReturnCode: "RT-[^"]+"\n\*\* end\n\nOK\n$/)
  assert.is(licensing(unit).reservation.state, 'none')
})

test('errors reply (status=Error) with a Reason, exit like the CLI, and change nothing', async () => {
  const unit = unitOf(lab, 'xapi-errors')
  const before = treeHash(unit)
  const refused = xapi(unit, 'xcommand License Smart Reservation Request')
  assert.is(refused.code, 3)
  assert.match(refused.stdout, /^\*r ReservationRequestResult \(status=Error\):\n {4}Reason: ".*disabled by default.*"\n\*\* end\n\nERROR\n$/)
  const unknown = xapi(unit, 'xcommand License Smart Reservation Destroy')
  assert.is(unknown.code, 2)
  assert.match(unknown.stdout, /\(status=Error\):\n {4}Reason: "Unknown command/)
  assert.is(treeHash(unit), before)

  // a session goes on after an error; the exit code is the first error's
  const code = '<specificPLR><authorizationCode>forged</authorizationCode></specificPLR>'
  const session = [
    'xconfiguration License Smart ReservationEnable: On',
    'xcommand License Smart Reservation Request',
    `xcommand License Smart Reservation Install "${code}"`,
    'xcommand License Smart Reservation Cancel',
    'xconfiguration License Smart ReservationEnable',
  ].join('\n')
  const r = run(['xapi', unit], {input: session})
  assert.is(r.code, 4, r.stdout)
  // the session fails as its first error, with every reply as the error's data
  assert.is(r.json.error.code, 'bad-input')
  assert.match(r.json.error.message, /^The authorization code is malformed/)
  const replies = r.json.error.data.replies
  assert.equal(replies.map((x: {status: string}) => x.status), ['OK', 'OK', 'Error', 'OK', 'OK'])
  const install = replies[2]
  assert.is(install.error.code, 'bad-input')
  assert.is(install.lines[0], '*r ReservationInstallResult (status=Error):')
  assert.match(install.lines[1], /^ {4}Reason: "The authorization code is malformed/)
  assert.is(replies[4].lines[0], '*c xConfiguration License Smart ReservationEnable: On')
  assert.is(licensing(unit).reservation.state, 'none')
})

test.run()
