import {createPrivateKey} from 'node:crypto'
import {generateRsaKey, privateKeyPem} from '../crypto/keys.js'
import type {CryptoPolicy} from '../crypto/policy.js'
import type {RandomSource} from '../crypto/random.js'
import {certificateInfo, certificateMatchesKey, issueCertificate, splitPemBundle} from '../crypto/x509.js'
import {type AreaModule, file, folder} from './area.js'

/** The server certificate, its private key, the CA trust store, and the SNI (domain) certificates. */
export const CERTS = {
  dir: 'tandberg/persistent/certs',
  serverCert: 'tandberg/persistent/certs/server.pem',
  serverKey: 'tandberg/persistent/certs/server.key',
  caTrustStore: 'tandberg/persistent/certs/ca.pem',
  sniDir: 'tandberg/persistent/certs/sni',
} as const

/**
 * The server certificate and its key: self-signed, RSA of the policy's size, SHA-256. Valid from a
 * day before the unit's now (so that a seeded build is reproducible) for ten years.
 */
export function generateServerCertificate(policy: CryptoPolicy, random: RandomSource | undefined, commonName: string, at: Date): Array<{rel: string; data: string; mode: number}> {
  const key = generateRsaKey(policy.serverKeyBits, random)
  const serial = random ? random.bytes(16) : undefined
  const cert = issueCertificate({
    subject: {commonName, organization: 'Cisco Expressway (xway unit)'},
    subjectKey: key,
    notBefore: new Date(at.getTime() - 24 * 60 * 60 * 1000),
    days: 3650,
    dnsNames: [commonName],
    serial,
    extKeyUsage: ['serverAuth', 'clientAuth'],
  })
  return [
    {rel: CERTS.serverCert, data: cert, mode: 0o644},
    {rel: CERTS.serverKey, data: privateKeyPem(key), mode: 0o600},
  ]
}

function summary(pem: string): {subject: string; fingerprint: string} {
  const i = certificateInfo(pem)
  return {subject: i.subject, fingerprint: i.fingerprint}
}

export const certsArea: AreaModule = {
  name: 'certs',
  title: 'server certificate, associated key and CA trust store',
  files: [folder(CERTS.dir), file(CERTS.serverCert, 'opaque'), file(CERTS.serverKey, 'opaque', {secret: true}), file(CERTS.caTrustStore, 'opaque'), folder(CERTS.sniDir)],
  question: {
    flag: 'c', long: 'keep-certs',
    prompt: 'Keep server certificate, associated key and CA trust store [YES/NO]?', order: 7,
    legacyPrompt: 'Keep server certificate, associated key and CA trust store [YES/NO]?', legacyOrder: 5,
  },
  resetSource: 'regenerate',
  backup: true,
  restore: 'replace',
  resetDetail({action, policy, sniFiles}) {
    const sni = `SNI/domain certificates deleted (${sniFiles})`
    return action === 'kept'
      ? `server certificate, key and CA trust store kept; ${sni}`
      : `new server certificate and key (${policy.name} crypto policy), CA trust store from the factory payload; ${sni}`
  },
  applyReset(ctx) {
    if (ctx.action === 'kept') {
      // SNI/domain certificates are always deleted, whatever the answers (reference material X15.0)
      const entries = ctx.files.stat(CERTS.sniDir) ? ctx.files.list(CERTS.sniDir).length : -1
      if (entries > 0) ctx.remove(CERTS.sniDir)
      if (entries !== 0) ctx.mkdir(CERTS.sniDir)
      return
    }
    const fqdn = [ctx.hostname, ctx.domain].filter(Boolean).join('.')
    for (const g of generateServerCertificate(ctx.policy, ctx.seededOnly('server-key'), fqdn, ctx.at)) ctx.put(g.rel, g.data, g.mode)
    ctx.mkdir(CERTS.sniDir)
  },
  verify({files, text, policy, problem}) {
    const cert = text(CERTS.serverCert)
    const key = files.read(CERTS.serverKey)
    if ((cert === null) !== (key === null)) problem(CERTS.serverCert, 'server certificate and key are not both present')
    if (cert === null || key === null) return
    try {
      if (!certificateMatchesKey(cert, createPrivateKey(key))) problem(CERTS.serverCert, 'does not match server.key')
      const ci = certificateInfo(cert)
      if (!policy.allowsServerKey({bits: ci.keyBits, signatureHash: ci.signatureHash})) problem(CERTS.serverCert, `RSA-${ci.keyBits}/${ci.signatureHash} is not allowed by the ${policy.name} crypto policy`)
    } catch (error) {
      problem(CERTS.serverCert, (error as Error).message)
    }
  },
  inspect({files}) {
    const text = (rel: string) => files.read(rel)?.toString('utf8') ?? null
    const server = text(CERTS.serverCert)
    const ca = text(CERTS.caTrustStore)
    const sni = files.walk(CERTS.sniDir).filter((e) => e.stat.kind === 'file' && e.rel.endsWith('.pem'))
    return {
      certificates: {
        server: server === null ? null : summary(server),
        trustStore: ca === null ? [] : splitPemBundle(ca).map(summary),
        sni: sni.flatMap((e) => splitPemBundle(text(e.rel)!).map(summary)),
      },
    }
  },
}
