import {suite} from 'uvu'
import * as assert from 'uvu/assert'
import {
  admitsOneMore, exportControlLimit, exportControlThresholds, nextExportControlState, sessionTotal,
} from '../../src/licensing/export-control.js'

const test = suite('export control')

test('limits: 2500 calls + registrations, 2244 with WebRTC, none (null) on Select; VCS is included', async () => {
  assert.is(exportControlLimit({edition: 'standard'}, false), 2500)
  assert.is(exportControlLimit({edition: 'standard'}, true), 2244)
  assert.is(exportControlLimit({edition: 'select'}, false), null)
  assert.is(exportControlLimit({edition: 'select'}, true), null)
  // VCS units are standard edition: brand plays no part
  assert.is(exportControlLimit({brand: 'VCS', edition: 'standard'} as never, false), 2500)
})

test('thresholds: 2250 / 2500 / 2475, and 2020 / 2244 / 2221 with WebRTC', async () => {
  assert.equal(exportControlThresholds(2500), {limit: 2500, approaching: 2250, lowerWatermark: 2475})
  assert.equal(exportControlThresholds(2244), {limit: 2244, approaching: 2020, lowerWatermark: 2221})
  assert.is(exportControlThresholds(null), null)
})

test('the total counts calls and both kinds of registrations', async () => {
  assert.is(sessionTotal({calls: 1000, desktop: 700, room: 800}), 2500)
})

test('rising: ok below 90 %, approaching from 90 %, reached at 100 %', async () => {
  const at = (total: number, limit = 2500) => nextExportControlState('ok', total, limit)
  assert.is(at(0), 'ok')
  assert.is(at(2249), 'ok')
  assert.is(at(2250), 'approaching')
  assert.is(at(2499), 'approaching')
  assert.is(at(2500), 'reached')
  assert.is(at(2600), 'reached')
  assert.is(at(2019, 2244), 'ok')
  assert.is(at(2020, 2244), 'approaching')
  assert.is(at(2243, 2244), 'approaching')
  assert.is(at(2244, 2244), 'reached')
})

test('hysteresis: once reached it holds down to the lower watermark (2500 → 2480 stays reached), and releases below it', async () => {
  assert.is(nextExportControlState('reached', 2480, 2500), 'reached')
  assert.is(nextExportControlState('reached', 2475, 2500), 'reached')
  assert.is(nextExportControlState('reached', 2474, 2500), 'approaching')
  assert.is(nextExportControlState('reached', 100, 2500), 'ok')
  assert.is(nextExportControlState('reached', 2221, 2244), 'reached')
  assert.is(nextExportControlState('reached', 2220, 2244), 'approaching')
  // not reached before: the same totals are merely approaching
  assert.is(nextExportControlState('approaching', 2480, 2500), 'approaching')
  assert.is(nextExportControlState('ok', 2475, 2500), 'approaching')
})

test('Select: no limit, always ok, even from a stale reached state', async () => {
  assert.is(nextExportControlState('ok', 10_000, null), 'ok')
  assert.is(nextExportControlState('reached', 10_000, null), 'ok')
  assert.ok(admitsOneMore('reached', 10_000, null))
})

test('admission: refused at the limit and while reached above the watermark, resumed below it', async () => {
  assert.ok(admitsOneMore('approaching', 2499, 2500))
  assert.not.ok(admitsOneMore('reached', 2500, 2500))
  assert.not.ok(admitsOneMore('approaching', 2500, 2500), 'a stale state does not let the total pass the limit')
  assert.not.ok(admitsOneMore('reached', 2480, 2500))
  assert.not.ok(admitsOneMore('reached', 2475, 2500))
  assert.ok(admitsOneMore('reached', 2474, 2500))
  assert.ok(admitsOneMore('ok', 2476, 2500), 'never reached: admitted up to the limit')
  assert.not.ok(admitsOneMore('reached', 2221, 2244))
  assert.ok(admitsOneMore('reached', 2220, 2244))
  assert.not.ok(admitsOneMore('approaching', 2244, 2244))
})

test.run()
