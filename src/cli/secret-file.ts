import {readFileSync} from 'node:fs'
import {inspect} from 'node:util'
import {BadInputError} from '../errors.js'
import {systemReason} from './system-error.js'

/** A secret file holds a line, not a document: a huge file given by mistake is refused unread. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024

/**
 * A secret read from a file (password, proxy password, registration token): the path, and the
 * first line behind reveal(), so that printing, inspecting or serialising the value (oclif's
 * debug output, a JSON result) shows the path only.
 */
export class SecretFile {
  readonly path: string
  readonly #secret: string
  constructor(path: string, secret: string) {
    this.path = path
    this.#secret = secret
  }

  reveal(): string {
    return this.#secret
  }

  toJSON(): {path: string} {
    return {path: this.path}
  }

  toString(): string {
    return this.path
  }

  [inspect.custom](): string {
    return `SecretFile(${this.path})`
  }
}

/**
 * The one reader of secret files: the first line, its line end (LF or CRLF) stripped. Unreadable,
 * oversized and empty files are bad input (exit 4) and the message never holds the content.
 * `what` names the file for the user, e.g. "--password-file".
 */
export function readSecretFile(path: string, what: string): SecretFile {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (error) {
    throw new BadInputError(`${what} ${path} cannot be read: ${systemReason(error) ?? 'unreadable'}.`, {
      actions: [`Give ${what} a readable file whose first line is the secret.`],
    })
  }
  if (data.length > MAX_SECRET_FILE_BYTES) {
    throw new BadInputError(`${what} ${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes: it is not a file holding one secret line.`, {
      actions: [`Give ${what} a file whose first line is the secret.`],
    })
  }
  const text = data.toString('utf8')
  const end = text.search(/\r?\n/)
  const line = end === -1 ? text : text.slice(0, end)
  if (line.length === 0) {
    throw new BadInputError(`${what} ${path}: the first line is empty.`, {actions: [`Write the secret on the first line of ${path}.`]})
  }
  return new SecretFile(path, line)
}
