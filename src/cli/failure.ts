import {errorFor, XwayError} from '../errors.js'

/**
 * A failed command's error with the result it would have printed as `data`, so that `--json`
 * gives scripts one shape for every failure: `{"error":{code, message, actions, data}}`. Errors
 * that already carry data keep it; usage errors and a busy unit get none (there is no result to
 * speak of), nor does an error after which the result cannot be read.
 */
export async function withResult(error: unknown, result: () => unknown): Promise<unknown> {
  if (!(error instanceof XwayError) || error.data !== undefined || error.code === 'usage' || error.code === 'busy') return error
  let data: unknown
  try {
    data = await result()
  } catch {
    return error
  }
  return errorFor(error.code, error.message, {actions: error.actions, cause: error, data})
}
