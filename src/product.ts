// The product a unit is: brand, type, edition, software version, PID and serial (the brand area
// stores it in info/product_info.xml), and the version rules every floor uses.

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
