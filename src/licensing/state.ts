import {readJson} from '../unit/unit.js'
import type {LicenseType} from './license-types.js'

export type {LicenseType}
export {LICENSE_TYPES} from './license-types.js'

/**
 * The two exchanges that carry usage. Both are the protocol's `authorize` with the usage per
 * type, flagged `report: "authorization" | "usage"` (docs/licensing-agent.md): a server that
 * does not know the flag answers both alike, and the agent alone decides which timer moves.
 */
export type ReportKind = 'authorization' | 'usage'

/** One license type as the server answered a report. */
export interface LicenseGrant {
  type: LicenseType
  requested: number
  granted: number
  status?: 'authorized' | 'out-of-compliance'
}
export type TransportMode = 'direct' | 'on-prem' | 'proxy'

/** Cisco's Direct endpoint (CSSM's Smart Receiver); a lab profile overrides it with `directUrl`. */
export const CISCO_DIRECT_URL = 'https://smartreceiver.cisco.com/licservice/license'

/** Where Direct and proxy transports go: the profile's lab override, else Cisco's endpoint. */
export function directEndpoint(state: Pick<LicensingState, 'directUrl'>): string {
  return state.directUrl ?? CISCO_DIRECT_URL
}

/** The license server a transport talks to: the On-Prem URL, or the Direct endpoint (a proxy tunnels to it). */
export function transportEndpoint(state: Pick<LicensingState, 'transport' | 'directUrl'>): string {
  return state.transport.mode === 'on-prem' && state.transport.url ? state.transport.url : directEndpoint(state)
}

/** The agent's stored state (tandberg/persistent/licensing/licensing.json). Status is computed from it and now. */
export interface LicensingState {
  formatVersion: 1
  mode: 'smart' | 'legacy'
  transport: {
    mode: TransportMode
    /** On-Prem URL (https://…/SmartTransport); null for direct and proxy */
    url: string | null
    proxy: {host: string; port: number; username: string | null; hasPassword: boolean} | null
  }
  /** lab override of the Direct endpoint, baked from the profile */
  directUrl: string | null
  /** "Do not share my hostname or IP address with Cisco" */
  hideIdentity: boolean
  evaluation: {startedAt: string | null}
  registration: {
    state: 'unregistered' | 'registered' | 'pending' | 'failed'
    smartAccount: string | null
    virtualAccount: string | null
    exportControlled: 'Allowed' | 'Not Allowed' | null
    /** last successful registration or registration renewal (the agent's clock) */
    registeredAt: string | null
    lastAttemptAt: string | null
    lastError: string | null
    nextAttemptAt: string | null
    /** hostname the server last received (null when hidden or never sent) */
    hostnameSent: string | null
    /** serial of the unit the registration belongs to */
    serial: string | null
    /** target the registration was made against (url), to refuse Direct/On-Prem switches */
    endpoint: string | null
    /** a pending registration was asked with --force (reregister); the retry sends it again */
    pendingForce: boolean
  }
  authorization: {
    /** last successful authorization renewal (the first authorization included): the 30-day renewal and the 90-day expiry count from it */
    lastSuccessAt: string | null
    lastAttemptAt: string | null
    /** the server's overall answer to the last exchange that carried usage (renewal or usage report) */
    result: 'authorized' | 'out-of-compliance' | 'no-licenses-in-use' | null
    /**
     * Per type, as the server answered the last exchange that carried usage: `requested` is what
     * the unit reported, `granted` what it holds, `status` the server's per-type answer when it
     * sent one (else the agent derives it from granted and requested).
     */
    licenses: LicenseGrant[]
    /** retry of a failed authorization renewal or usage report (15 minutes after the failure) */
    nextAttemptAt: string | null
  }
  /** last successful usage report (a usage report, or an authorization renewal, which carries the usage too); never moves the authorization's expiry */
  usageReportedAt: string | null
  reservation: {
    enabled: boolean
    state: 'none' | 'requested' | 'installed'
    kind: 'SLR' | 'PLR' | null
    requestCode: string | null
    entitlements: Array<{type: LicenseType; tag: string; count: number; endDate: string | null; /** set by boot once endDate has passed: the feature stops */ expired?: boolean}>
    /** entitlements of the installed code whose tag this version does not know: listed as Invalid-tag, they grant nothing */
    unknownEntitlements: Array<{tag: string; count: number; endDate: string | null}>
    timestamp: string | null
    /** digests of authorization codes installed, so an installed one is refused again */
    installed: string[]
  }
}

export function defaultLicensingState(mode: 'smart' | 'legacy'): LicensingState {
  return {
    formatVersion: 1,
    mode,
    transport: {mode: 'direct', url: null, proxy: null},
    directUrl: null,
    hideIdentity: false,
    evaluation: {startedAt: null},
    registration: {
      state: 'unregistered', smartAccount: null, virtualAccount: null, exportControlled: null, registeredAt: null,
      lastAttemptAt: null, lastError: null, nextAttemptAt: null, hostnameSent: null, serial: null, endpoint: null, pendingForce: false,
    },
    authorization: {lastSuccessAt: null, lastAttemptAt: null, result: null, licenses: [], nextAttemptAt: null},
    usageReportedAt: null,
    reservation: {enabled: false, state: 'none', kind: null, requestCode: null, entitlements: [], unknownEntitlements: [], timestamp: null, installed: []},
  }
}

/** Fills fields missing from older or hand-written files with their defaults. */
export function normalizeLicensing(raw: Partial<LicensingState> | undefined): LicensingState {
  const base = defaultLicensingState(raw?.mode === 'smart' ? 'smart' : 'legacy')
  if (!raw) return base
  return {
    ...base,
    ...raw,
    formatVersion: 1,
    transport: {...base.transport, ...raw.transport},
    evaluation: {...base.evaluation, ...raw.evaluation},
    registration: {...base.registration, ...raw.registration},
    authorization: {...base.authorization, ...raw.authorization},
    reservation: {...base.reservation, ...raw.reservation},
  }
}
