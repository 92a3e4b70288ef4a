import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {XwayError} from '../../src/errors.js'
import {parseXapiLine, splitXapiInput} from '../../src/agent/xapi.js'

test('parses the seed\'s reservation lines, keywords in any case', async () => {
  assert.equal(parseXapiLine('xconfiguration License Smart ReservationEnable: On'), {kind: 'config-set', enable: true})
  assert.equal(parseXapiLine('xConfiguration license smart reservationenable:off'), {kind: 'config-set', enable: false})
  assert.equal(parseXapiLine('xconfiguration License Smart ReservationEnable'), {kind: 'config-get'})
  assert.equal(parseXapiLine('xcommand License Smart Reservation Request'), {kind: 'command', name: 'Request', code: null})
  assert.equal(parseXapiLine('xCommand License Smart Reservation returnauthorization "<x>"'), {kind: 'command', name: 'ReturnAuthorization', code: '<x>'})
  assert.equal(parseXapiLine('xcommand License Smart Reservation Install "<specificPLR>…</specificPLR>"'), {kind: 'command', name: 'Install', code: '<specificPLR>…</specificPLR>'})
  assert.equal(parseXapiLine('xcommand License Smart Reservation Install <permanentPLR/>'), {kind: 'command', name: 'Install', code: '<permanentPLR/>'})
  assert.equal(parseXapiLine('xcommand License Smart Reservation Install AuthorizationCode: "<a/>"'), {kind: 'command', name: 'Install', code: '<a/>'})
  assert.equal(parseXapiLine('xcommand License Smart Reservation Cancel'), {kind: 'command', name: 'Cancel', code: null})
  assert.equal(parseXapiLine('xstatus License Smart'), {kind: 'status', path: []})
  assert.equal(parseXapiLine('xstatus License Smart Reservation'), {kind: 'status', path: ['Reservation']})
})

test('anything else is a usage error (exit 2)', async () => {
  for (const line of [
    'xconfiguration License Smart ReservationEnable: Maybe',
    'xconfiguration License Smart ReservationEnable:',
    'xcommand License Smart Reservation Install',
    'xcommand License Smart Reservation Install "<unclosed',
    'xcommand License Smart Reservation Request now',
    'xcommand License Smart Reservation Destroy',
    'xcommand SystemUnit Boot',
    'rm -rf /',
  ]) {
    try {
      parseXapiLine(line)
      assert.unreachable(line)
    } catch (err) {
      assert.instance(err, XwayError, line)
      assert.is((err as XwayError).code, 'usage', line)
    }
  }
})

test('a session splits into lines; a quoted code may span lines; blanks and comments are skipped', async () => {
  const text = [
    '# provision',
    'xconfiguration License Smart ReservationEnable: On',
    '',
    'xcommand License Smart Reservation Install "<specificPLR>',
    '<authorizationCode/>',
    '</specificPLR>"',
    'xstatus License Smart\r',
  ].join('\n')
  assert.equal(splitXapiInput(text), [
    'xconfiguration License Smart ReservationEnable: On',
    'xcommand License Smart Reservation Install "<specificPLR>\n<authorizationCode/>\n</specificPLR>"',
    'xstatus License Smart',
  ])
})

test.run()
