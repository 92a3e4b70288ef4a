import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {isIP} from 'node:net'
import {UsageError, XwayError} from '../errors.js'
import {readSecretFile, type SecretFile} from './secret-file.js'

/**
 * The flag and argument types shared by the commands. Each checks its value while oclif parses,
 * so that a bad value is a usage error (exit 2) before anything is read or written, named after
 * its flag, whatever command it belongs to. Secret files are read here too (exit 4 when they
 * cannot be), once, by one reader.
 */

export type {SecretFile} from './secret-file.js'

/** The flag as the user typed it, for messages. */
function nameOf(definition: {name?: string; char?: string}): string {
  return definition.name ? `--${definition.name}` : definition.char ? `-${definition.char}` : 'the flag'
}

/** A library's check of a value, its refusal turned into a usage error of the flag (exit 2). */
async function asUsage<T>(check: () => T | Promise<T>): Promise<T> {
  try {
    return await check()
  } catch (error) {
    if (error instanceof XwayError && error.code === 'bad-input') throw new UsageError(error.message, {actions: error.actions})
    throw error
  }
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

const unitArgument = Args.custom<string>({
  async parse(input) {
    if (input.trim() === '') throw new UsageError('UNIT is empty: give the path of the unit.')
    return input
  },
})

/** UNIT: the path of a unit, first argument of every command that acts on one (required). */
export function unitArg(description = 'path of the unit') {
  return unitArgument({required: true, description})
}

// ---------------------------------------------------------------------------
// Numbers and times
// ---------------------------------------------------------------------------

/** A count: a non-negative integer, written in decimal digits only (no sign, no exponent), within min and max. */
export const count = Flags.custom<number, {min?: number; max?: number}>({
  helpValue: 'N',
  async parse(input, _context, options) {
    const min = options.min ?? 0
    const max = options.max ?? Number.MAX_SAFE_INTEGER
    const n = /^\d{1,16}$/.test(input.trim()) ? Number(input.trim()) : Number.NaN
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`${nameOf(options)} ${JSON.stringify(input)} is not a count from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}.`, {
        actions: [`Give a whole number${min > 0 ? ` of at least ${min}` : ''}, like ${options.name === 'concurrency' ? '4' : min > 0 ? String(min) : '0'}.`],
      })
    }
    return n
  },
})

const DURATION_UNITS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000}
const DURATION_RE = /^\s*(\d{1,7})\s*([smhdw]?)\s*$/

/** `30d`, `12h`, `15m`, `45s`, `2w` in milliseconds; a bare number is days. Undefined when it is none of these. */
export function durationMs(text: string): number | undefined {
  const m = DURATION_RE.exec(text)
  return m ? Number(m[1]) * DURATION_UNITS[m[2] || 'd']! : undefined
}

/** A duration (`30d`, `12h`, `15m` …) within min and max (both durations); the value is the text as given. */
export const duration = Flags.custom<string, {min?: string; max?: string}>({
  helpValue: 'DURATION',
  async parse(input, _context, options) {
    const ms = durationMs(input)
    const min = options.min ?? '1s'
    if (ms === undefined) {
      throw new UsageError(`${nameOf(options)} ${JSON.stringify(input)} is not a duration: use a number and a unit (s, m, h, d, w), like 30d, 12h, 15m.`)
    }
    if (ms < durationMs(min)! || (options.max !== undefined && ms > durationMs(options.max)!)) {
      throw new UsageError(`${nameOf(options)} ${input} is out of range: from ${min}${options.max ? ` to ${options.max}` : ' up'}.`)
    }
    return input.trim()
  },
})

// ---------------------------------------------------------------------------
// Network
// ---------------------------------------------------------------------------

/** An IPv4 or IPv6 address. */
export const ipAddress = Flags.custom<string>({
  helpValue: 'IP',
  async parse(input, _context, options) {
    if (isIP(input) === 0) throw new UsageError(`${nameOf(options)} ${JSON.stringify(input)} is not an IP address, like 192.0.2.1.`)
    return input
  },
})

/** An address with its prefix length (CIDR), like 192.0.2.10/24. */
export const cidr = Flags.custom<string>({
  helpValue: 'CIDR',
  async parse(input, _context, options) {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(input)
    const family = m ? isIP(m[1]!) : 0
    if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
      throw new UsageError(`${nameOf(options)} ${JSON.stringify(input)} is not an address with prefix length (CIDR), like 192.0.2.10/24.`)
    }
    return input
  },
})

const LABEL = '(?!-)[A-Za-z0-9-]{1,63}(?<!-)'

/** A host name: one label of letters, digits and hyphens. */
export const hostname = Flags.custom<string>({
  helpValue: 'NAME',
  async parse(input, _context, options) {
    if (!new RegExp(`^${LABEL}$`).test(input)) {
      throw new UsageError(`${nameOf(options)} ${JSON.stringify(input)} is not a host name: letters, digits and hyphens, at most 63, not starting or ending with a hyphen.`)
    }
    return input
  },
})

/** A domain name (empty clears it). */
export const domainName = Flags.custom<string>({
  helpValue: 'DOMAIN',
  async parse(input, _context, options) {
    if (input !== '' && !new RegExp(`^(?=.{1,253}$)(${LABEL}\\.)*${LABEL}$`).test(input)) {
      throw new UsageError(`${nameOf(options)} ${JSON.stringify(input)} is not a domain name, like lab.example.`)
    }
    return input
  },
})

/** A proxy `HOST:PORT` (IPv4 address or FQDN, or [IPv6]), by the licensing transport's rule; the value is the text as given. */
export const proxyAddress = Flags.custom<string>({
  helpValue: 'HOST:PORT',
  async parse(input) {
    const {parseProxyAddress} = await import('../agent/transport.js')
    await asUsage(() => parseProxyAddress(input))
    return input
  },
})

/** An On-Prem Smart Transport URL (https://HOST[:PORT]/SmartTransport), by the licensing transport's rule. */
export const onPremUrl = Flags.custom<string>({
  helpValue: 'URL',
  async parse(input) {
    const {checkOnPremUrl} = await import('../agent/transport.js')
    await asUsage(() => checkOnPremUrl(input))
    return input
  },
})

// ---------------------------------------------------------------------------
// Secrets
// ---------------------------------------------------------------------------

/**
 * A file whose first line is a secret (password, proxy password, registration token): read once
 * while parsing by the one reader of secret files. Unreadable, oversized or empty: exit 4.
 */
export const secretFile = Flags.custom<SecretFile>({
  helpValue: 'FILE',
  async parse(input, _context, options) {
    return readSecretFile(input, nameOf(options))
  },
})
