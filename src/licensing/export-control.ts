import type {ProductInfo} from '../product.js'

export type ExportControlState = 'ok' | 'approaching' | 'reached'
/** Sessions in use: calls, desktop and room registrations (the usage area stores them). */
export interface SessionCounts {
  calls: number
  desktop: number
  room: number
}

/** The seed: 2,500 calls + registrations on the export-restricted image, 2,244 with WebRTC; none on Select. */
export const EXPORT_CONTROL_LIMIT = 2500
export const EXPORT_CONTROL_LIMIT_WEBRTC = 2244
export const APPROACHING_RATIO = 0.9
/** Once reached, new sessions are admitted only below the limit minus 1 % (2,475). */
export const LOWER_WATERMARK_RATIO = 0.99

export function exportControlLimit(info: Pick<ProductInfo, 'edition'>, webrtc: boolean): number | null {
  if (info.edition === 'select') return null
  return webrtc ? EXPORT_CONTROL_LIMIT_WEBRTC : EXPORT_CONTROL_LIMIT
}

export function sessionTotal(usage: SessionCounts): number {
  return usage.calls + usage.desktop + usage.room
}

/** The next export-control state for a total, with hysteresis: `reached` holds until below the lower watermark. */
export function nextExportControlState(previous: ExportControlState, total: number, limit: number | null): ExportControlState {
  if (limit === null) return 'ok'
  if (total >= limit) return 'reached'
  if (previous === 'reached' && total >= Math.floor(limit * LOWER_WATERMARK_RATIO)) return 'reached'
  if (total >= Math.ceil(limit * APPROACHING_RATIO)) return 'approaching'
  return 'ok'
}

export interface ExportControlThresholds {
  limit: number
  /** the approaching alarm is raised from here (90 %) */
  approaching: number
  /** once reached, new sessions are admitted only below this (limit − 1 %) */
  lowerWatermark: number
}

/** The three numbers of export control for a limit: 2250/2500/2475, or 2020/2244/2221 with WebRTC; null on Select. */
export function exportControlThresholds(limit: number | null): ExportControlThresholds | null {
  if (limit === null) return null
  return {limit, approaching: Math.ceil(limit * APPROACHING_RATIO), lowerWatermark: Math.floor(limit * LOWER_WATERMARK_RATIO)}
}

/**
 * Whether one more call or registration may start: never while `reached` (which holds until the
 * total drops below the lower watermark), nor when it would go past the limit.
 */
export function admitsOneMore(state: ExportControlState, total: number, limit: number | null): boolean {
  if (limit === null) return true
  const current = nextExportControlState(state, total, limit)
  return current !== 'reached' && total + 1 <= limit
}
