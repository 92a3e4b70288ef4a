import {createHmac} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {BadInputError} from '../errors.js'
import {walk} from '../unit/fsutil.js'
import {type PackEntry, tarGzStream} from '../unit/tar.js'

export interface SoftwareImageInfo {
  version: string
  series: string
  smartLicensing: 'required-on-expressway' | 'optional'
  optionKeysOnExpressway: boolean
  description: string
}

/** images/ of this installation (beside dist/ or src/). */
export function imagesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'images')) && existsSync(join(dir, 'package.json'))) return join(dir, 'images')
    dir = dirname(dir)
  }
  throw new Error('images/ not found beside the xway installation')
}

export function availableVersions(): string[] {
  return readdirSync(imagesDir()).filter((v) => existsSync(join(imagesDir(), v, 'image.json'))).sort()
}

export function softwareImage(version: string): {dir: string; info: SoftwareImageInfo} {
  const dir = join(imagesDir(), version)
  if (!existsSync(join(dir, 'image.json'))) {
    throw new BadInputError(`Software version ${version} is not available; this xway ships ${availableVersions().join(', ')}.`)
  }
  return {dir, info: JSON.parse(readFileSync(join(dir, 'image.json'), 'utf8')) as SoftwareImageInfo}
}

/** Every file of a software image's factory defaults, in a fixed order, without image.json. */
export function imageEntries(version: string): PackEntry[] {
  const {dir} = softwareImage(version)
  return walk(dir).filter((e) => e.rel !== 'image.json').map(({rel, stat}) =>
    stat.isDirectory()
      ? {rel, kind: 'dir' as const, mode: 0o755, size: 0}
      : {rel, kind: 'file' as const, mode: rel.startsWith('tandberg/persistent/users/') ? 0o600 : 0o644, size: stat.size, source: join(dir, rel)},
  )
}

/** The version's `tandberg-image.tar.gz`, byte-for-byte reproducible (fixed mtimes, owners, order). */
export async function packSoftwareImage(version: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of tarGzStream([imageJsonEntry(version), ...imageEntries(version)], {level: 9})) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function imageJsonEntry(version: string): PackEntry {
  const data = readFileSync(join(softwareImage(version).dir, 'image.json'))
  return {rel: 'image.json', kind: 'file', mode: 0o644, size: data.length, data}
}

/** The release key: 16 digits bound to the serial number and the base software version. */
export function releaseKey(serial: string, version: string): string {
  const base = version.split('.').slice(0, 2).join('.')
  const digest = createHmac('sha256', 'xway release key').update(`${serial.toUpperCase()}:${base}`).digest()
  let digits = ''
  for (let i = 0; digits.length < 16; i++) digits += String(digest[i % digest.length] % 10)
  return digits
}
