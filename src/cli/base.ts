import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import {XwayError, type ErrorCode, exitCodeFor} from '../errors.js'
import {Progress} from './progress.js'
import {LinePrompter} from './prompt.js'
import {describeSystemError, type DescribedError, inWords} from './system-error.js'

/** SPEC 6's error object; `data` only when the error carries some (verify's problems, a failed command's result). */
export interface ErrorJson {
  error: {code: ErrorCode; message: string; actions: string[]; data?: unknown}
}

/**
 * The one base command: --json on every command (one object on stdout, nothing else),
 * typed errors → SPEC 6 exit codes with actions, no stack traces unless XWAY_DEBUG=1,
 * prompts that read the terminal or piped stdin, progress on stderr.
 */
export abstract class XwayCommand<T> extends Command {
  static override enableJsonFlag = true

  private prompter?: LinePrompter
  private progressRenderer?: Progress

  /** Human output goes to stdout, except under --json where stdout carries only the result. */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(line + '\n')
  }

  /** Warnings go to stderr, so they never mix with --json output. */
  protected warnLine(line: string): void {
    process.stderr.write(`Warning: ${line}\n`)
  }

  protected get prompts(): LinePrompter {
    this.prompter ??= new LinePrompter({output: this.jsonEnabled() ? process.stderr : process.stdout})
    return this.prompter
  }

  protected get progress(): Progress {
    this.progressRenderer ??= new Progress({quiet: this.jsonEnabled()})
    return this.progressRenderer
  }

  protected override toErrorJson(err: unknown): ErrorJson {
    const {code, message, actions, data} = describeError(err)
    return {error: data === undefined ? {code, message, actions} : {code, message, actions, data}}
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (err instanceof Errors.ExitError) throw err
    const described = describeError(err)
    process.exitCode = exitCodeFor(described.code)
    this.progressRenderer?.fail()
    if (this.jsonEnabled()) {
      this.logJson(this.toErrorJson(err))
    } else {
      process.stderr.write(`Error: ${described.message}\n`)
      for (const action of described.actions) process.stderr.write(`  → ${action}\n`)
    }
    if (process.env.XWAY_DEBUG === '1' && err.stack) process.stderr.write(err.stack + '\n')
    return undefined
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    this.prompter?.close()
    return super.finally(err)
  }

  abstract override run(): Promise<T>
}

/**
 * oclif wraps an error thrown while parsing a flag as "Parsing --NAME \n\t<message>\nSee more
 * help with --help": keep one line that names the flag once.
 */
function parseMessage(message: string): string {
  const text = message.replace(/\nSee more help with --help$/, '')
  const m = /^Parsing --(\S+) \n\t([\s\S]*)$/.exec(text)
  if (!m) return text
  return m[2]!.startsWith(`--${m[1]}`) ? m[2]! : `--${m[1]}: ${m[2]}`
}

/** Any error as SPEC 6's error object: typed errors as they are, oclif's usage errors, Node's system errors in words. */
export function describeError(err: unknown): DescribedError {
  if (err instanceof XwayError) {
    const described: DescribedError = {code: err.code, message: inWords(parseMessage(err.message)), actions: err.actions.map(inWords)}
    if (err.data !== undefined) described.data = err.data
    return described
  }
  const e = err as {message?: string; parse?: unknown; oclif?: {exit?: number}; code?: string}
  if (e && (e.parse !== undefined || e.oclif?.exit === 2 || /^Parsing --\S+ \n\t/.test(String(e.message ?? '')))) {
    const message = parseMessage(String(e.message ?? 'bad usage'))
    return {code: 'usage', message, actions: ['See the command\'s --help for its flags and examples.']}
  }
  const system = describeSystemError(err)
  if (system) return system
  return {code: 'failed', message: inWords(String(e?.message ?? err)), actions: ['Run again with XWAY_DEBUG=1 for details.']}
}
