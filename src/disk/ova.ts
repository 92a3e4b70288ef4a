import {createHash} from 'node:crypto'
import type {ProductInfo} from '../product.js'
import {corrupt} from './errors.js'
import {type BlockSource, RangeSource} from './source.js'

// OVA: a ustar archive whose first member is NAME.ovf, then NAME.mf, then the disks. Read in
// place (members are windows of the tar file, nothing is extracted); checked before the disk is
// read: member names stay inside the archive, the manifest's digests match, the OVF names only
// members (no URL, no path).

const BLOCK = 512
const MAX_MEMBERS = 64
const MAX_OVF_BYTES = 1024 * 1024

export interface OvaMember {
  name: string
  offset: number
  size: number
}

function cstr(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len)
  const end = s.indexOf(0)
  return s.toString('utf8', 0, end === -1 ? len : end)
}

function octal(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    let v = 0
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]
    return v
  }
  const t = cstr(b, off, len).trim()
  return t === '' ? 0 : Number.parseInt(t, 8)
}

export function looksLikeTar(head: Buffer): boolean {
  return head.length >= BLOCK && head.toString('latin1', 257, 262) === 'ustar'
}

/** The members of a tar held in src (regular files only), names checked. */
export function indexTar(src: BlockSource, where: string): OvaMember[] {
  const out: OvaMember[] = []
  let pos = 0
  let paxPath: string | null = null
  let longName: string | null = null
  for (let n = 0; n < MAX_MEMBERS * 3; n++) {
    if (pos + BLOCK > src.size) throw corrupt(where, 'the archive is truncated')
    const h = src.read(pos, BLOCK)
    if (h.every((b) => b === 0)) return out
    let sum = 0
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]
    if (sum !== octal(h, 148, 8)) throw corrupt(where, 'an archive header checksum does not match')
    const type = String.fromCharCode(h[156] || 48)
    const size = octal(h, 124, 12)
    if (!Number.isSafeInteger(size) || size < 0 || pos + BLOCK + size > src.size) throw corrupt(where, 'an archive member lies past the end of the file')
    const dataAt = pos + BLOCK
    pos = dataAt + Math.ceil(size / BLOCK) * BLOCK
    if (type === 'x' || type === 'L') {
      if (size > 65536) throw corrupt(where, 'an archive extended header is oversized')
      const body = src.read(dataAt, size)
      if (type === 'L') longName = cstr(body, 0, body.length)
      else {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))
        if (m) paxPath = m[1]
      }
      continue
    }
    if (type === 'g') continue
    const prefix = cstr(h, 345, 155)
    const name = longName ?? paxPath ?? (prefix ? `${prefix}/${cstr(h, 0, 100)}` : cstr(h, 0, 100))
    longName = null
    paxPath = null
    if (name.startsWith('/') || name.split('/').includes('..')) throw corrupt(where, `the archive member "${name}" leaves the archive (absolute or "..")`)
    const clean = name.replace(/^\.\//, '')
    if (clean.includes('/')) throw corrupt(where, `the archive member "${name}" is in a folder; an OVA's members are flat`)
    if (type !== '0' && type !== '7') throw corrupt(where, `the archive member "${name}" is not a regular file`)
    if (out.some((m) => m.name === clean)) throw corrupt(where, `the archive holds "${clean}" twice`)
    out.push({name: clean, offset: dataAt, size})
    if (out.length > MAX_MEMBERS) throw corrupt(where, `the archive holds more than ${MAX_MEMBERS} members`)
  }
  throw corrupt(where, 'the archive has too many headers')
}

function digestOf(src: BlockSource, m: OvaMember, algorithm: string): string {
  const h = createHash(algorithm)
  for (let off = 0; off < m.size; off += 4 << 20) h.update(src.read(m.offset + off, Math.min(4 << 20, m.size - off)))
  return h.digest('hex')
}

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`(?:^|\\s)(?:ovf:)?${name}\\s*=\\s*"([^"]*)"`).exec(tag)
  return m ? m[1] : null
}

export interface OpenedOva {
  members: OvaMember[]
  ovf: string
  /** the disk named by the OVF's (first) Disk, a window of the archive */
  disk: RangeSource
  diskName: string
}

/**
 * Checks an OVA and returns its disk: first member .ovf, a manifest whose every digest matches
 * and that lists every other member, an OVF whose File references are plain member names.
 */
