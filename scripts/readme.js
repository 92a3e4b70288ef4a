#!/usr/bin/env node
// Writes the README's command reference from the commands themselves (oclif.manifest.json and
// oclif's own help renderer, as `oclif readme` does), between the markers
// <!-- commands --> and <!-- commandsstop -->. No network; run after a build:
//   node scripts/readme.js          rewrite README.md
//   node scripts/readme.js --check  exit 1 when README.md is not what the commands say
import {Config, Help} from '@oclif/core'
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const readmePath = join(root, 'README.md')
const START = '<!-- commands -->'
const STOP = '<!-- commandsstop -->'

/** The reference: a list of commands, then each command's help as oclif prints it (without colour, 100 columns). */
export async function commandReference() {
  const config = await Config.load(root)
  const help = new Help(config, {stripAnsi: true, maxWidth: 100})
  const commands = config.commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  const name = (c) => `${config.bin} ${c.id.replaceAll(':', ' ')}`
  const anchor = (c) => name(c).toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-')
  const lines = [
    'Generated from the commands by `node scripts/readme.js` (after `npm run build`); `xway COMMAND --help` shows the same, with the exit codes.',
    '',
    ...commands.map((c) => `* [\`${name(c)}\`](#${anchor(c)})`),
    '',
  ]
  for (const c of commands) {
    const text = help.formatCommand(c).replace(/[ \t]+$/gm, '').trimEnd()
    lines.push(`### \`${name(c)}\``, '', '```', text, '```', '')
  }
  return lines.join('\n')
}

export function withReference(readme, reference) {
  const start = readme.indexOf(START)
  const stop = readme.indexOf(STOP)
  if (start === -1 || stop < start) throw new Error(`README.md has no ${START} … ${STOP} section`)
  return `${readme.slice(0, start + START.length)}\n${reference}${readme.slice(stop)}`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const readme = readFileSync(readmePath, 'utf8')
  const next = withReference(readme, await commandReference())
  if (process.argv.includes('--check')) {
    if (next !== readme) {
      console.error('README.md: the command reference is not what the commands say; run `npm run build && node scripts/readme.js`.')
      process.exit(1)
    }
    console.log('README.md: the command reference is up to date')
  } else {
    writeFileSync(readmePath, next)
    console.log(`README.md: command reference written`)
  }
}
