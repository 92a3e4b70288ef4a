import {Command} from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import {type ErrorCode, exitCodeFor} from '../errors.js'
import {Progress} from './progress.js'
import {LinePrompter} from './prompt.js'
import {describeError} from './describe-error.js'

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

export {describeError} from './describe-error.js'
