import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {test} from 'uvu'
import * as assert from 'uvu/assert'
import ts from 'typescript'
import {ROOT} from '../support/run.js'

// Output speaks the appliance's language (SPEC 11, Words): no message names where the project
// got its facts. Every string and template literal of src/ and commands/ is read with the
// TypeScript parser (comments may cite their sources; strings are what users read).

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : name.endsWith('.ts') ? [path] : []
  })
}

function literals(file: string): Array<{line: number; text: string}> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const out: Array<{line: number; text: string}> = []
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      out.push({line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text})
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

const SOURCES = /\bthe seed\b|\bseed's\b|\bseed:\s*["“]/i

test('no string of src/ or commands/ names where the project got its facts', async () => {
  const found: string[] = []
  for (const file of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'commands'))]) {
    for (const {line, text} of literals(file)) if (SOURCES.test(text)) found.push(`${relative(ROOT, file)}:${line}: ${text.slice(0, 100)}`)
  }
  assert.equal(found, [])
})

test('the scan sees strings and template parts (a check that cannot fail is no check)', async () => {
  const texts = literals(join(ROOT, 'src/licensing/reservation.ts')).map((l) => l.text)
  assert.ok(texts.some((t) => t.includes('Cisco: "Reservation is disabled by default. You must enable it."')))
  assert.ok(SOURCES.test('quoted (the seed: "x")') && SOURCES.test('The seed\'s wording') && !SOURCES.test('derive keys from this seed: same profile'))
})

test.run()
