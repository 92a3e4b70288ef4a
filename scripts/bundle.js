#!/usr/bin/env node
// Bundles the compiled commands with the parts of @oclif/core they use (esbuild, ESM, shared
// chunks), so that a command starts by loading a handful of files instead of a few hundred:
// on these machines resolving and reading modules is most of a cold start (SPEC 8: read-only
// commands within 2x of `node -e ""`). bin/fast-path.js runs a bundled command when its bundle
// exists and falls back to the compiled file otherwise; the code is the same either way.
// Heavy libraries stay outside (imported only where used), as do commands that resolve files
// next to their own modules (a bundle would move those).
import {build} from 'esbuild'
import {readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'bundle')
const manifest = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))

/** Loaded only where used, from node_modules as they are. */
const EXTERNAL = ['node-forge', 'better-sqlite3', 'ajv', 'js-yaml', 'listr2', 'pg', 'playwright-core', '@inquirer/*', 'typescript', 'ts-node', 'tsx']
/** Modules that find files beside themselves (`new URL('./x.js', import.meta.url)`): a command reaching one is not bundled. */
const NOT_MOVABLE = [/dist\/src\/lifecycle\/lab\.js$/, /dist\/src\/server\/cluster\.js$/]

// CommonJS inside an ES module bundle still calls require() for Node's built-ins
const BANNER = "import {createRequire as __xwayCreateRequire} from 'node:module'; const require = __xwayCreateRequire(import.meta.url);"

rmSync(out, {recursive: true, force: true})
const entries = Object.values(manifest.commands).filter((c) => c.pluginType === 'core' && Array.isArray(c.relativePath))
const virtual = {
  name: 'xway-entries',
  setup(b) {
    b.onResolve({filter: /^xway-entry:/}, (a) => ({path: a.path.slice('xway-entry:'.length), namespace: 'xway-entry'}))
    b.onLoad({filter: /.*/, namespace: 'xway-entry'}, (a) => ({
      resolveDir: root,
      contents: `export {default as Command} from ${JSON.stringify(join(root, ...manifest.commands[a.path].relativePath))}\n` +
        "export {flush} from '@oclif/core/flush'\nexport {handle} from '@oclif/core/handle'\n",
    }))
  },
}
// ejs renders help templates only, never while a command runs, yet oclif requires it at load:
// the bundles get a stand-in that loads the real one on first use
const lazyEjs = {
  name: 'xway-lazy-ejs',
  setup(b) {
    b.onResolve({filter: /^ejs$/}, (a) => (a.importer.includes('@oclif/core') ? {path: 'ejs', namespace: 'xway-lazy'} : undefined))
    b.onLoad({filter: /.*/, namespace: 'xway-lazy'}, () => ({
      loader: 'js',
      contents: "let ejs\nconst load = () => (ejs ??= require('node:module').createRequire(require.resolve('@oclif/core/package.json'))('ejs'))\n" +
        'module.exports = {render: (...args) => load().render(...args)}\n',
    }))
  },
}
const result = await build({
  entryPoints: Object.fromEntries(entries.map((c) => [c.id.replaceAll(':', '/'), `xway-entry:${c.id}`])),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: out,
  outExtension: {'.js': '.mjs'},
  chunkNames: 'chunks/[name]-[hash]',
  external: EXTERNAL,
  banner: {js: BANNER},
  plugins: [virtual, lazyEjs],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
})

// the quick path of the read-only commands (src/cli/quick.ts): one file, no framework, so that a
// start resolves and reads one module instead of dozens
await build({
  entryPoints: {quick: join(root, 'dist', 'src', 'cli', 'quick.js')},
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir: out,
  outExtension: {'.js': '.mjs'},
  external: EXTERNAL,
  banner: {js: BANNER},
  logLevel: 'warning',
  legalComments: 'none',
  minifyWhitespace: true,
  minifySyntax: true,
})

// which commands are bundled: those whose inputs hold nothing that must stay in place
const bundled = {}
for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint?.startsWith('xway-entry:')) continue
  const id = output.entryPoint.slice('xway-entry:'.length)
  const inputs = new Set()
  const visit = (f) => {
    const o = result.metafile.outputs[f]
    if (!o || inputs.has(f)) return
    inputs.add(f)
    for (const i of Object.keys(o.inputs)) inputs.add(i)
    for (const imp of o.imports) if (!imp.external) visit(imp.path)
  }
  visit(file)
  if ([...inputs].some((i) => NOT_MOVABLE.some((re) => re.test(i)))) continue
  bundled[id] = relative(root, join(root, file)).split(/[\\/]/)
}
// XWAY_BUNDLE_META=FILE writes esbuild's metafile there, to see what a bundle holds
if (process.env.XWAY_BUNDLE_META) writeFileSync(process.env.XWAY_BUNDLE_META, JSON.stringify(result.metafile))
writeFileSync(join(out, 'index.json'), JSON.stringify({version: manifest.version, commands: bundled}, null, 2) + '\n')
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
console.log(`dist/bundle: ${Object.keys(bundled).length} of ${entries.length} commands bundled, ${Object.keys(result.metafile.outputs).length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB`)
