import type {LicensingView} from '../licensing/status.js'

/** Human lines for a licensing view (the --json result is the view itself). */
export function licensingLines(view: LicensingView): string[] {
  if (view.mode !== 'smart') return ['Licensing: legacy (option keys); smart licensing is not enabled on this unit']
  const r = view.registration
  const a = view.authorization
  const lines = [
    `Transport:      ${view.transport.mode}${view.transport.url ? ` ${view.transport.url}` : ''}${view.transport.proxy ? ` via proxy ${view.transport.proxy.host}:${view.transport.proxy.port}${view.transport.proxy.username ? ` (user ${view.transport.proxy.username})` : ''}` : ''}${view.hideIdentity ? ', identity hidden' : ''}`,
    `Registration:   ${r.status}${r.virtualAccount ? ` (${r.smartAccount} / ${r.virtualAccount}, export-controlled functionality ${r.exportControlled})` : ''}`,
  ]
  if (r.expiresAt) lines.push(`                expires ${r.expiresAt}${r.nextRenewalAt ? `, renewal ${r.nextRenewalAt}` : ''}`)
  if (r.lastError) lines.push(`                last error: ${r.lastError}`)
  if (r.nextAttemptAt) lines.push(`                next attempt ${r.nextAttemptAt}`)
  lines.push(`Authorization:  ${a.status}${a.expiresAt ? ` (expires ${a.expiresAt}, renewal ${a.nextRenewalAt})` : ''}`)
  if (view.evaluation.startedAt) lines.push(`Evaluation:     ${view.evaluation.startedAt} to ${view.evaluation.expiresAt}${view.unauthorized ? ' (Unauthorized: no new registrations until the unit is registered)' : ''}`)
  for (const l of view.licenses) lines.push(`  ${l.type}: ${l.inUse} in use, ${l.status}`)
  return lines
}
