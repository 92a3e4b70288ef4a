import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {planEnableSmartLicensing} from '../../src/agent/enable.js'
import {RefusedError} from '../../src/errors.js'
import {defaultLicensingState} from '../../src/licensing/state.js'
import type {ProductInfo} from '../../src/product.js'

const NOW = new Date('2026-03-01T00:00:00.000Z')
const info = (over: Partial<ProductInfo>): ProductInfo => ({
  brand: 'Expressway', type: 'Expressway-C', edition: 'standard', softwareVersion: 'X14.0.2', pid: 'EXPWY-VE-M-K9', serial: 'AB12CD34', ...over,
} as ProductInfo)

test('an X14.0.2 Expressway: smart licensing on, the evaluation starts now, the lab Direct endpoint kept', async () => {
  const legacy = defaultLicensingState('legacy')
  legacy.directUrl = 'https://127.0.0.1:9/SmartTransport'
  const next = planEnableSmartLicensing(info({}), legacy, NOW)!
  assert.is(next.mode, 'smart')
  assert.is(next.evaluation.startedAt, NOW.toISOString())
  assert.is(next.transport.mode, 'direct')
  assert.is(next.directUrl, 'https://127.0.0.1:9/SmartTransport')
  assert.is(next.registration.state, 'unregistered')
  // already on (enabled before): nothing to do
  assert.is(planEnableSmartLicensing(info({}), next, NOW), null)
})

test('refused on Cisco VCS and on X14.2, quoting the rule', async () => {
  try {
    planEnableSmartLicensing(info({brand: 'VCS'}), defaultLicensingState('legacy'), NOW, 'units/v')
    assert.unreachable()
  } catch (e) {
    assert.instance(e, RefusedError)
    assert.match((e as Error).message, /Cisco: "For Cisco VCS, legacy\/option key license mode remains the only licensing mode\."/)
  }
  try {
    planEnableSmartLicensing(info({softwareVersion: 'X14.2.0'}), defaultLicensingState('smart'), NOW, 'units/x')
    assert.unreachable()
  } catch (e) {
    assert.instance(e, RefusedError)
    assert.match((e as Error).message, /already on/)
    assert.match((e as RefusedError).actions.join(' '), /licensing status units\/x/)
  }
})

test.run()
