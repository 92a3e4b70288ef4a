import {sign, X509Certificate, type KeyObject} from 'node:crypto'
import {
  ENTITLEMENT_TAGS, LICENSE_TYPES, xmlEscape,
  type LicenseCounts, type ReservationKind,
} from '../licensing/protocol.js'

// Reservation authorization codes in the layout Cisco products publish (SPEC 4):
//   <specificPLR|permanentPLR>
//     <authorizationCode><flag>A</flag><version>C</version><piid>…</piid><timestamp>…</timestamp>
//       <entitlements><entitlement><tag>…</tag><count>…</count><startDate>…</startDate><endDate>…</endDate>
//       <licenseType>…</licenseType></entitlement>…</entitlements></authorizationCode>
//     <signature>base64 RSA-SHA256 over the exact <authorizationCode>…</authorizationCode> text</signature>
//     <udi>…</udi>
//     <signingCertificate>base64 DER of the signing certificate, issued by the lab CA</signingCertificate>
//   </…>
// On one line, without spaces between elements, so it survives being pasted as one argument.
// src/licensing/protocol.ts (verifyAuthorizationCode) is the parser the agent uses.

export interface CodeEntitlement {
  tag: string
  count: number
  startDate: string | null
  endDate: string | null
  licenseType: 'PERPETUAL' | 'TERM'
}

export function entitlementsFor(kind: ReservationKind, counts: LicenseCounts, start: Date, until: Date | null): CodeEntitlement[] {
  if (kind === 'PLR') return [{tag: ENTITLEMENT_TAGS.plr, count: 1, startDate: null, endDate: null, licenseType: 'PERPETUAL'}]
  return LICENSE_TYPES.filter((type) => counts[type] > 0).map((type) => ({
    tag: ENTITLEMENT_TAGS[type],
    count: counts[type],
    startDate: until ? start.toISOString() : null,
    endDate: until ? until.toISOString() : null,
    licenseType: until ? 'TERM' : 'PERPETUAL',
  }))
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
