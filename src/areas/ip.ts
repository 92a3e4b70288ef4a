import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file} from './area.js'

/** LAN1 address and gateway, DNS servers, domain, hostname. */
export const IP = {file: 'tandberg/persistent/network/ip.json'} as const

export interface IpConfig {
  hostname: string
  domain: string
  dns: string[]
  lan1: {address: string; gateway: string | null}
}

export const readIp = (files: UnitReader) => readJson<IpConfig>(files, IP.file)

export const ipArea: AreaModule = {
  name: 'ip',
  title: 'IP configuration',
  files: [file(IP.file, 'json', {required: true})],
  question: {flag: 'i', long: 'keep-ip', prompt: 'Keep IP configuration [YES/NO]?', order: 4, legacyPrompt: 'Keep IP configuration [YES/NO]?', legacyOrder: 3},
  resetSource: 'payload',
  backup: true,
  restore: 'replace',
  resetDetail: ({action}) => (action === 'kept' ? 'kept' : 'factory defaults'),
  inspect: ({files}) => ({network: readIp(files)}),
}
