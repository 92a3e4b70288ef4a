#!/usr/bin/env node
// Runs the uvu suite (TypeScript through tsx) and closes with the line CI reads:
// "N passed, N failed". Fails when a test failed or when no test ran.
// Usage: node scripts/test.js [file-pattern]   e.g. node scripts/test.js factory-reset
import {spawn} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const filter = process.argv[2]
const pattern = filter ? `${filter}.*\\.test\\.ts$` : '\\.test\\.ts$'
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', pattern], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  env: {...process.env, FORCE_COLOR: '0'},
})
let out = ''
child.stdout.on('data', (chunk) => {
  out += chunk
  process.stdout.write(chunk)
})
child.on('close', (code) => {
  // eslint-disable-next-line no-control-regex
  const text = out.replace(/\u001B\[[0-9;]*m/g, '')
  const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? 0)
  const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? 0)
  const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0)
  const failed = Math.max(total - passed - skipped, code === 0 ? 0 : 1)
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  if (total === 0) console.error('no test ran')
  process.exit(code !== 0 || failed > 0 || total === 0 ? 1 : 0)
})
