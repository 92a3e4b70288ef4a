/** The command argv names and how to start it (bin/fast-path.js). */
export interface FastCommand {
  /** oclif's id, topics joined with ":" */
  id: string
  /** the compiled command module */
  file: string
  /** its bundle, when the build made one for this manifest */
  bundle?: string
  /** the arguments after the command id */
  argv: string[]
}
export const root: string
export function fastCommand(argv: string[], manifest?: unknown): FastCommand | undefined
export function runFast(command: FastCommand): Promise<void>
