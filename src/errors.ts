// One table maps domain outcomes to exit codes (SPEC 6); the CLI shows it in --help.
export const EXIT_CODES = [
  {code: 0, name: 'done', meaning: 'done'},
  {code: 1, name: 'failed', meaning: 'failed'},
  {code: 2, name: 'usage', meaning: 'usage (bad flag or argument)'},
  {code: 3, name: 'refused', meaning: 'refused by a rule of the appliance (the message quotes the rule and says what to do instead)'},
  {code: 4, name: 'bad-input', meaning: 'bad input (profile, backup, code, archive, password)'},
  {code: 5, name: 'busy', meaning: 'unit busy (locked) or needs `xway image recover`'},
  {code: 6, name: 'unreachable', meaning: 'a licensing server or proxy could not be reached or rejected TLS'},
] as const

export type ErrorCode = 'failed' | 'usage' | 'refused' | 'bad-input' | 'busy' | 'unreachable'

const EXIT_BY_CODE: Record<ErrorCode, number> = {
  failed: 1, usage: 2, refused: 3, 'bad-input': 4, busy: 5, unreachable: 6,
}

export interface XwayErrorOptions {
  actions?: string[]
  cause?: unknown
  /**
   * What a script needs beside the message (the problems found, the result the command would
   * have printed): `--json` prints it as `error.data`. Never a secret.
   */
  data?: unknown
}

/** Every error src/ throws on purpose: the CLI layer turns it into an exit code and guidance. */
export class XwayError extends Error {
  readonly code: ErrorCode
  readonly actions: string[]
  readonly data?: unknown
  constructor(code: ErrorCode, message: string, options: XwayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.code = code
    this.actions = options.actions ?? []
    if (options.data !== undefined) this.data = options.data
    this.name = new.target.name
  }

  get exitCode(): number {
    return EXIT_BY_CODE[this.code]
  }
}

export class FailedError extends XwayError {
  constructor(message: string, options?: XwayErrorOptions) { super('failed', message, options) }
}
export class UsageError extends XwayError {
  constructor(message: string, options?: XwayErrorOptions) { super('usage', message, options) }
}
/** A rule of the appliance forbids this; the message quotes the rule and says what to do instead. */
export class RefusedError extends XwayError {
  constructor(message: string, options?: XwayErrorOptions) { super('refused', message, options) }
}
export class BadInputError extends XwayError {
  constructor(message: string, options?: XwayErrorOptions) { super('bad-input', message, options) }
}
export class UnitBusyError extends XwayError {
  constructor(message: string, options?: XwayErrorOptions) { super('busy', message, options) }
}
export class UnreachableError extends XwayError {
  constructor(message: string, options?: XwayErrorOptions) { super('unreachable', message, options) }
}

/** An error of the given code (the class that matches it), e.g. to fail with a result a library returned. */
export function errorFor(code: ErrorCode, message: string, options?: XwayErrorOptions): XwayError {
  const Class = {failed: FailedError, usage: UsageError, refused: RefusedError, 'bad-input': BadInputError, busy: UnitBusyError, unreachable: UnreachableError}[code]
  return new Class(message, options)
}

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_BY_CODE[code]
}
