// The license types of an Expressway and their counts: the one definition both the agent and
// the license server use.

export const LICENSE_TYPES = ['rms', 'room', 'desktop'] as const
export type LicenseType = (typeof LICENSE_TYPES)[number]
export type LicenseCounts = Record<LicenseType, number>

export const LICENSE_TYPE_NAMES: Record<LicenseType, string> = {
  rms: 'Rich Media Session',
  room: 'Room Registrations',
  desktop: 'Desktop Registrations',
}

export function isLicenseType(value: unknown): value is LicenseType {
  return typeof value === 'string' && (LICENSE_TYPES as readonly string[]).includes(value)
}

export function zeroCounts(): LicenseCounts {
  return {rms: 0, room: 0, desktop: 0}
}
