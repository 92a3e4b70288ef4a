import {isIP} from 'node:net'
import {IP, type IpConfig, readIp} from '../areas/ip.js'
import {MGMT, type MgmtConfig, readMgmt} from '../areas/mgmt.js'
import {BadInputError, UsageError} from '../errors.js'
import {changeUnit} from '../areas/open.js'
import {sameSubnet} from '../profile/subnet.js'

const HOSTNAME = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/
const DOMAIN = /^(?=.{1,253}$)((?!-)[A-Za-z0-9-]{1,63}(?<!-)\.)*(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/

export function checkCidr(value: string, what: string): string {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(value)
  const family = m ? isIP(m[1]) : 0
  if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
    throw new BadInputError(`${what}: "${value}" is not an address with prefix length (CIDR), e.g. 192.0.2.10/24.`)
  }
  return value
}

export function checkIp(value: string, what: string): string {
  if (isIP(value) === 0) throw new BadInputError(`${what}: "${value}" is not an IP address.`)
  return value
}

/** The rule of profiles: the LAN1 gateway lies in the subnet of the LAN1 address (both IPv4; an IPv6 pair is not judged). */
function checkGateway(lan1: IpConfig['lan1'], change: NetworkChange): void {
  const address = lan1.address?.split('/')[0] ?? ''
  const gateway = lan1.gateway ?? ''
  if (!address || !gateway || (isIP(address) === 6 && isIP(gateway) === 6)) return
  if (isIP(address) === isIP(gateway) && sameSubnet(lan1.address, gateway)) return
  const given = change.gateway !== undefined ? `--gateway ${gateway}` : `the gateway ${gateway}`
  throw new UsageError(`${given} is not in the subnet of LAN1 ${lan1.address}${change.lan1 === undefined ? ' (the unit\'s LAN1 address)' : ''}.`, {
    actions: [change.lan1 !== undefined && change.gateway === undefined
      ? `Give the new subnet's gateway too: --lan1 ${lan1.address} --gateway IP.`
      : `Give a gateway in ${lan1.address}, or change LAN1 with it: --lan1 CIDR --gateway IP.`],
  })
}

export interface NetworkChange {
  hostname?: string
  domain?: string
  dns?: string[]
  lan1?: string
  gateway?: string
}

export interface NetworkResult {
  unit: string
  network: IpConfig
  changed: string[]
}

/** `network set`: a changed hostname reaches the licensing server at the next registration renewal. */
export async function setNetwork(unitArg: string, change: NetworkChange): Promise<NetworkResult> {
  if (Object.values(change).every((v) => v === undefined)) {
    throw new UsageError('Nothing to change.', {actions: ['Give at least one of --hostname, --domain, --dns, --lan1, --gateway.']})
  }
  if (change.hostname !== undefined && !HOSTNAME.test(change.hostname)) throw new BadInputError(`--hostname: "${change.hostname}" is not a valid host name (letters, digits and hyphens, at most 63).`)
  if (change.domain !== undefined && change.domain !== '' && !DOMAIN.test(change.domain)) throw new BadInputError(`--domain: "${change.domain}" is not a valid domain name.`)
  for (const d of change.dns ?? []) checkIp(d, '--dns')
  if (change.lan1 !== undefined) checkCidr(change.lan1, '--lan1')
  if (change.gateway !== undefined) checkIp(change.gateway, '--gateway')
  return changeUnit(unitArg, 'network set', (tx, unit) => {
    const before = readIp(unit.files)
    const after: IpConfig = {
      hostname: change.hostname ?? before.hostname,
      domain: change.domain ?? before.domain,
      dns: change.dns ?? before.dns,
      lan1: {address: change.lan1 ?? before.lan1.address, gateway: change.gateway ?? before.lan1.gateway},
    }
    checkGateway(after.lan1, change)
    const changed = (['hostname', 'domain', 'dns', 'lan1'] as const).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    if (changed.length > 0) {
      tx.writeJson(IP.file, after)
      tx.audit({changed})
    }
    return {unit: unitArg, network: after, changed}
  })
}

export interface MgmtResult {
  unit: string
  mgmt: MgmtConfig
}

export async function setMgmt(unitArg: string, change: {address?: string; off?: boolean}): Promise<MgmtResult> {
  if ((change.address === undefined) === !change.off) throw new UsageError('Give exactly one of --address CIDR or --off.')
  if (change.address !== undefined) checkCidr(change.address, '--address')
  return changeUnit(unitArg, 'network mgmt', (tx, unit) => {
    const before = readMgmt(unit.files)
    const after: MgmtConfig = change.off ? {enabled: false, address: null} : {enabled: true, address: change.address!}
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      tx.writeJson(MGMT.file, after)
      tx.audit({mgmt: after.enabled ? 'on' : 'off'})
    }
    return {unit: unitArg, mgmt: after}
  })
}
