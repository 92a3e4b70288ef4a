import {XwayError} from '../errors.js'
import {describeSystemError, type DescribedError, inWords} from './system-error.js'

// SPEC 6's error object for any error, without the CLI framework (the quick path of read-only
// commands uses it too).

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
