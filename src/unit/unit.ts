import {BadInputError} from '../errors.js'
import {P} from './paths.js'
import type {UnitReader} from './store.js'

export type Brand = 'Expressway' | 'VCS'
export type UnitType = 'Expressway-C' | 'Expressway-E'
export type Edition = 'standard' | 'select'

export interface ProductInfo {
  formatVersion: 1
  brand: Brand
  type: UnitType
  edition: Edition
  softwareVersion: string
  pid: string
  serial: string
}

const FIELDS: Array<[keyof ProductInfo, string]> = [
  ['formatVersion', 'format_version'], ['brand', 'brand'], ['type', 'type'], ['edition', 'edition'],
  ['softwareVersion', 'software_version'], ['pid', 'pid'], ['serial', 'serial'],
]

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function renderProductInfo(info: ProductInfo): string {
  const lines = FIELDS.map(([key, tag]) => `  <${tag}>${xmlEscape(String(info[key]))}</${tag}>`)
  return `<?xml version="1.0" encoding="UTF-8"?>\n<product_info>\n${lines.join('\n')}\n</product_info>\n`
}

export function parseProductInfo(xml: string, where = P.productInfo): ProductInfo {
  const get = (tag: string): string => {
    const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)
    if (!m) throw new BadInputError(`${where}: <${tag}> is missing.`, {actions: ['Run xway image verify on the unit.']})
    return m[1].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')
  }
  const brand = get('brand')
  const type = get('type')
  const edition = get('edition')
  if (brand !== 'Expressway' && brand !== 'VCS') throw new BadInputError(`${where}: unknown brand "${brand}".`)
  if (type !== 'Expressway-C' && type !== 'Expressway-E') throw new BadInputError(`${where}: unknown type "${type}".`)
  if (edition !== 'standard' && edition !== 'select') throw new BadInputError(`${where}: unknown edition "${edition}".`)
  return {formatVersion: 1, brand, type, edition, softwareVersion: get('software_version'), pid: get('pid'), serial: get('serial')}
}

/** Versions compare by their numbers: X14.0.2 < X14.2.0. */
export function compareVersions(a: string, b: string): number {
  const nums = (v: string) => v.replace(/^X/i, '').split('.').map((n) => Number.parseInt(n, 10) || 0)
  const [x, y] = [nums(a), nums(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

/** An Expressway on X14.2 or later: smart licensing only, option keys removed, the -v/-t reset dialogue. */
export function isX142Expressway(info: Pick<ProductInfo, 'brand' | 'softwareVersion'>): boolean {
  return info.brand === 'Expressway' && compareVersions(info.softwareVersion, 'X14.2.0') >= 0
}

export function udiOf(info: Pick<ProductInfo, 'pid' | 'serial'>): string {
  return `PID:${info.pid},SN:${info.serial}`
}

export function readJson<T>(files: UnitReader, rel: string, fallback?: T): T {
  const data = files.read(rel)
  if (data === null) {
    if (fallback !== undefined) return fallback
    throw new BadInputError(`${rel} is missing from the unit.`, {actions: ['Run xway image verify on the unit.']})
  }
  try {
    return JSON.parse(data.toString('utf8')) as T
  } catch {
    throw new BadInputError(`${rel} is not valid JSON.`, {actions: ['Run xway image verify on the unit.']})
  }
}

export function readText(files: UnitReader, rel: string): string | null {
  return files.read(rel)?.toString('utf8') ?? null
}
