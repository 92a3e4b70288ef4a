import {UsageError} from './errors.js'

/**
 * Every command reads the clock from XWAY_NOW (ISO 8601) when set, else the system clock:
 * this is how labs and tests move a unit through its 30-day, 90-day, 6-month and 1-year timers.
 */
export function now(env: NodeJS.ProcessEnv = process.env): Date {
  const value = env.XWAY_NOW
  if (value === undefined || value === '') return new Date()
  const date = new Date(value)
  if (Number.isNaN(date.getTime())) {
    throw new UsageError(`XWAY_NOW is not an ISO 8601 date: ${JSON.stringify(value)}`, {
      actions: ['Set XWAY_NOW like 2026-01-31T12:00:00Z, or unset it to use the system clock.'],
    })
  }
  return date
}

export const DAY_MS = 24 * 60 * 60 * 1000

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS)
}

export function iso(date: Date): string {
  return date.toISOString()
}
