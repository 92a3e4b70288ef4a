// The way in for a command known from oclif.manifest.json: its module is imported straight from
// the path the manifest gives, and run as oclif runs it (Config.load, Command.run, flush, handle),
// without loading the rest of the framework (help, plugin discovery, the command index) that
// @oclif/core's execute() loads first. Help, --version, topics and anything the manifest does not
// know go through execute() unchanged, so that oclif alone answers them.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

function readJson(...path) {
  try {
    return JSON.parse(readFileSync(join(root, ...path), 'utf8'))
  } catch {
    return undefined
  }
}

const readManifest = () => readJson('oclif.manifest.json')

/**
 * The command that argv names, as oclif's normalizeArgv finds it with topicSeparator ' ' (words
 * taken while they name a topic or command), or undefined when oclif itself must answer: help
 * (--help before "--"), no command, a topic, or an id the manifest does not hold.
 */
export function fastCommand(argv, manifest = readManifest()) {
  if (!manifest?.commands || argv.length === 0) return undefined
  for (const arg of argv) {
    if (arg === '--') break
    if (arg === '--help') return undefined
  }
  const usable = new Set()
  for (const id of Object.keys(manifest.commands)) {
    const parts = id.split(':')
    for (let i = 1; i <= parts.length; i++) usable.add(parts.slice(0, i).join(':'))
  }
  const words = []
  for (const arg of argv) {
    if (!usable.has([...words, arg].join(':'))) break
    words.push(arg)
  }
  const id = words.join(':')
  const entry = manifest.commands[id]
  if (!entry || entry.pluginType !== 'core' || !Array.isArray(entry.relativePath)) return undefined
  // the bundle of the command (scripts/bundle.js), when the build made one for this very manifest
  const bundles = readJson('dist', 'bundle', 'index.json')
  const bundle = bundles?.version === manifest.version ? bundles.commands?.[id] : undefined
  return {id, file: join(root, ...entry.relativePath), bundle: bundle && join(root, ...bundle), argv: argv.slice(words.length)}
}

/** Runs it as @oclif/core's execute() → run() → config.runCommand() would, for a command of the root plugin. */
export async function runFast({id, file, bundle, argv}) {
  const {Command, flush, handle} = bundle
    ? await import(pathToFileURL(bundle).href)
    : await Promise.all([import(pathToFileURL(file).href), import('@oclif/core/flush'), import('@oclif/core/handle')])
      .then(([command, f, h]) => ({Command: command.default, flush: f.flush, handle: h.handle}))
  try {
    // what plugin.findCommand sets on a command class it loads
    Command.id = id
    Command.isESM = true
    Command.relativePath = file.slice(root.length + 1).split(/[\\/]/)
    await Command.run(argv, root)
    flush()
  } catch (error) {
    await handle(error)
  }
}
