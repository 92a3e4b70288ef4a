#!/usr/bin/env node
// `xway --version` is what scripts call most to probe for the tool: answer it without loading
// the CLI framework (same text as oclif prints), so that it starts about as fast as node itself.
// The read-only commands scripts call most start through src/cli/quick.ts (no CLI framework);
// a command the manifest knows starts through bin/fast-path.js; everything else through oclif.
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  const {readFileSync} = await import('node:fs')
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`${pkg.oclif?.bin ?? pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (argv.length >= 3 && process.env.XWAY_QUICK !== '0' && (await quick())?.quickCommand(argv)) {
  const {quickCommand, runQuick} = await quick()
  await runQuick(quickCommand(argv))
} else {
  const {fastCommand, runFast} = await import('./fast-path.js')
  const fast = fastCommand(argv)
  if (fast) {
    await runFast(fast)
  } else {
    const {execute} = await import('@oclif/core')
    await execute({dir: import.meta.url})
  }
}

/** The quick path's module: its one-file bundle when the build made one, else the compiled module. */
async function quick() {
  return import('../dist/bundle/quick.mjs').catch(() => import('../dist/src/cli/quick.js')).catch(() => null)
}
