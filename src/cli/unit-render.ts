import type {InspectResult} from '../report/inspect.js'
import {FailedError} from '../errors.js'
import type {VerifyProblem, VerifyResult} from '../report/verify.js'

// Human output of the read-only unit commands, shared by the commands and the quick path
// (src/cli/quick.ts), so that both print the same lines.

export function inspectLines(r: InspectResult): string[] {
  const lines = [
    `${r.unit}: ${r.brand} ${r.type} ${r.softwareVersion} (${r.edition})  ${r.hardware.udi}`,
    `  network   ${r.network.hostname || '(no hostname)'}${r.network.domain ? '.' + r.network.domain : ''}  ${r.network.lan1.address}  dns ${r.network.dns.join(', ') || 'none'}`,
    `  mgmt      ${r.mgmt.enabled ? r.mgmt.address : 'off'}`,
    `  fips      ${r.fips.enabled ? 'on' : 'off'}`,
    `  ssh       ${r.ssh.hostKeys.map((k) => `${k.type}-${k.bits}`).join(', ') || 'none (regenerated at boot)'}`,
    `  users     root ${r.users.root.default ? 'default' : 'set'}, admin ${r.users.admin.default ? 'default' : 'set'}`,
    `  options   ${r.optionKeys.map((k) => `${k.feature} ${k.name}`).join(', ') || 'none'}`,
  ]
  if (r.licensing.mode === 'smart') {
    const l = r.licensing
    lines.push(`  licensing ${l.registration.status} / ${l.authorization.status}  (${l.transport.mode}; evaluation until ${l.evaluation.expiresAt})`)
    for (const lic of l.licenses) lines.push(`            ${lic.type}: ${lic.inUse} in use, ${lic.status}`)
  } else lines.push('  licensing legacy (option keys)')
  lines.push(`  usage     ${r.usage.calls} calls, ${r.usage.desktop} desktop, ${r.usage.room} room; export control ${r.usage.exportControl.state}${r.usage.exportControl.limit === null ? ' (no limit)' : ` (limit ${r.usage.exportControl.limit})`}`)
  lines.push(`  logs      ${r.logs.files} files, ${r.logs.bytes} bytes`)
  for (const a of r.alarms) lines.push(`  alarm     ${a.id ?? '-'} ${a.key}: ${a.title}`)
  return lines
}

/** A problem as `image verify` prints it and as its error's data carries it. */
export function problemLine(p: VerifyProblem): string {
  return `${p.path}${p.area ? ` [${p.area}]` : ''}: ${p.problem}`
}

/** An unsound unit: exit 1, the problems as the error's data ([{path, area, problem}]). */
export function unsoundError(unitArg: string, result: VerifyResult): FailedError {
  return new FailedError(`${unitArg} is not sound: ${result.problems.length} problem(s).`, {
    actions: result.problems.map(problemLine),
    data: result.problems,
  })
}
