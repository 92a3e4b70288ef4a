#!/usr/bin/env node
// Packs each software image in images/<version>/ into dist/images/<version>/tandberg-image.tar.gz:
// byte-for-byte reproducible (fixed mtimes, owners root/root, sorted order, gzip without a
// timestamp). `image create` puts the same bytes into every unit's mnt/harddisk/factory-reset/.
// Run by `npm run build`; `node scripts/build-images.js --check` verifies two packs are identical.
import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const {availableVersions, packSoftwareImage} = await import(join(root, 'dist/src/lifecycle/software.js'))
for (const version of availableVersions()) {
  const image = await packSoftwareImage(version)
  if (process.argv.includes('--check') && !image.equals(await packSoftwareImage(version))) {
    console.error(`${version}: two packs differ`)
    process.exit(1)
  }
  const out = join(root, 'dist', 'images', version, 'tandberg-image.tar.gz')
  mkdirSync(dirname(out), {recursive: true})
  writeFileSync(out, image)
  console.log(`${version}: ${image.length} bytes, sha256 ${createHash('sha256').update(image).digest('hex')}`)
}
