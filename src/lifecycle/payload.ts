import {mkdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {IP, type IpConfig} from '../areas/ip.js'
import {FailedError} from '../errors.js'
import type {UnitReader} from '../unit/store.js'
import {extractTarGz} from '../unit/tar.js'
import type {Brand, ProductInfo, UnitType} from '../product.js'
import {BRAND, parseProductInfo} from '../areas/brand.js'
import {releaseKey} from './software.js'
import type {PayloadFile} from '../areas/area.js'
import {FIPS} from '../areas/fips.js'
import {PRODUCT} from '../areas/product.js'
import {AREAS} from '../areas/registry.js'

// The factory payload (mnt/harddisk/factory-reset/): what a factory reset reinstalls.

/** What planning needs from the factory payload. */
export interface PayloadSummary {
  version: string
  brand: Brand
  type: UnitType
  dns: string[]
  fipsEnabled: boolean
}



export type {PayloadFile}

export interface Payload {
  summary: PayloadSummary
  /** the image's files by unit-relative path (image.json left out) */
  files: Map<string, PayloadFile>
  releaseKey: string
}

/** Files the reset takes from the payload; a payload without them is corrupt. */
const REQUIRED_PAYLOAD_FILES = AREAS.filter((a) => a.resetSource === 'payload').flatMap((a) => a.files).filter((f) => f.required && f.kind === 'file').map((f) => f.rel)

function payloadError(what: string, info: ProductInfo, detail?: string): FailedError {
  return new FailedError(`${what}${detail ? ` (${detail})` : ''}: copy the ${info.softwareVersion} software image there, then run the reset again. Nothing was changed.`, {
    actions: [`Copy tandberg-image.tar.gz of ${info.softwareVersion} to ${PRODUCT.payloadImage} in the unit, then run the reset again.`],
  })
}

function rkError(what: string): FailedError {
  return new FailedError(`${what}: copy the unit's release key there (a text file holding only its 16 digits), then run the reset again. Nothing was changed.`, {
    actions: [`Write the unit's 16-digit release key to ${PRODUCT.payloadRk} in the unit (tandberg/etc/rk holds it), then run the reset again.`],
  })
}

/**
 * Reads and checks the unit's factory payload: the release key must be this unit's, and the image
 * must be the unit's version and hold every file the reset reinstalls. `scratch` is an empty folder
 * the image is extracted into (the transaction's staging area, or a temp folder for a preview).
 */
export async function loadPayload(unit: UnitReader, info: ProductInfo, scratch: string): Promise<Payload> {
  if (unit.stat(PRODUCT.payloadImage) === null) throw payloadError(`${PRODUCT.payloadImage} is missing`, info)
  const rkData = unit.read(PRODUCT.payloadRk)
  if (rkData === null) throw rkError(`${PRODUCT.payloadRk} is missing`)
  const rk = rkData.toString('utf8').trim()
  if (!/^\d{16}$/.test(rk)) throw rkError(`${PRODUCT.payloadRk} is corrupt (it must hold only the 16-digit release key)`)
  if (rk !== releaseKey(info.serial, info.softwareVersion)) {
    throw rkError(`${PRODUCT.payloadRk} does not hold the release key of this unit (serial ${info.serial}, ${info.softwareVersion})`)
  }
  mkdirSync(scratch, {recursive: true})
  let entries
  const image = unit.openRead(PRODUCT.payloadImage) // a link there is refused as a link, not as a corrupt payload
  try {
    entries = await extractTarGz(image, scratch)
  } catch (error) {
    throw payloadError(`${PRODUCT.payloadImage} is corrupt`, info, (error as Error).message.replace(/\.$/, ''))
  }
  const files = new Map<string, PayloadFile>()
  for (const e of entries) {
    if (e.kind !== 'file') continue
    files.set(e.rel, {data: readFileSync(join(scratch, e.rel)), mode: e.mode & 0o777})
  }
  const imageJson = files.get('image.json')
  if (!imageJson) throw payloadError(`${PRODUCT.payloadImage} is corrupt`, info, 'it holds no image.json')
  let version: string
  try {
    version = String((JSON.parse(imageJson.data.toString('utf8')) as {version?: unknown}).version)
  } catch {
    throw payloadError(`${PRODUCT.payloadImage} is corrupt`, info, 'its image.json is not valid JSON')
  }
  if (version !== info.softwareVersion) throw payloadError(`${PRODUCT.payloadImage} holds software ${version}, but the unit runs ${info.softwareVersion}`, info)
  files.delete('image.json')
  for (const rel of REQUIRED_PAYLOAD_FILES) {
    const f = files.get(rel)
    if (!f) throw payloadError(`${PRODUCT.payloadImage} is corrupt`, info, `it lacks ${rel}`)
    if (rel.endsWith('.json')) {
      try {
        JSON.parse(f.data.toString('utf8'))
      } catch {
        throw payloadError(`${PRODUCT.payloadImage} is corrupt`, info, `its ${rel} is not valid JSON`)
      }
    }
  }
  let product: ProductInfo
  try {
    product = parseProductInfo(files.get(BRAND.productInfo)!.data.toString('utf8'))
  } catch (error) {
    throw payloadError(`${PRODUCT.payloadImage} is corrupt`, info, (error as Error).message.replace(/\.$/, ''))
  }
  const json = <T>(rel: string): T => JSON.parse(files.get(rel)!.data.toString('utf8')) as T
  return {
    summary: {
      version,
      brand: product.brand,
      type: product.type,
      dns: json<IpConfig>(IP.file).dns ?? [],
      fipsEnabled: json<{enabled?: boolean}>(FIPS.file).enabled === true,
    },
    files,
    releaseKey: rk,
  }
}

