import {isPasswordHash} from '../crypto/password.js'
import type {UnitReader} from '../unit/store.js'
import {readJson} from '../unit/unit.js'
import {type AreaModule, file, folder} from './area.js'

/** root and admin password hashes (never plain text) and root's authorized keys. */
export const PASSWORDS = {
  dir: 'tandberg/persistent/users',
  users: 'tandberg/persistent/users/passwd.json',
  authorizedKeys: 'tandberg/.ssh/authorized_keys',
} as const

export interface UserEntry {
  /** SHA-512 crypt hash, never the password */
  hash: string
  /** true while the factory default password is set */
  default: boolean
  /** the password must be changed at first login */
  mustChange: boolean
}

export interface UsersFile {
  root: UserEntry
  admin: UserEntry
}

export const readUsers = (files: UnitReader) => readJson<UsersFile>(files, PASSWORDS.users)

export const passwordsArea: AreaModule = {
  name: 'passwords',
  title: 'root and admin passwords',
  files: [folder(PASSWORDS.dir), file(PASSWORDS.users, 'json', {secret: true, required: true}), file(PASSWORDS.authorizedKeys, 'opaque')],
  question: {flag: 'p', long: 'keep-passwords', prompt: 'Keep root and admin passwords [YES/NO]?', order: 8, legacyPrompt: 'Keep root and admin passwords [YES/NO]?', legacyOrder: 6},
  resetSource: 'payload',
  backup: true,
  restore: 'replace',
  resetDetail: ({action}) => (action === 'kept' ? 'kept' : 'factory defaults, to be changed at first login'),
  applyReset(ctx) {
    // the payload's password file holds hashes: still a secret, 0600 like the unit's own
    const users = ctx.payload.files.get(PASSWORDS.users)
    if (ctx.action !== 'kept' && users) ctx.put(PASSWORDS.users, users.data, 0o600)
  },
  verify({text, problem}) {
    const data = text(PASSWORDS.users)
    if (data === null) return
    let users: UsersFile
    try {
      users = JSON.parse(data) as UsersFile
    } catch {
      return // reported as not valid JSON
    }
    for (const who of ['root', 'admin'] as const) {
      if (!users[who] || !isPasswordHash(users[who].hash)) problem(PASSWORDS.users, `${who}: not a SHA-512 crypt hash`)
    }
  },
  inspect({files}) {
    const users = readUsers(files)
    return {users: {root: {default: users.root.default}, admin: {default: users.admin.default}}}
  },
}
