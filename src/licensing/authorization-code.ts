import {createHash, sign, verify as rsaVerify, X509Certificate, type KeyObject} from 'node:crypto'
import {BadInputError} from '../errors.js'
import {certificateInfo, verifyCertificateSignedBy} from '../crypto/x509.js'
import {isUdi, piidForUdi} from './codes.js'
import {LICENSE_TYPES, type LicenseCounts, type LicenseType} from './license-types.js'

// Reservation authorization codes in the layout Cisco products publish (SPEC 4): the writer
// the license server signs with and the reader the agent verifies with, side by side, so the
// format has one home.
//   <specificPLR|permanentPLR>
//     <authorizationCode><flag>A</flag><version>C</version><piid>…</piid><timestamp>…</timestamp>
//       <entitlements><entitlement><tag>…</tag><count>…</count><startDate>…</startDate><endDate>…</endDate>
//       <licenseType>…</licenseType></entitlement>…</entitlements></authorizationCode>
//     <signature>base64 RSA-SHA256 over the exact <authorizationCode>…</authorizationCode> text</signature>
//     <udi>…</udi>
//     <signingCertificate>base64 DER of the signing certificate, issued by the lab CA</signingCertificate>
//   </…>
// On one line, without spaces between elements, so it survives being pasted as one argument.

export type ReservationKind = 'SLR' | 'PLR'

/**
 * Entitlement tags of the lab server's reservation codes. Cisco publishes none for
 * Expressway: these follow the `regid.<date>.com.cisco.<name>,<version>_<uuid>` shape of the
 * tags other Cisco products show. An agent treats any other tag as "Invalid-tag".
 */
export const ENTITLEMENT_TAGS = {
  rms: 'regid.2022-06.com.cisco.EXPWY_RMS,14.2_0f9e1a5c-3a4b-4c71-9d0e-6b2f8a1c7d30',
  room: 'regid.2022-06.com.cisco.EXPWY_ROOM,14.2_2c7d8e91-5b6a-4f02-8e13-7a4c9b0d1e52',
  desktop: 'regid.2022-06.com.cisco.EXPWY_DESKTOP,14.2_4e1f0a23-7c8d-4a94-b035-9c6e1d2f3a74',
  /** "Expressway PLR without Export Control": every feature, to the box's capacity */
  plr: 'regid.2022-06.com.cisco.EXPWY_PLR,14.2_6a3b2c45-9e0f-4cb6-a257-1e8f3a4b5c96',
  /** "Expressway Advanced Account Security": Cisco: "linked with Export Control"; a permission, no count of licenses */
  aas: 'regid.2022-06.com.cisco.EXPWY_AAS,14.2_8c5d4e67-1a2b-4dc8-a379-3f0a5b6c7d18',
} as const

export interface AuthorizationEntitlement {
  tag: string
  /** the license type the tag names, 'plr' for the PLR entitlement, null for a tag this version does not know */
  type: LicenseType | 'plr' | 'aas' | null
  count: number
  /** ISO 8601, or null (perpetual) */
  startDate: string | null
  endDate: string | null
  licenseType: 'PERPETUAL' | 'TERM' | string
}

export interface VerifiedAuthorizationCode {
  kind: ReservationKind
  udi: string
  piid: string
  /** milliseconds since the epoch; a later timestamp is a newer code for the same UDI */
  timestamp: number
  entitlements: AuthorizationEntitlement[]
  /** the signed `<authorizationCode>…</authorizationCode>` text */
  signedText: string
  /** SHA-256 (hex) of the signed text: identifies the code for "already installed" checks */
  digest: string
  signer: {subject: string; fingerprint: string}
}

export const MAX_AUTHORIZATION_CODE_BYTES = 64 * 1024

export function typeOfTag(tag: string): LicenseType | 'plr' | 'aas' | null {
  for (const [type, known] of Object.entries(ENTITLEMENT_TAGS)) if (known === tag) return type as LicenseType | 'plr' | 'aas'
  return null
}

const XML_ESCAPES: Record<string, string> = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;'}

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!)
}

function xmlUnescape(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ({amp: '&', lt: '<', gt: '>', quot: '"', apos: "'"})[name]!)
}

// ---------------------------------------------------------------------------
// Writing (the license server)
// ---------------------------------------------------------------------------

export interface CodeEntitlement {
  tag: string
  count: number
  startDate: string | null
  endDate: string | null
  licenseType: 'PERPETUAL' | 'TERM'
}

