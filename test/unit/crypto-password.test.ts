import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {BadInputError} from '../../src/errors.js'
import {hashPassword, isPasswordHash, sha512Crypt, verifyPassword} from '../../src/crypto/password.js'
import {seededRandom} from '../../src/crypto/random.js'

// Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", test vectors for SHA-512
// (the 77777 and 123456 rounds ones are left out to keep the suite fast), plus one
// UTF-8 password checked against glibc/libxcrypt's crypt(3) via perl.
const VECTORS: Array<[setting: string, password: string, hash: string]> = [
  ['$6$saltstring', 'Hello world!',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['$6$rounds=10000$saltstringsaltstring', 'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['$6$rounds=5000$toolongsaltstring', 'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
  ['$6$rounds=1400$anotherlongsaltstring', 'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1'],
  ['$6$rounds=10$roundstoolow', 'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
  ['$6$abc', 'pässwörd',
    '$6$abc$wXvLgMChht3U87i888StiQy1W/EK2Ge3H6rxIRM8l0prwhG1icmLmgEOcYMiXbSth/t5JyRjjVGbqvVEQ7j9n/'],
]

test('SHA-512 crypt matches the published test vectors', async () => {
  for (const [setting, password, hash] of VECTORS) assert.is(sha512Crypt(password, setting), hash, setting)
})

test('verifyPassword accepts the vectors and rejects a wrong password', async () => {
  for (const [, password, hash] of VECTORS) {
    if (hash.includes('rounds=10000')) continue // keep the suite fast; computed above
    assert.ok(verifyPassword(password, hash))
    assert.not.ok(verifyPassword(password + ' ', hash))
  }
})

test('hashPassword writes $6$, a 16-character salt and 86 characters, with 5000 rounds by default', async () => {
  const hash = hashPassword('TANDBERG')
  assert.match(hash, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/)
  assert.ok(isPasswordHash(hash))
  assert.ok(verifyPassword('TANDBERG', hash))
  assert.not.ok(verifyPassword('tandberg', hash))
  assert.is.not(hashPassword('TANDBERG'), hash, 'a fresh salt each time')
})

test('a seeded hash is reproducible; another seed gives another salt', async () => {
  const a = hashPassword('admin-pw', seededRandom('unit-1', 'admin-password'))
  assert.is(hashPassword('admin-pw', seededRandom('unit-1', 'admin-password')), a)
  assert.is.not(hashPassword('admin-pw', seededRandom('unit-2', 'admin-password')), a)
})

test('rounds other than the default are written as rounds=N$ and verified', async () => {
  const hash = hashPassword('pw', seededRandom('r', 'r'), {rounds: 1000})
  assert.match(hash, /^\$6\$rounds=1000\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/)
  assert.ok(verifyPassword('pw', hash))
  assert.ok(isPasswordHash(hash))
  assert.throws(() => hashPassword('pw', undefined, {rounds: 999}), (e: unknown) => e instanceof BadInputError)
})

test('anything that is not a SHA-512 crypt hash verifies nothing', async () => {
  const notHashes = [
    '', 'TANDBERG', '*', '!', '$1$saltsalt$abcdefghijklmnopqrstuv',
    '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZF2lEjY5C',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz',
    '$6$rounds=10$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ]
  for (const s of notHashes) {
    assert.not.ok(isPasswordHash(s), s)
    assert.not.ok(verifyPassword('Hello world!', s), s)
  }
})

test('a forged huge round count is refused instead of stalling verification', async () => {
  const forged = '$6$rounds=999999999$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'
  assert.ok(isPasswordHash(forged))
  // refused by its round count before any hashing (a real 999999999-round hash would take minutes)
  assert.not.ok(verifyPassword('Hello world!', forged))
})

test.run()
