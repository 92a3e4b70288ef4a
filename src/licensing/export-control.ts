import type {ExportControlState, UsageFile} from '../areas/state.js'
import type {ProductInfo} from '../unit/unit.js'

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

export function sessionTotal(usage: Pick<UsageFile, 'calls' | 'desktop' | 'room'>): number {
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