export function openOva(src: BlockSource, where: string): OpenedOva {
  const members = indexTar(src, where)
  if (members.length === 0 || !members[0].name.endsWith('.ovf')) throw corrupt(where, 'the first member of an OVA must be its .ovf descriptor')
  const ovfMember = members[0]
  if (ovfMember.size > MAX_OVF_BYTES) throw corrupt(where, 'the OVF descriptor is oversized')
  const ovf = src.read(ovfMember.offset, ovfMember.size).toString('utf8')
  const byName = new Map(members.map((m) => [m.name, m]))
  const mf = members.find((m) => m.name.endsWith('.mf'))
  if (!mf) throw corrupt(where, 'the OVA has no manifest (.mf); its members cannot be checked')
  if (mf.size > MAX_OVF_BYTES) throw corrupt(where, 'the OVA manifest is oversized')
  const listed = new Set<string>()
  for (const line of src.read(mf.offset, mf.size).toString('utf8').split(/\r?\n/)) {
    if (line.trim() === '') continue
    const m = /^(SHA1|SHA256|SHA512)\((.+)\)\s*=\s*([0-9a-fA-F]+)\s*$/.exec(line.trim())
    if (!m) throw corrupt(where, `the manifest line "${line.slice(0, 80)}" is malformed`)
    const member = byName.get(m[2])
    if (!member || member === mf) throw corrupt(where, `the manifest names "${m[2]}", which is not a member of the OVA`)
    if (digestOf(src, member, m[1].toLowerCase()) !== m[3].toLowerCase()) throw corrupt(where, `the ${m[1]} digest of "${m[2]}" does not match the manifest (the OVA was altered or damaged)`)
    listed.add(m[2])
  }
  for (const m of members) {
    if (m !== mf && !m.name.endsWith('.cert') && !listed.has(m.name)) throw corrupt(where, `"${m.name}" is not in the manifest`)
  }
  const files = new Map<string, string>()
  for (const tag of ovf.match(/<(?:ovf:)?File\b[^>]*>/g) ?? []) {
    const href = attr(tag, 'href')
    const id = attr(tag, 'id')
    if (!href || !id) throw corrupt(where, 'an OVF File has no href or id')
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('/') || href.includes('..') || href.includes('/') || href.includes('\\')) {
      throw corrupt(where, `the OVF names "${href}", a URL or path outside the archive; never opened`)
    }
    if (!byName.has(href)) throw corrupt(where, `the OVF names "${href}", which is not a member of the OVA`)
    files.set(id, href)
  }
  const diskTag = /<(?:ovf:)?Disk\b[^>]*>/.exec(ovf)?.[0]
  const ref = diskTag ? attr(diskTag, 'fileRef') : null
  const diskName = ref ? files.get(ref) : undefined
  if (!diskName) throw corrupt(where, 'the OVF names no disk file of the archive')
  const d = byName.get(diskName)!
  return {members, ovf, disk: new RangeSource(src, d.offset, d.size, `${where}:${diskName}`), diskName}
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** Virtual hardware by PID (the appliance's OVA sizes). */
export const HARDWARE: Record<string, {cpus: number; memoryMb: number}> = {
  'EXPWY-VE-S-K9': {cpus: 2, memoryMb: 4096},
  'EXPWY-VE-M-K9': {cpus: 2, memoryMb: 6144},
  'EXPWY-VE-L-K9': {cpus: 8, memoryMb: 8192},
}

/** A DMTF OVF 1.0 envelope for one VM with one streamOptimized disk (what vSphere and ovftool import). */
export function buildOvf(o: {name: string; info: ProductInfo; diskBytes: number; vmdkName: string; vmdkBytes: number}): string {
  const hw = HARDWARE[o.info.pid] ?? HARDWARE['EXPWY-VE-M-K9']
  const product = o.info.brand === 'VCS' ? 'Cisco VCS' : 'Cisco Expressway'
  const item = (id: number, body: string) => `      <Item>\n        <rasd:InstanceID>${id}</rasd:InstanceID>\n${body}      </Item>\n`
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
    <File ovf:href="${esc(o.vmdkName)}" ovf:id="file1" ovf:size="${o.vmdkBytes}"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="${o.diskBytes}" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="LAN1">
      <Description>LAN1</Description>
    </Network>
  </NetworkSection>
  <VirtualSystem ovf:id="${esc(o.name)}">
    <Info>${esc(product)} virtual machine</Info>
    <Name>${esc(o.name)}</Name>
    <ProductSection>
      <Info>Product information</Info>
      <Product>${esc(product)}</Product>
      <Vendor>Cisco Systems, Inc.</Vendor>
      <Version>${esc(o.info.softwareVersion)}</Version>
      <FullVersion>${esc(`${product} ${o.info.type} ${o.info.softwareVersion} (${o.info.pid}, ${o.info.edition})`)}</FullVersion>
      <ProductUrl>https://www.cisco.com/c/en/us/products/unified-communications/expressway-series/index.html</ProductUrl>
    </ProductSection>
    <AnnotationSection>
      <Info>Unit</Info>
      <Annotation>${esc(`${product} ${o.info.type}, ${o.info.pid}, serial ${o.info.serial}`)}</Annotation>
    </AnnotationSection>
    <OperatingSystemSection ovf:id="101">
      <Info>The operating system</Info>
      <Description>Other 4.x or later Linux (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements (${esc(o.info.pid)})</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>${esc(o.name)}</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType>
      </System>
${item(1, `        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>\n        <rasd:Description>Number of Virtual CPUs</rasd:Description>\n        <rasd:ElementName>${hw.cpus} virtual CPU(s)</rasd:ElementName>\n        <rasd:ResourceType>3</rasd:ResourceType>\n        <rasd:VirtualQuantity>${hw.cpus}</rasd:VirtualQuantity>\n`)}${item(2, `        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>\n        <rasd:Description>Memory Size</rasd:Description>\n        <rasd:ElementName>${hw.memoryMb}MB of memory</rasd:ElementName>\n        <rasd:ResourceType>4</rasd:ResourceType>\n        <rasd:VirtualQuantity>${hw.memoryMb}</rasd:VirtualQuantity>\n`)}${item(3, `        <rasd:Address>0</rasd:Address>\n        <rasd:Description>SCSI Controller</rasd:Description>\n        <rasd:ElementName>SCSI controller 0</rasd:ElementName>\n        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType>\n        <rasd:ResourceType>6</rasd:ResourceType>\n`)}${item(4, `        <rasd:AddressOnParent>0</rasd:AddressOnParent>\n        <rasd:ElementName>Hard disk 1</rasd:ElementName>\n        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>\n        <rasd:Parent>3</rasd:Parent>\n        <rasd:ResourceType>17</rasd:ResourceType>\n`)}${item(5, `        <rasd:AddressOnParent>7</rasd:AddressOnParent>\n        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>\n        <rasd:Connection>LAN1</rasd:Connection>\n        <rasd:ElementName>Network adapter 1</rasd:ElementName>\n        <rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType>\n        <rasd:ResourceType>10</rasd:ResourceType>\n`)}    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`
}
