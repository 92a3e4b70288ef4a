import {BadInputError} from '../errors.js'
import {type ProductInfo, udiOf} from '../product.js'
import {type AreaModule, file} from './area.js'

/** Brand, type, edition, software version, PID and serial; the release key (VCS and pre-X14.2). */
export const BRAND = {productInfo: 'info/product_info.xml', releaseKey: 'tandberg/etc/rk'} as const

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

export function parseProductInfo(xml: string, where: string = BRAND.productInfo): ProductInfo {
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

export const brandArea: AreaModule = {
  name: 'brand',
  title: 'brand and type',
  files: [file(BRAND.productInfo, 'product-xml', {required: true}), file(BRAND.releaseKey, 'digits-16')],
  question: {flag: 'v', long: 'keep-brand', prompt: 'Keep brand and type of the device [YES/NO]?', order: 1, legacyPrompt: null, legacyOrder: null},
  resetSource: 'payload',
  backup: false,
  restore: 'none',
  resetDetail({series, info, action, after}) {
    if (series === 'legacy') return `${info.brand} ${info.type} (not asked: the ${info.brand === 'VCS' ? 'Cisco VCS' : 'pre-X14.2'} reset keeps brand and type)`
    return action === 'kept' ? `${info.brand} ${info.type} kept` : `becomes ${after.brand} ${after.type} (factory default)`
  },
  applyReset(ctx) {
    if (ctx.action === 'kept') return
    ctx.put(BRAND.productInfo, renderProductInfo({...ctx.info, brand: ctx.after.brand, type: ctx.after.type}))
    ctx.put(BRAND.releaseKey, `${ctx.payload.releaseKey}\n`)
  },
  inspect: ({info}) => ({
    brand: info.brand, type: info.type, edition: info.edition, softwareVersion: info.softwareVersion,
    hardware: {pid: info.pid, serial: info.serial, udi: udiOf(info)},
  }),
}
