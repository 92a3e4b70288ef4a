import {createCipheriv, createDecipheriv, hkdfSync, randomBytes} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {isIP} from 'node:net'
import {IP, type IpConfig, readIp} from '../areas/ip.js'
import {DEFAULT_POLICY} from '../crypto/policy.js'
import type {RandomSource} from '../crypto/random.js'
import {BadInputError, RefusedError, UsageError} from '../errors.js'
import type {UnitReader} from '../unit/store.js'
import {changeUnit, openUnit} from '../areas/open.js'
import {readText} from '../unit/unit.js'
import type {ProductInfo} from '../product.js'
import {TransportError, type TransportTarget} from '../licensing/client.js'
import {TRANSPORT_PATH} from '../licensing/protocol.js'
import {CISCO_DIRECT_URL, directEndpoint, type LicensingState, transportEndpoint, type TransportMode} from '../licensing/state.js'
import {LICENSING, readLicensing} from '../areas/licensing.js'
import {BOOTSTRAP_KEY} from '../areas/bootstrap-key.js'

// Transport settings of the smart licensing agent (seed: "Transport settings"): Direct (the
// default; needs DNS), Smart Software Manager On-Prem (an exact https://…/SmartTransport URL),
// or an HTTP proxy that tunnels (CONNECT) to the Direct endpoint. The proxy password is the one
// secret the unit must use again: it is stored encrypted under the unit's bootstrap key.

/** Smart licensing is an Expressway X14.2 feature (or X14.0.2 with it turned on); VCS has none. */
export function assertSmartLicensing(info: ProductInfo, state: LicensingState): void {
  if (state.mode === 'smart') return
  if (info.brand === 'VCS') {
    throw new RefusedError('Smart licensing is not available on Cisco VCS: VCS stays on option keys (smart licensing is not supported on VCS).', {
      actions: ['Use xway option-keys on a VCS, or convert it to Expressway (xway convert UNIT --type expressway-c).'],
    })
  }
  throw new RefusedError(`Smart licensing is not enabled on this ${info.brand} ${info.softwareVersion} unit: it is licensed with option keys (PAK).`, {
    actions: ['Enable it (xway licensing enable UNIT; option keys can no longer be added afterwards), or upgrade to X14.2 (xway upgrade UNIT --to X14.2.0), where smart licensing is the only mode.'],
  })
}

const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** `HOST:PORT`, `[IPv6]:PORT`; the seed: "IPv4 address or FQDN of the proxy server" and its port. */
export function parseProxyAddress(text: string): {host: string; port: number} {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]\s]+):(\d{1,5})$/.exec(text)
  const host = m?.[1] ?? ''
  const port = Number(m?.[2])
  if (!m || !(isIP(host) !== 0 || HOST_RE.test(host)) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadInputError(`--proxy ${JSON.stringify(text)} is not HOST:PORT (an IPv4 address or FQDN, or [IPv6], and a port from 1 to 65535).`, {
      actions: ['Give the proxy like 192.0.2.80:3128 or proxy.lab.example:8080.'],
    })
  }
  return {host, port}
}

/** The seed: "be sure to enter the exact Smart Transport URL of Smart Software Manager On-Prem", e.g. https://example.com/SmartTransport. */
export function checkOnPremUrl(text: string): string {
  let url: URL | null = null
  try {
    url = new URL(text)
  } catch {
    url = null
  }
  if (!url || url.protocol !== 'https:' || url.username !== '' || url.password !== '' || !url.pathname.endsWith(TRANSPORT_PATH) || url.search !== '' || url.hash !== '') {
    throw new BadInputError(`--on-prem ${JSON.stringify(text)} is not a Smart Transport URL: it must be https://<host>[:port]/SmartTransport (HTTPS only, no credentials).`, {
      actions: ['Enter the exact Smart Transport URL of the On-Prem server, e.g. https://example.com/SmartTransport.'],
    })
  }
  return url.toString()
}

// ---------------------------------------------------------------------------
// The proxy password, encrypted under the bootstrap key
// ---------------------------------------------------------------------------

const SECRET_MAGIC = Buffer.from('XWS1')
const IV_BYTES = 12
const TAG_BYTES = 16
const PROXY_PASSWORD_INFO = 'xway proxy password v1'
export const MAX_PROXY_PASSWORD_BYTES = 1024

