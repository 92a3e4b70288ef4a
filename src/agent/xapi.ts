import {readUsage} from '../areas/usage.js'
import {openUnit} from '../areas/open.js'
import {type ErrorCode, exitCodeFor, UsageError, XwayError} from '../errors.js'
import {makeConfirmationCode} from '../licensing/codes.js'
import {reservationCancel, reservationEnable, reservationInstall, reservationRequest, reservationReturn, reservationReturnAuthorization} from './reservation.js'
import {clusterShareOf, readLicensing} from '../areas/licensing.js'
import {licensingStatus} from '../licensing/status.js'
import {udiOf} from '../product.js'

// The appliance's own command language for reservation (the seed's "CLI Commands for PLR and
// SLR"), on a unit: one line, or many read from stdin as a TSH session would.
//   xconfiguration License Smart ReservationEnable: On|Off     (no value: shows the setting)
//   xcommand License Smart Reservation Request | Install "<code>" | Return | ReturnAuthorization "<code>" | Cancel
//   xstatus License Smart [path…]
// Keywords are case-insensitive, as on the appliance. Replies follow its style:
//   *r ReservationRequestResult (status=OK):
//       RequestCode: "CB-Z…"
//   ** end
//
//   OK
// and, for an error, `*r …Result (status=Error):` with a Reason line, `** end`, then `ERROR`.
// A configuration change answers `OK` alone (the seed shows exactly that).

export type XapiReservationCommand = 'Request' | 'Install' | 'Return' | 'ReturnAuthorization' | 'Cancel'

export type XapiCommand =
  | {kind: 'config-set'; enable: boolean}
  | {kind: 'config-get'}
  | {kind: 'command'; name: XapiReservationCommand; code: string | null}
  | {kind: 'status'; path: string[]}

export interface XapiReply {
  /** the line as given (a long authorization code shortened) */
  command: string
  status: 'OK' | 'Error'
  /** the reply as the appliance prints it, line by line */
  lines: string[]
  /** the same object as the matching xway command's --json result; null for errors */
  result: unknown
  error: {code: ErrorCode; message: string; actions: string[]} | null
}

const NAMES: Record<string, XapiReservationCommand> = {
  request: 'Request', install: 'Install', return: 'Return', returnauthorization: 'ReturnAuthorization', cancel: 'Cancel',
}

const CONFIG_RE = /^xconfiguration\s+license\s+smart\s+reservationenable(?:\s*:\s*(\S+)?)?\s*$/i
const COMMAND_RE = /^xcommand\s+license\s+smart\s+reservation\s+([a-z]+)(?:\s+([\s\S]*))?$/i
const STATUS_RE = /^xstatus\s+license\s+smart((?:\s+\S+)*)\s*$/i

const SYNTAX = [
  'xconfiguration License Smart ReservationEnable: On|Off',
  'xcommand License Smart Reservation Request|Install "<code>"|Return|ReturnAuthorization "<code>"|Cancel',
  'xstatus License Smart',
]

function codeOf(rest: string | undefined, name: string): string {
  let text = (rest ?? '').trim()
  // the parameter style of other xcommands: AuthorizationCode: "<code>"
  text = text.replace(/^(?:authorizationcode|authcode|code)\s*:\s*/i, '')
  if (text.startsWith('"')) {
    if (text.length < 2 || !text.endsWith('"')) throw new UsageError(`${name}: the authorization code has no closing double quote.`, {actions: [`xcommand License Smart Reservation ${name} "<authorization code>"`]})
    text = text.slice(1, -1).replace(/\\"/g, '"')
  }
  if (text.trim() === '') throw new UsageError(`${name} needs the authorization code, in double quotes.`, {actions: [`xcommand License Smart Reservation ${name} "<authorization code>"`]})
  return text
}

/** Parses one line of the appliance's command language. Throws UsageError (exit 2) for anything else. */
export function parseXapiLine(line: string): XapiCommand {
  const text = line.trim()
  let m = CONFIG_RE.exec(text)
  if (m) {
    if (m[1] === undefined) {
      if (/:\s*$/.test(text)) throw new UsageError('ReservationEnable needs a value: On or Off.', {actions: [SYNTAX[0]!]})
      return {kind: 'config-get'}
    }
    const value = m[1].toLowerCase()
    if (value !== 'on' && value !== 'off') throw new UsageError(`ReservationEnable: "${m[1]}" is not On or Off.`, {actions: [SYNTAX[0]!]})
    return {kind: 'config-set', enable: value === 'on'}
  }
  m = COMMAND_RE.exec(text)
  if (m) {
    const name = NAMES[m[1]!.toLowerCase()]
    if (!name) throw new UsageError(`Unknown command: License Smart Reservation ${m[1]}.`, {actions: [SYNTAX[1]!]})
    if (name === 'Install' || name === 'ReturnAuthorization') return {kind: 'command', name, code: codeOf(m[2], name)}
    if ((m[2] ?? '').trim() !== '') throw new UsageError(`${name} takes no parameter.`, {actions: [SYNTAX[1]!]})
    return {kind: 'command', name, code: null}
  }
  m = STATUS_RE.exec(text)
  if (m) return {kind: 'status', path: m[1]!.trim() === '' ? [] : m[1]!.trim().split(/\s+/)}
  throw new UsageError(`Unknown command: ${shorten(text)}`, {actions: SYNTAX})
}

function countQuotes(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) if (text[i] === '"' && text[i - 1] !== '\\') n++
  return n
}

