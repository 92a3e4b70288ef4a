/**
 * Progress on long work: listr2 on a terminal, plain lines elsewhere, nothing under --json.
 * Always on stderr, so stdout keeps only results. listr2 is imported only when a terminal shows it.
 */
export class Progress {
  private readonly quiet: boolean
  private readonly tty: boolean
  private current?: string
  private started = 0

  constructor(options: {quiet: boolean}) {
    this.quiet = options.quiet
    this.tty = Boolean(process.stderr.isTTY)
  }

  /** Runs one step of work, showing its title while it runs and its time when done. */
  async step<R>(title: string, work: () => Promise<R> | R): Promise<R> {
    if (this.quiet || !this.tty) {
      this.start(title)
      const result = await work()
      this.done()
      return result
    }
    if (this.current) this.done()
    const {Listr, ListrLogger, PRESET_TIMER, ProcessOutput} = await import('listr2')
    let result: R | undefined
    const processOutput = new ProcessOutput(process.stderr, process.stderr)
    await new Listr([{title, task: async () => {
      result = await work()
    }}], {
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: {timer: PRESET_TIMER, logger: new ListrLogger({processOutput}) as never},
    }).run()
    return result as R
  }

  start(title: string): void {
    if (this.current) this.done()
    this.current = title
    this.started = Date.now()
    if (this.quiet) return
    process.stderr.write(this.tty ? `\u001B[2K\r… ${title}` : `${title}…\n`)
  }

  done(): void {
    if (!this.current) return
    const ms = Date.now() - this.started
    if (!this.quiet && this.tty) process.stderr.write(`\u001B[2K\r✔ ${this.current} (${ms} ms)\n`)
    this.current = undefined
  }

  fail(): void {
    if (!this.current) return
    if (!this.quiet && this.tty) process.stderr.write(`\u001B[2K\r✖ ${this.current}\n`)
    this.current = undefined
  }
}
