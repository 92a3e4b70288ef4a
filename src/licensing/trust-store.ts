import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {X509Certificate} from 'node:crypto'
import {BadInputError} from '../errors.js'
import {certificateInfo, splitPemBundle} from '../crypto/x509.js'
import type {UnitReader} from '../unit/store.js'
import type {TrustStoreEntry} from './status.js'

/** The seed: the agent trusts "QuoVadis Root CA 2" only; pinned by its SHA-256 fingerprint. */
export const QUOVADIS_ROOT_CA_2_FINGERPRINT =
  '85:A0:DD:7D:D7:20:AD:B7:FF:05:F8:3D:54:2B:20:9D:C7:FF:45:28:F7:D6:77:B1:83:89:FE:A5:E5:C4:9E:86'
export const QUOVADIS_FILE = 'quovadis-root-ca-2.pem'
/** Where a unit keeps the agent trust store (product files, kept by every reset, not in backups). */
export const TRUST_STORE_DIR = 'tandberg/etc/licensing-trust'

export function quoVadisRootCa2(): string {
  // node:tls is loaded only here (building a unit), not by every command that reads a trust store
  const {rootCertificates} = createRequire(import.meta.url)('node:tls') as typeof import('node:tls')
  for (const pem of rootCertificates) {
    if (new X509Certificate(pem).fingerprint256 === QUOVADIS_ROOT_CA_2_FINGERPRINT) return pem.trim() + '\n'
  }
  throw new Error('QuoVadis Root CA 2 is not in this Node.js root store')
}

/** Files of the agent trust store baked at build time: QuoVadis Root CA 2 plus the profile's lab anchors. */
export function trustStoreFiles(labAnchorFiles: string[]): Array<{rel: string; data: string}> {
  const files = [{rel: `${TRUST_STORE_DIR}/${QUOVADIS_FILE}`, data: quoVadisRootCa2()}]
  let n = 0
  for (const file of labAnchorFiles) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch {
      throw new BadInputError(`Trust anchor ${file} cannot be read.`, {actions: ['Point licensing.trustAnchors at a PEM file, e.g. the ca.pem printed by xway license-server init.']})
    }
    const pems = splitPemBundle(text)
    if (pems.length === 0) throw new BadInputError(`Trust anchor ${file} holds no PEM certificate.`)
    for (const pem of pems) {
      certificateInfo(pem)
      files.push({rel: `${TRUST_STORE_DIR}/lab-${++n}.pem`, data: pem.trim() + '\n'})
    }
  }
  return files
}

export interface TrustAnchor extends TrustStoreEntry {
  pem: string
}

/** The agent trust store of a unit: every connection validates against these certificates alone. */
export function readTrustStore(files: UnitReader): TrustAnchor[] {
  const dir = TRUST_STORE_DIR
  const names = files.list(dir).filter((n) => n.endsWith('.pem') && files.stat(`${dir}/${n}`)?.kind === 'file')
    .sort((a, b) => (a === QUOVADIS_FILE ? -1 : b === QUOVADIS_FILE ? 1 : a.localeCompare(b, 'en', {numeric: true})))
  return names.map((name) => {
    const pem = files.read(`${dir}/${name}`)!.toString('utf8')
    const info = certificateInfo(pem)
    return {subject: info.subject, fingerprint: info.fingerprint, lab: name !== QUOVADIS_FILE, pem}
  })
}