function secretKey(systemKey: string): Buffer {
  const text = systemKey.trim()
  const ikm = /^[0-9a-f]{32,}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8')
  if (ikm.length < 16) throw new BadInputError(`${BOOTSTRAP_KEY.file} is too short to be a bootstrap key.`, {actions: ['Run xway image verify on the unit.']})
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.from('xway-bootstrap-key'), Buffer.from(PROXY_PASSWORD_INFO), 32))
}

/**
 * `proxy-password.enc`: "XWS1", a 12-byte IV, the 16-byte GCM tag, then the ciphertext.
 * AES-256-GCM (the policy's cipher) under a key derived (HKDF-SHA256) from the bootstrap key,
 * with the file's path as associated data, so the file means nothing away from its unit.
 */
export function encryptProxyPassword(systemKey: string, password: string, random?: RandomSource): Buffer {
  const iv = random ? random.bytes(IV_BYTES) : randomBytes(IV_BYTES)
  const cipher = createCipheriv(DEFAULT_POLICY.cipher, secretKey(systemKey), iv)
  cipher.setAAD(Buffer.from(LICENSING.proxyPassword))
  const data = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()])
  return Buffer.concat([SECRET_MAGIC, iv, cipher.getAuthTag(), data])
}

export function decryptProxyPassword(systemKey: string, file: Buffer): string {
  if (file.length < SECRET_MAGIC.length + IV_BYTES + TAG_BYTES || !file.subarray(0, 4).equals(SECRET_MAGIC)) {
    throw new BadInputError(`${LICENSING.proxyPassword} is not an encrypted proxy password.`, {actions: ['Set the proxy password again with xway licensing transport UNIT --proxy HOST:PORT --proxy-user U --proxy-password-file F.']})
  }
  const iv = file.subarray(4, 4 + IV_BYTES)
  const tag = file.subarray(4 + IV_BYTES, 4 + IV_BYTES + TAG_BYTES)
  try {
    const decipher = createDecipheriv(DEFAULT_POLICY.cipher, secretKey(systemKey), iv)
    decipher.setAAD(Buffer.from(LICENSING.proxyPassword))
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(file.subarray(4 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
  } catch {
    throw new BadInputError(`${LICENSING.proxyPassword} does not decrypt under this unit's bootstrap key (changed, or copied from another unit).`, {
      actions: ['Set the proxy password again with xway licensing transport UNIT --proxy HOST:PORT --proxy-user U --proxy-password-file F.'],
    })
  }
}

/** The stored proxy password in clear, for the proxy's Basic authentication; null when none is stored. */
export function readProxyPassword(unit: UnitReader): string | null {
  const data = unit.read(LICENSING.proxyPassword)
  if (data === null) return null
  const systemKey = readText(unit, BOOTSTRAP_KEY.file)
  if (systemKey === null) throw new BadInputError(`${BOOTSTRAP_KEY.file} (the bootstrap key) is missing: the proxy password cannot be decrypted.`, {actions: ['Run xway image verify on the unit.']})
  return decryptProxyPassword(systemKey, data)
}

/** The first line of a password file; never echoed. */
export function readPasswordFile(file: string): string {
  let text: string
  try {
    if (statSync(file).size > MAX_PROXY_PASSWORD_BYTES + 2) throw new BadInputError(`--proxy-password-file ${file} is larger than ${MAX_PROXY_PASSWORD_BYTES} bytes.`)
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if (error instanceof BadInputError) throw error
    throw new BadInputError(`--proxy-password-file ${file} cannot be read.`, {actions: ['Give a file holding the proxy password on its first line.']})
  }
  const password = text.split(/\r?\n/)[0] ?? ''
  if (password === '') throw new BadInputError(`--proxy-password-file ${file} is empty.`, {actions: ['Put the proxy password on the first line of the file.']})
  return password
}

// ---------------------------------------------------------------------------
// Where an exchange goes
// ---------------------------------------------------------------------------

/** The seed: "To use the Direct option, you must configure DNS settings on Expressway so that it can resolve cisco.com." */
export function noDnsError(unit: string): TransportError {
  return new TransportError('dns', 'The Direct transport needs a DNS server on the unit to resolve the licensing server, and none is configured (Cisco: "To use the Direct option, you must configure DNS settings on Expressway").', {
    actions: [`Configure DNS: xway network set ${unit} --dns IP`, `Or use Smart Software Manager On-Prem or a proxy: xway licensing transport ${unit} --on-prem URL | --proxy HOST:PORT`],
  })
}

/**
 * The unit's Direct endpoint is Cisco's own (no lab `directUrl` was baked at build): Cisco's
 * cloud, which a lab cannot reach. The exchange cannot happen, like an unreachable server
 * (pending, retried, alarms), and the message says why and what to use instead.
 */
export class CiscoCloudError extends TransportError {
  constructor(unit: string, viaProxy: boolean) {
    super('refused', `The unit's Direct endpoint is Cisco's cloud (${CISCO_DIRECT_URL}${viaProxy ? ', where the proxy would tunnel to' : ''}), which a lab cannot reach: this unit was built without a lab Direct endpoint (licensing.directUrl).`, {
      actions: [
        `Use a lab license server as Smart Software Manager On-Prem: xway licensing transport ${unit} --on-prem https://HOST:PORT/SmartTransport`,
        'Or build the unit from a profile whose licensing.directUrl is the lab license server (https://HOST:PORT/SmartTransport).',
      ],
    })
  }
}

/**
 * The client's target for the unit's configured transport: the On-Prem URL, the Direct
 * endpoint, or the Direct endpoint through the proxy (CONNECT) with its credentials.
 * Throws the no-DNS TransportError for Direct on a unit without DNS servers, and
 * CiscoCloudError when the Direct endpoint is Cisco's own.
 */
export function transportTarget(unit: UnitReader, unitArg: string, state: LicensingState, ip: IpConfig = readIp(unit)): TransportTarget {
  const t = state.transport
  if (t.mode === 'on-prem' && t.url) return {url: t.url}
  if (t.mode === 'proxy' && t.proxy) {
    if (state.directUrl === null) throw new CiscoCloudError(unitArg, true)
    const password = t.proxy.username ? readProxyPassword(unit) : null
    return {
      url: directEndpoint(state),
      proxy: {host: t.proxy.host, port: t.proxy.port, ...(t.proxy.username ? {username: t.proxy.username, password: password ?? ''} : {})},
    }
  }
  if (ip.dns.length === 0) throw noDnsError(unitArg)
  if (state.directUrl === null) throw new CiscoCloudError(unitArg, false)
  return {url: directEndpoint(state)}
}

// ---------------------------------------------------------------------------
// licensing transport
// ---------------------------------------------------------------------------

export interface TransportChange {
  mode?: TransportMode
  /** On-Prem URL */
  url?: string
  /** HOST:PORT */
  proxy?: string
  proxyUser?: string
  proxyPasswordFile?: string
  hideIdentity?: boolean
}

export interface TransportResult {
  unit: string
  transport: {mode: TransportMode; url: string | null; proxy: {host: string; port: number; username: string | null} | null}
  hideIdentity: boolean
  changed: string[]
  warnings: string[]
}

function endpointKind(state: Pick<LicensingState, 'transport' | 'directUrl'>): string {
  return state.transport.mode === 'on-prem' ? `On-Prem (${transportEndpoint(state)})` : `Direct (${transportEndpoint(state)})`
}

export async function setTransport(unitArg: string, change: TransportChange): Promise<TransportResult> {
  const modes = [change.mode].filter((m) => m !== undefined)
  if (modes.length === 0 && change.hideIdentity === undefined && change.proxyUser === undefined && change.proxyPasswordFile === undefined) {
    throw new UsageError('Nothing to change.', {actions: ['Give one of --direct, --on-prem URL, --proxy HOST:PORT, and/or --hide-identity or --share-identity.']})
  }
  if (change.mode !== undefined && change.mode !== 'proxy' && (change.proxyUser !== undefined || change.proxyPasswordFile !== undefined)) {
    throw new UsageError('--proxy-user and --proxy-password-file go with --proxy HOST:PORT.')
  }
  if (change.proxyPasswordFile !== undefined && change.proxyUser === undefined) {
    throw new UsageError('--proxy-password-file needs --proxy-user: the password authenticates that user at the proxy.')
  }
  if (change.proxyUser !== undefined && (change.proxyUser === '' || change.proxyUser.length > 256 || /[:\0-\x1f]/.test(change.proxyUser))) {
    throw new BadInputError('--proxy-user must be 1 to 256 characters, without ":" or control characters (HTTP Basic authentication).')
  }
  const url = change.mode === 'on-prem' ? checkOnPremUrl(change.url ?? '') : null
  const proxyAddress = change.mode === 'proxy' ? parseProxyAddress(change.proxy ?? '') : null
  const password = change.proxyPasswordFile === undefined ? undefined : readPasswordFile(change.proxyPasswordFile)

  return changeUnit(unitArg, 'licensing transport', (tx, unit) => {
    const before = readLicensing(unit.files)
    assertSmartLicensing(unit.info, before)
    const after: LicensingState = structuredClone(before)
    const oldProxy = before.transport.mode === 'proxy' ? before.transport.proxy : null
    if ((change.proxyUser !== undefined || change.proxyPasswordFile !== undefined) && change.mode === undefined && oldProxy === null) {
      throw new UsageError('--proxy-user and --proxy-password-file go with --proxy HOST:PORT: the unit does not use a proxy.')
    }
    if (change.mode === 'direct') after.transport = {mode: 'direct', url: null, proxy: null}
    if (change.mode === 'on-prem') after.transport = {mode: 'on-prem', url, proxy: null}
    if (change.mode === 'proxy' || (change.mode === undefined && oldProxy !== null)) {
      const address = proxyAddress ?? {host: oldProxy!.host, port: oldProxy!.port}
      // a new proxy without --proxy-user drops the old credentials; --proxy-user alone keeps the stored password
      const username = change.proxyUser ?? (change.mode === 'proxy' ? null : oldProxy!.username)
      const keepPassword = password === undefined && username !== null && username === oldProxy?.username && oldProxy.hasPassword
      after.transport = {mode: 'proxy', url: null, proxy: {host: address.host, port: address.port, username, hasPassword: password !== undefined || keepPassword}}
    }
    if (change.hideIdentity !== undefined) after.hideIdentity = change.hideIdentity

    // the seed's rule (Direct, and a proxy to it, versus On-Prem), and any change of the server the registration lives on
    const kind = (st: LicensingState) => (st.transport.mode === 'on-prem' ? 'on-prem' : 'direct')
    if (before.registration.state === 'registered' && (kind(before) !== kind(after) || transportEndpoint(before) !== transportEndpoint(after))) {
      throw new RefusedError(`The unit is registered through ${endpointKind(before)}: the transport cannot change to ${endpointKind(after)} while it is registered (Cisco: "If the Expressway product instance is already registered, you must first deregister it if you want to change transport settings from Direct (CSSM) to On-Prem, or the other way round").`, {
        actions: [`Deregister first: xway licensing deregister ${unitArg}, then change the transport and register again.`],
      })
    }

    const changed: string[] = []
    if (JSON.stringify({...before.transport, proxy: before.transport.proxy && {...before.transport.proxy, hasPassword: undefined}}) !==
      JSON.stringify({...after.transport, proxy: after.transport.proxy && {...after.transport.proxy, hasPassword: undefined}})) changed.push('transport')
    if (password !== undefined) {
      const systemKey = readText(unit.files, BOOTSTRAP_KEY.file)
      if (systemKey === null) throw new BadInputError(`${BOOTSTRAP_KEY.file} (the bootstrap key) is missing: the proxy password cannot be stored encrypted.`, {actions: ['Run xway image verify on the unit.']})
      tx.write(LICENSING.proxyPassword, encryptProxyPassword(systemKey, password), 0o600)
      changed.push('proxyPassword')
    } else if (!after.transport.proxy?.hasPassword && before.transport.proxy?.hasPassword) {
      tx.delete(LICENSING.proxyPassword)
      changed.push('proxyPassword')
    }
    if (before.hideIdentity !== after.hideIdentity) changed.push('hideIdentity')
    if (changed.length > 0) {
      tx.writeJson(LICENSING.state, after)
      tx.audit({transport: after.transport.mode, hideIdentity: after.hideIdentity, changed})
    }
    const warnings: string[] = []
    if (after.transport.mode !== 'on-prem' && after.directUrl === null) {
      warnings.push(new CiscoCloudError(unitArg, after.transport.mode === 'proxy').message)
    }
    if (after.transport.mode === 'direct' && readIp(unit.files).dns.length === 0) {
      warnings.push(`The Direct transport needs DNS servers on the unit and none is configured: registration and renewals will fail until you run xway network set ${unitArg} --dns IP.`)
    }
    if (before.registration.state === 'registered' && changed.includes('hideIdentity')) {
      warnings.push('The license server learns the new identity setting at the next registration renewal (xway licensing renew UNIT --registration).')
    }
    const t = after.transport
    return {
      unit: unitArg,
      transport: {
        mode: t.mode,
        url: t.mode === 'on-prem' ? t.url : directEndpoint(after),
        proxy: t.mode === 'proxy' && t.proxy ? {host: t.proxy.host, port: t.proxy.port, username: t.proxy.username} : null,
      },
      hideIdentity: after.hideIdentity,
      changed,
      warnings,
    }
  })
}
