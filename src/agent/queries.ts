import {readUsage} from '../areas/usage.js'
import {BadInputError} from '../errors.js'
import {openUnit} from '../areas/open.js'
import {type PresentedCertificate, testConnection, TransportError, type TransportTarget} from '../licensing/client.js'
import {transportEndpoint} from '../licensing/state.js'
import {clusterShareOf, readLicensing} from '../areas/licensing.js'
import {licensingStatus, type SmartLicensingView} from '../licensing/status.js'
import {assertSmartLicensing, transportTarget} from './transport.js'
import {readTrustStore} from '../licensing/trust-store.js'

// The agent's read-only queries: status, trust store, and a connection test that changes nothing.

export interface ConnectionTestResult {
  unit: string
  transport: SmartLicensingView['transport']
  /** the license server URL the connection went to (through the proxy when set) */
  target: string
  via: string | null
  ok: boolean
  chain: PresentedCertificate[]
  error: {code: 'unreachable'; message: string; actions: string[]} | null
}

/** `licensing status UNIT`: section 5's licensing object. */
export async function unitLicensingStatus(unitArg: string, at: Date): Promise<ReturnType<typeof licensingStatus>> {
  const unit = await openUnit(unitArg)
  const trust = readTrustStore(unit.files).map(({subject, fingerprint, lab}) => ({subject, fingerprint, lab}))
  return licensingStatus(readLicensing(unit.files), readUsage(unit.files), at, trust, clusterShareOf(unit, at))
}

/** `licensing trust-store UNIT`: the agent's trust store, read-only. */
export async function unitTrustStore(unitArg: string): Promise<{unit: string; trustStore: Array<{subject: string; fingerprint: string; lab: boolean}>}> {
  const unit = await openUnit(unitArg)
  return {unit: unitArg, trustStore: readTrustStore(unit.files).map(({subject, fingerprint, lab}) => ({subject, fingerprint, lab}))}
}

/**
 * `licensing test-connection UNIT`: TLS over the configured transport (CONNECT through the
 * proxy), judged against the agent trust store only; reports the chain presented, also when
 * it is rejected (an intercepting proxy: Unknown CA). Changes nothing.
 */
export async function testUnitConnection(unitArg: string, at: Date): Promise<ConnectionTestResult> {
  const unit = await openUnit(unitArg)
  const state = readLicensing(unit.files)
  assertSmartLicensing(unit.info, state)
  const view = licensingStatus(state, readUsage(unit.files), at) as SmartLicensingView
  const base = {unit: unitArg, transport: view.transport, target: view.transport.url ?? transportEndpoint(state), via: state.transport.mode === 'proxy' && state.transport.proxy ? `${state.transport.proxy.host}:${state.transport.proxy.port}` : null}
  let target: TransportTarget
  try {
    target = transportTarget(unit.files, unitArg, state)
  } catch (error) {
    if (!(error instanceof TransportError)) throw error
    return {...base, ok: false, chain: [], error: {code: 'unreachable', message: error.message, actions: error.actions}}
  }
  const timeout = Number(process.env.XWAY_LICENSING_TIMEOUT_MS ?? '')
  let report: {ok: boolean; chain: PresentedCertificate[]; error: string | null}
  try {
    report = await testConnection({target, trustAnchors: readTrustStore(unit.files).map((a) => a.pem), ...(Number.isFinite(timeout) && timeout > 0 ? {timeoutMs: timeout} : {})})
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error
    report = {ok: false, chain: [], error: error.message}
  }
  const proxy = base.via
  const actions = [`Check the transport settings: xway licensing status ${unitArg}`]
  if (proxy) actions.push(`Check that the proxy ${proxy} opens the tunnel and passes TLS through unchanged (an intercepting proxy shows as Unknown CA).`)
  else actions.push(`Check that the license server ${base.target} is running and that the unit trusts its CA (xway licensing trust-store ${unitArg}).`)
  return {
    ...base, ok: report.ok, chain: report.chain,
    error: report.ok ? null : {code: 'unreachable', message: report.error ?? 'The connection failed.', actions},
  }
}
