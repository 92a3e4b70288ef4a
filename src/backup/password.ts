import {UsageError} from '../errors.js'

/** Where a backup password may come from, in this order (SPEC 4 "Backup and restore"). */
export interface PasswordSources {
  /**
   * --password-file: its first line, already read by the CLI's one reader of secret files
   * (src/cli/secret-file.ts: unreadable, oversized or empty files are exit 4)
   */
  fromFile?: string
  /** the environment (XWAY_BACKUP_PASSWORD is read from it; empty counts as unset) */
  env?: NodeJS.ProcessEnv
  /**
   * A hidden prompt on a terminal, given by the CLI layer (src/ never prompts). Returns
   * undefined when there is no terminal.
   */
  prompt?: () => Promise<string | undefined>
}

export const PASSWORD_ENV = 'XWAY_BACKUP_PASSWORD'

const HOW = [
  'Give the backup password with --password-file FILE (first line), or XWAY_BACKUP_PASSWORD, or run on a terminal to be asked.',
]

/**
 * The backup password: --password-file, else XWAY_BACKUP_PASSWORD (empty = unset), else the
 * hidden prompt on a terminal. Without any of them: a usage error (exit 2), before anything
 * is read or written.
 */
export async function resolveBackupPassword(sources: PasswordSources): Promise<string> {
  if (sources.fromFile !== undefined) return sources.fromFile
  const fromEnv = (sources.env ?? process.env)[PASSWORD_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const typed = sources.prompt ? await sources.prompt() : undefined
  if (typed !== undefined && typed !== '') return typed
  if (typed === '') throw new UsageError('the backup password is empty', {actions: HOW})
  throw new UsageError('no backup password: give --password-file or XWAY_BACKUP_PASSWORD (there is no terminal to ask on)', {actions: HOW})
}
