import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {entryRefusal, type EntryType, UnitTreePolicy} from '../../src/unit/entry-policy.js'

const policy = () => new UnitTreePolicy((m) => new Error(m))

function refusal(fn: () => void): string {
  try {
    fn()
  } catch (error) {
    return (error as Error).message
  }
  assert.unreachable('expected a refusal')
  return ''
}

test('missing parent folders are returned, outermost first, and only once', () => {
  const p = policy()
  assert.equal(p.admit('a/b/c/file', 'file'), ['a', 'a/b', 'a/b/c'])
  assert.equal(p.admit('a/b/c/other', 'file'), [])
  assert.equal(p.admit('a/b', 'dir'), [], 'a folder named again after its files is not a duplicate')
  assert.equal(p.admit('a/x/y', 'dir'), ['a/x'])
})

test('a link is resolved against where it really lands, through earlier links', () => {
  const p = policy()
  p.admit('a', 'dir')
  p.admit('a/b', 'symlink', '..')
  // lexically a/b/../outside is "outside" under the root; really a/b is the root
  assert.is(refusal(() => p.admit('a/b/tandberg', 'symlink', '../outside')), entryRefusal('a/b/tandberg', 'is a link leaving the unit (-> ../outside)'))
  assert.match(refusal(() => p.admit('x', 'symlink', 'a/b/../escape')), /"x" is a link leaving the unit/)
  p.admit('y', 'symlink', 'a/b/a/b/a')
})

test('a write through a link is refused, even through a link that stays inside', () => {
  const p = policy()
  p.admit('info', 'dir')
  p.admit('l', 'symlink', 'info')
  assert.is(refusal(() => p.admit('l/x', 'file')), entryRefusal('l/x', 'lies under a link ("l")'))
  assert.is(refusal(() => p.admit('l/d/e', 'dir')), entryRefusal('l/d/e', 'lies under a link ("l")'))
  p.admit('f', 'file')
  assert.is(refusal(() => p.admit('f/x', 'file')), entryRefusal('f/x', 'lies under a file ("f")'))
})

test('finish() refuses a link that a later link made lead out', () => {
  const p = policy()
  p.admit('c', 'symlink', 'q/..')
  p.admit('a', 'dir')
  p.admit('a/b', 'symlink', '..')
  p.admit('q', 'symlink', 'a/b')
  assert.is(refusal(() => p.finish()), entryRefusal('c', 'is a link leaving the unit (-> q/..)'))
  const fine = policy()
  fine.admit('c', 'symlink', 'q/..')
  fine.admit('q', 'dir')
  fine.finish()
})

test('absolute links, loops, empty targets and duplicates are refused', () => {
  const p = policy()
  assert.match(refusal(() => p.admit('abs', 'symlink', '/etc/passwd')), /"abs" is a link leaving the unit \(-> \/etc\/passwd, an absolute target\)/)
  p.admit('a', 'symlink', 'b')
  p.admit('b', 'symlink', 'a')
  assert.match(refusal(() => p.finish()), /"a" is a link that does not resolve within 40 links/)
  assert.match(refusal(() => policy().admit('e', 'symlink', '')), /empty target/)
  const q = policy()
  q.admit('d', 'dir')
  assert.is(refusal(() => q.admit('d', 'symlink', '.')), entryRefusal('d', 'appears twice'))
})

test('hard links, devices, FIFOs, sockets and other types are refused in the same words everywhere', () => {
  const cases: Array<[EntryType, string]> = [['hardlink', 'is a hard link'], ['device', 'is a device'], ['fifo', 'is a FIFO'], ['socket', 'is a socket']]
  for (const [type, what] of cases) assert.is(refusal(() => policy().admit('n', type)), entryRefusal('n', what))
  assert.is(refusal(() => policy().admit('n', 'unsupported', '', 'tar type "S"')), entryRefusal('n', 'is of a type no unit holds (tar type "S")'))
  assert.match(entryRefusal('n', 'is a FIFO'), /^The entry "n" is a FIFO: refused, since a unit holds only real folders, regular files and links that stay inside it\.$/)
})

test.run()
