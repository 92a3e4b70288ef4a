import {createInterface, type Interface} from 'node:readline'
import type {Writable} from 'node:stream'
import {UsageError} from '../errors.js'

/**
 * Reads answers line by line, from the terminal or from piped stdin alike, so that the
 * appliance's documented dialogue can be scripted: `printf 'YES\nNO\n' | xway factory-reset …`.
 */
export class LinePrompter {
  private rl?: Interface
  private lines: string[] = []
  private waiting?: (line: string | undefined) => void
  private ended = false
  private readonly output: Writable

  constructor(options: {output: Writable}) {
    this.output = options.output
  }

  get interactive(): boolean {
    return Boolean(process.stdin.isTTY)
  }

  private open(): void {
    if (this.rl) return
    this.rl = createInterface({input: process.stdin, terminal: false, crlfDelay: Infinity})
    this.rl.on('line', (line) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = undefined
        w(line)
      } else this.lines.push(line)
    })
    this.rl.on('close', () => {
      this.ended = true
      if (this.waiting) {
        const w = this.waiting
        this.waiting = undefined
        w(undefined)
      }
    })
  }

  /**
   * One line of input, or undefined when stdin has ended. On a terminal the question waits on its
   * line for the typed answer; with piped answers each question ends its own line, exactly as
   * worded, so that a transcript of a scripted run lists the questions one per line.
   */
  async readLine(question: string): Promise<string | undefined> {
    this.output.write(this.interactive ? `${question} ` : `${question}\n`)
    this.open()
    const line = this.lines.length > 0 ? this.lines.shift() : this.ended ? undefined : await new Promise<string | undefined>((resolve) => {
      this.waiting = resolve
    })
    return line
  }

  /**
   * The appliance's `[YES/NO]?` dialect: YES/NO in any case, y/n too. A missing answer is an
   * error, never a guess; an unclear answer is asked again (bounded).
   */
  async yesNo(question: string, what = 'this question'): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const line = await this.readLine(question)
      if (line === undefined) {
        throw new UsageError(`No answer to "${question}" (stdin ended).`, {
          actions: [`Answer ${what} with YES or NO on stdin, or use the command's flags and --yes.`],
        })
      }
      const answer = line.trim().toLowerCase()
      if (answer === 'yes' || answer === 'y') return true
      if (answer === 'no' || answer === 'n') return false
      this.output.write('Please answer YES or NO.\n')
    }
    throw new UsageError(`No valid answer to "${question}".`, {actions: ['Answer YES or NO.']})
  }

  /**
   * A hidden prompt (passwords), only on a terminal: @inquirer/password, which restores the
   * terminal however the prompt ends. Undefined without a terminal (piped stdin is never read
   * for a secret); Ctrl+C rejects with its ExitPromptError, which the CLI reports as cancelled.
   */
  async secret(question: string): Promise<string | undefined> {
    if (!process.stdin.isTTY) return undefined
    const {default: password} = await import('@inquirer/password')
    return password({message: question.replace(/:\s*$/, ':')}, {input: process.stdin, output: this.output})
  }

  close(): void {
    this.rl?.close()
    this.rl = undefined
  }
}
