#!/usr/bin/env node
// `npm start`: the main job on the embedded default — bring up the demo lab (an Expressway-C/E
// pair built from the bundled software images, registered to an embedded license server), then
// show its status. The lab lands in lab-out/demo-lab; run again to reuse it.
import {spawnSync} from 'node:child_process'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'run.js')
const out = join(root, 'lab-out', 'demo-lab')
for (const args of [['lab', 'up', join(root, 'profiles', 'demo-lab.yaml'), '--out', out], ['lab', 'status', out]]) {
  console.log(`$ xway ${args.join(' ').replaceAll(root + '/', '')}`)
  const r = spawnSync(process.execPath, [bin, ...args], {stdio: 'inherit', cwd: root})
  if (r.status !== 0) process.exit(r.status ?? 1)
}
