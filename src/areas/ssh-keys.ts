import {generateEcdsaKey, generateEd25519Key, generateRsaKey} from '../crypto/keys.js'
import type {CryptoPolicy} from '../crypto/policy.js'
import type {RandomSource} from '../crypto/random.js'
import {openSshPrivateKey, openSshPublicKey, parseOpenSshPublicKey, sshKeyPairMatches} from '../crypto/ssh.js'
import {type AreaModule, folder} from './area.js'

/** The ssh host keys (etc/ssh/ssh_host_<type>_key and .pub). */
export const SSH_KEYS = {dir: 'etc/ssh'} as const
export const SSH_KEY_TYPES = ['rsa', 'ecdsa', 'ed25519'] as const

export function sshKeyPath(type: string): string {
  return `${SSH_KEYS.dir}/ssh_host_${type}_key`
}

export interface GeneratedFile {
  rel: string
  data: string
  mode: number
}

/** SSH host keys the policy allows (FIPS: RSA 3072 and ECDSA only), in OpenSSH format, private halves 0600. */
export function generateSshHostKeys(policy: CryptoPolicy, random: (label: string) => RandomSource | undefined, comment: string): GeneratedFile[] {
  const files: GeneratedFile[] = []
  for (const spec of policy.sshHostKeys) {
    const rng = random(`ssh-${spec.type}`)
    const key =
      spec.type === 'rsa' ? generateRsaKey(spec.bits, rng)
        : spec.type === 'ecdsa' ? generateEcdsaKey(spec.bits === 384 ? 'P-384' : 'P-256', rng)
          : generateEd25519Key(rng)
    const rel = sshKeyPath(spec.type)
    files.push({rel, data: openSshPrivateKey(key, comment), mode: 0o600})
    files.push({rel: `${rel}.pub`, data: openSshPublicKey(key, comment), mode: 0o644})
  }
  return files
}

export const sshKeysArea: AreaModule = {
  name: 'ssh-keys',
  title: 'ssh keys',
  files: [folder(SSH_KEYS.dir)],
  question: {flag: 's', long: 'keep-ssh-keys', prompt: 'Keep ssh keys [YES/NO]?', order: 6, legacyPrompt: 'Keep ssh keys [YES/NO]?', legacyOrder: 4},
  resetSource: 'regenerate',
  backup: false,
  restore: 'none',
  resetDetail: ({action, policy}) => (action === 'kept' ? 'kept' : `new host keys (${policy.name} crypto policy)`),
  applyReset(ctx) {
    if (ctx.action === 'kept') return
    for (const g of generateSshHostKeys(ctx.policy, ctx.seededOnly, `root@${ctx.hostname}`)) ctx.put(g.rel, g.data, g.mode)
  },
  verify({files, text, policy, problem}) {
    for (const type of SSH_KEY_TYPES) {
      const rel = sshKeyPath(type)
      const priv = text(rel)
      const pub = text(`${rel}.pub`)
      if (priv === null && pub === null) continue
      if ((priv === null) !== (pub === null)) {
        problem(rel, 'private and public halves are not both present')
        continue
      }
      if (((files.stat(rel)?.mode ?? 0) & 0o077) !== 0) problem(rel, 'private key must be 0600')
      try {
        if (!sshKeyPairMatches(priv!, pub!)) problem(rel, 'private key does not match its .pub')
        const k = parseOpenSshPublicKey(pub!)
        if (!policy.allowsSshKey({type: k.type, bits: k.bits})) problem(rel, `${k.type}-${k.bits} is not allowed by the ${policy.name} crypto policy`)
      } catch (error) {
        problem(rel, (error as Error).message)
      }
    }
  },
  inspect({files}) {
    const hostKeys: Array<{type: string; bits: number; fingerprint: string}> = []
    for (const type of SSH_KEY_TYPES) {
      const pub = files.read(`${sshKeyPath(type)}.pub`)
      if (pub === null) continue
      const k = parseOpenSshPublicKey(pub.toString('utf8'))
      hostKeys.push({type: k.type, bits: k.bits, fingerprint: k.fingerprint})
    }
    return {ssh: {hostKeys}}
  },
}
