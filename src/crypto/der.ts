// A strict reader of DER (the subset X.509 uses: definite lengths, low tag numbers), so that
// reading a certificate's fields needs no ASN.1 library: node:crypto's X509Certificate checks
// the certificate, this walks the structure it has already accepted. Issuing stays with
// node-forge, which is loaded only then.
import {BadInputError} from '../errors.js'

export const DER_CLASS = {UNIVERSAL: 0, APPLICATION: 1, CONTEXT_SPECIFIC: 2, PRIVATE: 3} as const
export const DER_TYPE = {
  BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17,
  PRINTABLE_STRING: 19, T61_STRING: 20, IA5_STRING: 22, UTC_TIME: 23, GENERALIZED_TIME: 24, BMP_STRING: 30,
} as const

export interface DerNode {
  /** DER_CLASS */
  cls: number
  /** the tag number (DER_TYPE for the universal class) */
  type: number
  constructed: boolean
  /** the whole element (tag, length and content) */
  raw: Buffer
  content: Buffer
  /** the elements inside a constructed one */
  children: DerNode[]
}

function malformed(why: string): never {
  throw new BadInputError(`Malformed DER: ${why}.`)
}

/** The element at `offset` and where the next one starts. */
function readElement(buf: Buffer, offset: number, depth: number): {node: DerNode; next: number} {
  if (depth > 64) malformed('nested too deep')
  if (offset + 2 > buf.length) malformed('truncated header')
  const tag = buf[offset]!
  if ((tag & 0x1f) === 0x1f) malformed('high tag numbers are not used here')
  let length = buf[offset + 1]!
  let header = 2
  if (length & 0x80) {
    const bytes = length & 0x7f
    if (bytes === 0) malformed('indefinite length')
    if (bytes > 4 || offset + 2 + bytes > buf.length) malformed('length out of range')
    length = 0
    for (let i = 0; i < bytes; i++) length = length * 256 + buf[offset + 2 + i]!
    header += bytes
  }
  const start = offset + header
  const end = start + length
  if (end > buf.length) malformed('content runs past the end')
  const constructed = (tag & 0x20) !== 0
  const content = buf.subarray(start, end)
  const children: DerNode[] = []
  if (constructed) {
    let at = 0
    while (at < content.length) {
      const child = readElement(content, at, depth + 1)
      children.push(child.node)
      at = child.next
    }
  }
  return {node: {cls: tag >> 6, type: tag & 0x1f, constructed, raw: buf.subarray(offset, end), content, children}, next: end}
}

/** One DER element filling the whole buffer. BadInputError when it is not well formed. */
export function readDer(buf: Buffer): DerNode {
  const {node, next} = readElement(buf, 0, 0)
  if (next !== buf.length) malformed('bytes after the element')
  return node
}

/** Dotted OID of an OBJECT IDENTIFIER's content. */
export function oidOf(content: Buffer): string {
  if (content.length === 0) malformed('empty object identifier')
  const arcs: number[] = []
  let value = 0
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f)
    if (!(byte & 0x80)) {
      arcs.push(value)
      value = 0
    }
  }
  const first = arcs.shift()!
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
  return [...head, ...arcs].join('.')
}

/** UTCTime (years 1950-2049) or GeneralizedTime, as RFC 5280 writes them (seconds optional, Z or an offset). */
export function timeOf(node: DerNode): Date {
  const text = node.content.toString('latin1')
  const m = node.type === DER_TYPE.UTC_TIME
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?()(Z|[+-]\d{4})$/.exec(text)
    : node.type === DER_TYPE.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(\.\d+)?(Z|[+-]\d{4})$/.exec(text) : null
  if (!m) throw new BadInputError('The certificate validity is not a time.')
  let year = Number(m[1])
  if (node.type === DER_TYPE.UTC_TIME) year += year >= 50 ? 1900 : 2000
  const ms = m[7] ? Math.round(Number(`0${m[7]}`) * 1000) : 0
  let at = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), ms)
  if (m[8] !== 'Z') {
    const sign = m[8]!.startsWith('-') ? -1 : 1
    at -= sign * (Number(m[8]!.slice(1, 3)) * 60 + Number(m[8]!.slice(3, 5))) * 60_000
  }
  return new Date(at)
}

/** A directory string's text: UTF-8 (as Latin-1 when invalid), BMPString (UCS-2), the rest as Latin-1. */
export function stringOf(node: DerNode): string {
  if (node.type === DER_TYPE.UTF8) {
    try {
      return new TextDecoder('utf-8', {fatal: true}).decode(node.content)
    } catch {
      return node.content.toString('latin1')
    }
  }
  if (node.type === DER_TYPE.BMP_STRING) {
    let out = ''
    for (let i = 0; i + 1 < node.content.length; i += 2) out += String.fromCharCode((node.content[i]! << 8) | node.content[i + 1]!)
    return out
  }
  return node.content.toString('latin1')
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

/** One DER element (definite length) of `tag` around `content`: the writer's one piece. */
export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body])
}