/**
 * Splits a session's input into commands: one per line, except that a line whose double quote
 * is not closed goes on over the next lines (a pasted authorization code that spans lines).
 * Blank lines and lines starting with # are skipped.
 */
export function splitXapiInput(text: string): string[] {
  const out: string[] = []
  let open: string | null = null
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '')
    if (open !== null) {
      open += '\n' + line
      if (countQuotes(open) % 2 === 0) {
        out.push(open)
        open = null
      }
      continue
    }
    if (line.trim() === '' || line.trim().startsWith('#')) continue
    if (countQuotes(line) % 2 === 1) open = line
    else out.push(line)
  }
  if (open !== null) out.push(open)
  return out
}

function shorten(line: string): string {
  const one = line.replace(/\s*\n\s*/g, ' ').trim()
  return one.length > 160 ? `${one.slice(0, 120)}…${one.slice(-20)}` : one
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

const ok = (name: string, fields: Array<[string, string]>): string[] =>
  [`*r ${name} (status=OK):`, ...fields.map(([k, v]) => `    ${k}: ${v}`), '** end', '', 'OK']

function resultName(cmd: XapiCommand | null): string {
  if (cmd === null) return 'Result'
  if (cmd.kind === 'config-set' || cmd.kind === 'config-get') return 'Configuration'
  if (cmd.kind === 'status') return 'Status'
  return `Reservation${cmd.name}Result`
}

/** `xstatus License Smart`: registration (with the smart and virtual account), authorization, reservation and licenses in use. */
export async function statusLines(unit: string, at: Date): Promise<string[]> {
  const opened = await openUnit(unit)
  const {info, files} = opened
  const state = readLicensing(files)
  const view = licensingStatus(state, readUsage(files), at, [], clusterShareOf(opened, at))
  const s = (path: string, value: string | number): string => `*s License Smart ${path}: ${value}`
  if (view.mode !== 'smart') return [s('Mode', quote('Legacy'))]
  const r = state.reservation
  const reg = view.registration
  const lines = [
    s('Mode', quote('Smart')),
    s('Registration Status', quote(reg.status)),
  ]
  // the smart and virtual account, as the status shows them (while the unit holds a registration)
  if (reg.smartAccount !== null) lines.push(s('Registration SmartAccount', quote(reg.smartAccount)))
  if (reg.virtualAccount !== null) lines.push(s('Registration VirtualAccount', quote(reg.virtualAccount)))
  if (reg.exportControlled !== null) lines.push(s('Registration ExportControlled', quote(reg.exportControlled)))
  if (reg.expiresAt !== null) lines.push(s('Registration ExpiresAt', quote(reg.expiresAt)))
  lines.push(s('Authorization Status', quote(view.authorization.status)))
  if (view.authorization.expiresAt !== null) lines.push(s('Authorization ExpiresAt', quote(view.authorization.expiresAt)))
  lines.push(
    s('Reservation Enabled', r.enabled ? 'On' : 'Off'),
    s('Reservation State', quote(r.state === 'none' ? 'None' : r.state === 'requested' ? 'Requested' : 'Installed')),
  )
  if (r.kind) lines.push(s('Reservation Kind', quote(r.kind)))
  if (r.requestCode) lines.push(s('Reservation RequestCode', quote(r.requestCode)))
  if (r.state === 'installed' && r.kind === 'SLR' && r.timestamp) {
    lines.push(s('Reservation ConfirmationCode', quote(makeConfirmationCode(udiOf(info), Date.parse(r.timestamp)))))
  }
  view.reservation.entitlements.forEach((e, i) => {
    lines.push(s(`Reservation Entitlement ${i + 1} Type`, quote(e.type ?? e.tag)))
    lines.push(s(`Reservation Entitlement ${i + 1} Count`, e.count))
    lines.push(s(`Reservation Entitlement ${i + 1} EndDate`, quote(e.endDate ?? '')))
    lines.push(s(`Reservation Entitlement ${i + 1} Status`, quote(e.status)))
  })
  view.licenses.forEach((l, i) => {
    lines.push(s(`License ${i + 1} Type`, quote(l.type)))
    lines.push(s(`License ${i + 1} InUse`, l.inUse))
    lines.push(s(`License ${i + 1} Status`, quote(l.status)))
    if (l.reported !== undefined) lines.push(s(`License ${i + 1} Reported`, l.reported))
    if (l.borrowed !== undefined) lines.push(s(`License ${i + 1} Borrowed`, l.borrowed))
  })
  return lines
}

async function execute(unit: string, cmd: XapiCommand, at: Date): Promise<{lines: string[]; result: unknown}> {
  switch (cmd.kind) {
    case 'config-set': {
      const result = await reservationEnable(unit, cmd.enable)
      return {lines: ['OK'], result}
    }
    case 'config-get': {
      const enabled = readLicensing((await openUnit(unit)).files).reservation.enabled
      return {lines: [`*c xConfiguration License Smart ReservationEnable: ${enabled ? 'On' : 'Off'}`, '** end', '', 'OK'], result: {enabled}}
    }
    case 'status': {
      const prefix = cmd.path.join(' ').toLowerCase()
      const all = await statusLines(unit, at)
      const lines = prefix === '' ? all : all.filter((l) => l.slice('*s License Smart '.length).toLowerCase().startsWith(prefix))
      return {lines: [...lines, '** end', '', 'OK'], result: {status: lines}}
    }
    case 'command':
      switch (cmd.name) {
        case 'Request': {
          const result = await reservationRequest(unit)
          return {lines: ok('ReservationRequestResult', [['RequestCode', quote(result.requestCode)]]), result}
        }
        case 'Install': {
          const result = await reservationInstall(unit, cmd.code!)
          const fields: Array<[string, string]> = [['Kind', quote(result.kind)], ['Message', quote('The authorization code was installed successfully')]]
          if (result.confirmationCode) fields.push(['ConfirmationCode', quote(result.confirmationCode)])
          return {lines: ok('ReservationInstallResult', fields), result}
        }
        case 'Return': {
          const result = await reservationReturn(unit)
          return {lines: ok('ReservationReturnResult', [['ReturnCode', quote(result.returnCode)]]), result}
        }
        case 'ReturnAuthorization': {
          const result = await reservationReturnAuthorization(unit, cmd.code!)
          return {lines: ok('ReservationReturnAuthorizationResult', [['ReturnCode', quote(result.returnCode)]]), result}
        }
        case 'Cancel': {
          const result = await reservationCancel(unit)
          return {lines: ok('ReservationCancelResult', []), result}
        }
      }
  }
}

function errorOf(err: unknown): {code: ErrorCode; message: string; actions: string[]} {
  if (err instanceof XwayError) return {code: err.code, message: err.message, actions: err.actions}
  const e = err as {code?: string; message?: string}
  if (e?.code === 'ENOENT' || e?.code === 'ENOTDIR') return {code: 'bad-input', message: String(e.message), actions: ['Check the path.']}
  return {code: 'failed', message: String(e?.message ?? err), actions: []}
}

/** Runs one line on a unit; errors become `(status=Error)` replies, never throws for them. */
export async function runXapiLine(unit: string, line: string, at: Date): Promise<XapiReply> {
  let cmd: XapiCommand | null = null
  try {
    cmd = parseXapiLine(line)
    const {lines, result} = await execute(unit, cmd, at)
    return {command: shorten(line), status: 'OK', lines, result, error: null}
  } catch (err) {
    const error = errorOf(err)
    const lines = [`*r ${resultName(cmd)} (status=Error):`, `    Reason: ${quote(error.message)}`]
    if (cmd?.kind === 'config-set') lines.push(`    XPath: ${quote('/Configuration/License/Smart/ReservationEnable')}`)
    lines.push('** end', '', 'ERROR')
    return {command: shorten(line), status: 'Error', lines, result: null, error}
  }
}

export interface XapiResult {
  replies: XapiReply[]
}

/** Runs a session's lines in order (each its own transaction, as on the appliance, going on after an error). */
export async function runXapi(unit: string, lines: string[], at: Date): Promise<XapiResult> {
  await openUnit(unit)
  const replies: XapiReply[] = []
  for (const line of lines) replies.push(await runXapiLine(unit, line, at))
  return {replies}
}

/** The exit code of a session: that of its first error (the CLI's codes), else 0. */
export function xapiExitCode(result: XapiResult): number {
  const first = result.replies.find((r) => r.error !== null)
  return first?.error ? exitCodeFor(first.error.code) : 0
}