/** An SLR's entitlements: one per license type it reserves, and Advanced Account Security when asked (an account permitted export control). */
export function entitlementsFor(kind: ReservationKind, counts: LicenseCounts, start: Date, until: Date | null, options: {advancedAccountSecurity?: boolean} = {}): CodeEntitlement[] {
  if (kind === 'PLR') return [{tag: ENTITLEMENT_TAGS.plr, count: 1, startDate: null, endDate: null, licenseType: 'PERPETUAL'}]
  const term = (tag: string, count: number): CodeEntitlement => ({
    tag, count,
    startDate: until ? start.toISOString() : null,
    endDate: until ? until.toISOString() : null,
    licenseType: until ? 'TERM' : 'PERPETUAL',
  })
  const licenses = LICENSE_TYPES.filter((type) => counts[type] > 0).map((type) => term(ENTITLEMENT_TAGS[type], counts[type]))
  return options.advancedAccountSecurity ? [...licenses, term(ENTITLEMENT_TAGS.aas, 1)] : licenses
}

function dateElement(name: string, value: string | null): string {
  return value === null ? `<${name}></${name}>` : `<${name}>${xmlEscape(value)}</${name}>`
}

/** The signed part, exactly as it appears in the code. */
export function authorizationCodeText(piid: string, timestamp: number, entitlements: CodeEntitlement[]): string {
  const items = entitlements.map((e) =>
    `<entitlement><tag>${xmlEscape(e.tag)}</tag><count>${e.count}</count>${dateElement('startDate', e.startDate)}${dateElement('endDate', e.endDate)}` +
    `<licenseType>${e.licenseType}</licenseType></entitlement>`).join('')
  return `<authorizationCode><flag>A</flag><version>C</version><piid>${piid}</piid><timestamp>${timestamp}</timestamp>` +
    `<entitlements>${items}</entitlements></authorizationCode>`
}

export function buildAuthorizationCode(
  input: {kind: ReservationKind; udi: string; piid: string; timestamp: number; entitlements: CodeEntitlement[]},
  signer: {key: KeyObject; certPem: string},
): string {
  const root = input.kind === 'SLR' ? 'specificPLR' : 'permanentPLR'
  const text = authorizationCodeText(input.piid, input.timestamp, input.entitlements)
  const signature = sign('sha256', Buffer.from(text, 'utf8'), signer.key).toString('base64')
  const certificate = new X509Certificate(signer.certPem).raw.toString('base64')
  return `<${root}>${text}<signature>${signature}</signature><udi>${xmlEscape(input.udi)}</udi>` +
    `<signingCertificate>${certificate}</signingCertificate></${root}>`
}

// ---------------------------------------------------------------------------
// Reading (the agent)
// ---------------------------------------------------------------------------

const TOP_RE = /^<(specificPLR|permanentPLR)>\s*(<authorizationCode>[\s\S]*?<\/authorizationCode>)\s*<signature>([A-Za-z0-9+/=\s]{16,4096})<\/signature>\s*<udi>([^<]{1,200})<\/udi>\s*<signingCertificate>([A-Za-z0-9+/=\s]{64,16384})<\/signingCertificate>\s*<\/\1>$/
const BODY_RE = /^<authorizationCode><flag>([A-Z])<\/flag><version>([A-Z])<\/version><piid>([0-9a-f-]{36})<\/piid><timestamp>(\d{1,16})<\/timestamp><entitlements>((?:<entitlement>[\s\S]*?<\/entitlement>)*)<\/entitlements><\/authorizationCode>$/
const ENTITLEMENT_RE = /<entitlement><tag>([^<]{1,300})<\/tag><count>(\d{1,9})<\/count>(?:<startDate\/>|<startDate>([^<]{0,40})<\/startDate>)(?:<endDate\/>|<endDate>([^<]{0,40})<\/endDate>)<licenseType>([A-Z_]{1,20})<\/licenseType><\/entitlement>/g

function malformed(detail: string): BadInputError {
  return new BadInputError(`The authorization code is malformed: ${detail}.`, {
    actions: ['Paste the whole authorization code generated by the license server (`xway license-server reservation authorize`), in double quotes.'],
  })
}

function isoOrNull(value: string | undefined, field: string): string | null {
  if (value === undefined || value === '') return null
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) throw malformed(`${field} ${JSON.stringify(value)} is not a date`)
  return date.toISOString()
}

