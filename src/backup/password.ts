import {readFileSync} from 'node:fs'
import {BadInputError, UsageError} from '../errors.js'

/** Where a backup password may come from, in this order (SPEC 4 "Backup and restore"). */
export interface PasswordSources {
  /** --password-file: its first line, the line end stripped */
  passwordFile?: string
  /** the environment (XWAY_BACKUP_PASSWORD is read from it; empty counts as unset) */
  env?: NodeJS.ProcessEnv
  /**
   * A hidden prompt on a terminal, given by the CLI layer (src/ never prompts). Returns
   * undefined when there is no terminal or the user cancelled.
   */
  prompt?: () => Promise<string | undefined>
}

export const PASSWORD_ENV = 'XWAY_BACKUP_PASSWORD'
/** A password file is a secret of a line, not a document: refuse reading a huge file by mistake. */
const MAX_PASSWORD_FILE_BYTES = 64 * 1024

const HOW = [
  'Give the backup password with --password-file FILE (first line), or XWAY_BACKUP_PASSWORD, or run on a terminal to be asked.',
]

/** The first line of a password file, without its line end. Never puts the content in a message. */
export function readPasswordFile(path: string): string {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new BadInputError(`cannot read the password file ${path} (${reason})`, {actions: ['Check the path given to --password-file.']})
  }
  if (data.length > MAX_PASSWORD_FILE_BYTES) {
    throw new BadInputError(`the password file ${path} is larger than ${MAX_PASSWORD_FILE_BYTES} bytes: it is not a password file`, {
      actions: ['Give a file whose first line is the backup password.'],
    })
  }
  const text = data.toString('utf8')
  const end = text.search(/\r?\n/)
  const line = end === -1 ? text : text.slice(0, end)
  if (line.length === 0) {
    throw new UsageError(`the first line of the password file ${path} is empty`, {actions: ['Write the backup password on the first line of the file.']})
  }
  return line
}

/**
 * The backup password: --password-file, else XWAY_BACKUP_PASSWORD (empty = unset), else the
 * hidden prompt on a terminal. Without any of them: a usage error (exit 2), before anything
 * is read or written.
 */
export async function resolveBackupPassword(sources: PasswordSources): Promise<string> {
  if (sources.passwordFile !== undefined) return readPasswordFile(sources.passwordFile)
  const fromEnv = (sources.env ?? process.env)[PASSWORD_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const typed = sources.prompt ? await sources.prompt() : undefined
  if (typed !== undefined && typed !== '') return typed
  if (typed === '') throw new UsageError('the backup password is empty', {actions: HOW})
  throw new UsageError('no backup password: give --password-file or XWAY_BACKUP_PASSWORD (there is no terminal to ask on)', {actions: HOW})
}
