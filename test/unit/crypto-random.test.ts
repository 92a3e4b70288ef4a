import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {randomFor, seededRandom, systemRandom} from '../../src/crypto/random.js'

test('a seed and label give the same bytes every time, however they are drawn', async () => {
  const whole = seededRandom('lab-1', 'ssh-rsa').bytes(100)
  const stream = seededRandom('lab-1', 'ssh-rsa')
  const pieces = Buffer.concat([stream.bytes(5), stream.bytes(0), stream.bytes(40), stream.bytes(55)])
  assert.ok(whole.equals(pieces))
  assert.ok(whole.equals(seededRandom('lab-1', 'ssh-rsa').bytes(100)))
})

test('another seed or another label gives another stream', async () => {
  const base = seededRandom('lab-1', 'ssh-rsa').bytes(32)
  assert.not.ok(base.equals(seededRandom('lab-2', 'ssh-rsa').bytes(32)))
  assert.not.ok(base.equals(seededRandom('lab-1', 'ssh-ecdsa').bytes(32)))
  // the label is not simply appended to the seed
  assert.not.ok(seededRandom('ab', 'c').bytes(32).equals(seededRandom('a', 'bc').bytes(32)))
})

test('randomFor is seeded with a seed and the system generator without one', async () => {
  assert.ok(randomFor('s', 'l').bytes(16).equals(seededRandom('s', 'l').bytes(16)))
  const system = randomFor(undefined, 'l')
  assert.not.ok(system.bytes(16).equals(system.bytes(16)))
  assert.is(systemRandom().bytes(7).length, 7)
})

test('refuses a negative or fractional count', async () => {
  assert.throws(() => seededRandom('s', 'l').bytes(-1))
  assert.throws(() => seededRandom('s', 'l').bytes(1.5))
})

test.run()