/**
 * Checks an authorization code and returns what it grants. Throws BadInputError (exit 4)
 * when it is malformed, when its signature does not verify over the `<authorizationCode>`
 * text, when its signing certificate was not issued by one of `trustAnchorPems` (or is out
 * of its validity at the real time), or when its piid does not belong to its `<udi>`.
 * Whether the UDI is this unit's, and whether a request is pending, is the agent's check.
 */
export function verifyAuthorizationCode(xml: string, trustAnchorPems: string[]): VerifiedAuthorizationCode {
  if (typeof xml !== 'string') throw malformed('it is not text')
  if (Buffer.byteLength(xml) > MAX_AUTHORIZATION_CODE_BYTES) throw malformed(`it is larger than ${MAX_AUTHORIZATION_CODE_BYTES} bytes`)
  const top = TOP_RE.exec(xml.trim())
  if (!top) throw malformed('expected <specificPLR> or <permanentPLR> holding <authorizationCode>, <signature>, <udi> and <signingCertificate>')
  const [, root, signedText, signatureB64, udiText, certB64] = top as unknown as [string, string, string, string, string, string]
  const body = BODY_RE.exec(signedText)
  if (!body) throw malformed('the <authorizationCode> element does not hold <flag>, <version>, <piid>, <timestamp> and <entitlements> in that order')
  const [, , , piid, timestampText, entitlementsText] = body as unknown as [string, string, string, string, string, string]
  const udi = xmlUnescape(udiText)
  if (!isUdi(udi)) throw malformed(`<udi> ${JSON.stringify(udi)} is not a UDI (PID:<pid>,SN:<serial>)`)

  const entitlements: AuthorizationEntitlement[] = []
  let consumed = 0
  for (const m of entitlementsText.matchAll(ENTITLEMENT_RE)) {
    if (m.index !== consumed) break
    consumed += m[0].length
    const tag = xmlUnescape(m[1]!)
    entitlements.push({
      tag,
      type: typeOfTag(tag),
      count: Number(m[2]),
      startDate: isoOrNull(m[3], '<startDate>'),
      endDate: isoOrNull(m[4], '<endDate>'),
      licenseType: m[5]!,
    })
  }
  if (consumed !== entitlementsText.length) throw malformed('an <entitlement> does not hold <tag>, <count>, <startDate>, <endDate> and <licenseType> in that order')
  if (entitlements.length === 0) throw malformed('it holds no entitlement')

  // the signer: its certificate must chain to one of the agent's trust anchors
  let certPem: string
  let cert: X509Certificate
  try {
    const der = Buffer.from(certB64.replace(/\s+/g, ''), 'base64')
    cert = new X509Certificate(der)
    certPem = cert.toString()
  } catch {
    throw malformed('<signingCertificate> is not a certificate')
  }
  const trusted = trustAnchorPems.some((anchor) => {
    try {
      return verifyCertificateSignedBy(certPem, anchor)
    } catch {
      return false
    }
  })
  if (!trusted) {
    throw new BadInputError('The authorization code is signed by a certificate that none of this unit\'s trust anchors issued (Unknown CA).', {
      actions: ['Use an authorization code from the license server this unit was built to trust.'],
    })
  }
  const realNow = Date.now()
  if (realNow < Date.parse(cert.validFrom) || realNow > Date.parse(cert.validTo)) {
    throw new BadInputError(`The authorization code's signing certificate is not valid now (valid ${cert.validFrom} to ${cert.validTo}).`)
  }
  const signature = Buffer.from(signatureB64.replace(/\s+/g, ''), 'base64')
  let good = false
  try {
    good = rsaVerify('sha256', Buffer.from(signedText, 'utf8'), cert.publicKey, signature)
  } catch {
    good = false
  }
  if (!good) {
    throw new BadInputError('The authorization code\'s signature does not verify: the code was changed after it was signed.', {
      actions: ['Paste the authorization code exactly as the license server generated it.'],
    })
  }
  if (piidForUdi(udi) !== piid) {
    throw new BadInputError(`The authorization code's <udi> ${udi} does not match its signed product instance id: the code was edited.`)
  }
  const info = certificateInfo(certPem)
  return {
    kind: root === 'specificPLR' ? 'SLR' : 'PLR',
    udi,
    piid,
    timestamp: Number(timestampText),
    entitlements,
    signedText,
    digest: createHash('sha256').update(signedText).digest('hex'),
    signer: {subject: info.subject, fingerprint: info.fingerprint},
  }
}
