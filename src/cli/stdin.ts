import {UsageError} from '../errors.js'

/** An authorization code from the argument, or from stdin when it is "-" or absent and stdin is piped. */
export async function codeArgument(code: string | undefined): Promise<string> {
  if (code !== undefined && code !== '-') return code
  if (process.stdin.isTTY) throw new UsageError('Give the authorization code as an argument (in double quotes), or pipe it on stdin.')
  let text = ''
  for await (const chunk of process.stdin) {
    text += chunk
    if (text.length > 1024 * 1024) throw new UsageError('The authorization code on stdin is larger than 1 MiB.')
  }
  if (text.trim() === '') throw new UsageError('No authorization code: give it as an argument (in double quotes), or pipe it on stdin.')
  return text
}
