// The floors of docs/architecture.md hold: no module imports (at run time) from a floor above its
// own, and no file outside the area modules names a path of an area.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {AREAS} from '../../src/areas/registry.js'
import {ROOT} from '../support/run.js'

/** Floor of each top-level module or folder of src/ (docs/architecture.md). */
const FLOORS: Record<string, number> = {
  'errors': 0, 'clock': 0, 'product': 0,
  'crypto': 1,
  'unit': 2,
  'disk': 3,
  'licensing': 4, 'profile': 4,
  'areas': 5, 'server': 5,
  'agent': 6, 'lifecycle': 6, 'backup': 6, 'report': 6,
  'cli': 8,
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : []
  })
}

const SRC = join(ROOT, 'src')
function floorOf(path: string): number | undefined {
  return FLOORS[relative(SRC, path).split('/')[0].replace(/\.ts$/, '')]
}

test('every floor of src/ is known', () => {
  for (const name of readdirSync(SRC)) assert.ok(floorOf(join(SRC, name)) !== undefined, `src/${name} has no floor in docs/architecture.md`)
})

test('no module imports a module of a higher floor', () => {
  const upward: string[] = []
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8')
    const specs = [
      ...[...text.matchAll(/^import (?!type )(?:\{[^}]*\}|\* as \w+|\w+) from '(\.[^']+)'/gm)].map((m) => m[1]),
      ...[...text.matchAll(/import\('(\.[^']+)'\)/g)].map((m) => m[1]),
    ]
    for (const spec of specs) {
      const target = normalize(join(dirname(file), spec))
      if (floorOf(target)! > floorOf(file)!) upward.push(`${relative(ROOT, file)} -> ${relative(ROOT, target)}`)
    }
  }
  assert.equal(upward, [])
})

test('paths of areas are declared only by their area modules', () => {
  const declared = AREAS.flatMap((a) => a.files.map((f) => f.rel))
  const leaks: string[] = []
  for (const file of files(SRC)) {
    if (relative(SRC, file).startsWith('areas/')) continue
    const text = readFileSync(file, 'utf8')
    for (const rel of declared) if (text.includes(`'${rel}'`) || text.includes(`\`${rel}`)) leaks.push(`${relative(ROOT, file)}: ${rel}`)
  }
  assert.equal(leaks, [])
})

test.run()
