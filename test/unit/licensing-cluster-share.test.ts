import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {installedLicenses, shareClusterLicenses} from '../../src/licensing/cluster-share.js'
import {defaultLicensingState} from '../../src/licensing/state.js'

// Peers of a cluster share their installed licenses; a node reports at most its installed
// licenses while it borrows (Cisco's 2-node example: each node has 10, one uses 20 and reports 10).

const rms = (r: ReturnType<typeof shareClusterLicenses>, node: number) => r[node]!.licenses.find((l) => l.type === 'rms')

test('Cisco\'s 2-node example: each node has 10, one uses 20 — it borrows 10 and reports 10; its peer reports the 10 it lends', async () => {
  const r = shareClusterLicenses([
    {name: 'a', installed: {rms: 10}, inUse: {rms: 0}, asksServer: true},
    {name: 'b', installed: {rms: 10}, inUse: {rms: 20}, asksServer: true},
  ])
  assert.equal(rms(r, 1), {type: 'rms', installed: 10, inUse: 20, reported: 10, borrowed: 10, lent: 0, status: 'Authorized'})
  assert.equal(rms(r, 0), {type: 'rms', installed: 10, inUse: 0, reported: 10, borrowed: 0, lent: 10, status: 'Authorized'})
})

test('a node registered with a server asks it for what no peer can lend; a reserved node cannot, and is out of compliance', async () => {
  const server = shareClusterLicenses([
    {name: 'a', installed: {rms: 10}, inUse: {rms: 8}, asksServer: true},
    {name: 'b', installed: {rms: 10}, inUse: {rms: 15}, asksServer: true},
  ])
  // b borrows a's 2 spare and asks the server for the 3 nobody lends: 10 + 3
  assert.equal(rms(server, 1), {type: 'rms', installed: 10, inUse: 15, reported: 13, borrowed: 2, lent: 0, status: 'Out of compliance'})
  assert.is(rms(server, 0)!.reported, 10)
  const reserved = shareClusterLicenses([
    {name: 'a', installed: {rms: 10}, inUse: {rms: 8}, asksServer: false},
    {name: 'b', installed: {rms: 10}, inUse: {rms: 15}, asksServer: false},
  ])
  assert.equal(rms(reserved, 1), {type: 'rms', installed: 10, inUse: 15, reported: 10, borrowed: 2, lent: 0, status: 'Out of compliance'})
  // a node with nothing of a type installed, used or lent has no line for it
  assert.equal(reserved[0]!.licenses.map((l) => l.type), ['rms'])
})

test('the same inputs give every node the same answer (lenders served in the order given)', async () => {
  const nodes = [
    {name: 'a', installed: {room: 4}, inUse: {room: 1}, asksServer: true},
    {name: 'b', installed: {room: 2}, inUse: {room: 3}, asksServer: true},
    {name: 'c', installed: {room: 0}, inUse: {room: 4}, asksServer: true},
  ]
  const r = shareClusterLicenses(nodes)
  assert.equal(r, shareClusterLicenses(structuredClone(nodes)))
  // a's 3 spare: 1 to b, 2 to c; c asks the server for its other 2
  assert.equal(r.map((n) => [n.licenses[0]!.borrowed, n.licenses[0]!.lent, n.licenses[0]!.reported]), [[0, 3, 4], [1, 0, 2], [2, 0, 2]])
})

test('installed: a reservation\'s entitlements not stopped by boot; a registered unit\'s grants while its authorization holds', async () => {
  const reserved = defaultLicensingState('smart')
  reserved.reservation = {...reserved.reservation, state: 'installed', kind: 'SLR', entitlements: [
    {type: 'rms', tag: 't', count: 4, endDate: null}, {type: 'rms', tag: 't', count: 2, endDate: null, expired: true}, {type: 'room', tag: 'r', count: 1, endDate: null},
  ]}
  assert.equal(installedLicenses(reserved, false), {installed: {rms: 4, room: 1}, asksServer: false})
  const registered = defaultLicensingState('smart')
  registered.registration.state = 'registered'
  registered.authorization.licenses = [{type: 'rms', requested: 3, granted: 3}, {type: 'room', requested: 2, granted: 0}]
  assert.equal(installedLicenses(registered, true), {installed: {rms: 3}, asksServer: true})
  assert.equal(installedLicenses(registered, false), {installed: {}, asksServer: true}, 'an expired authorization installs nothing')
  assert.equal(installedLicenses(defaultLicensingState('smart'), false), {installed: {}, asksServer: false})
})

test.run()
