/** Every timer of the smart licensing agent, in one place (seed: "Smart licensing timers"). */
export const EVALUATION_PERIOD_DAYS = 90
export const AUTHORIZATION_RENEWAL_INTERVAL_DAYS = 30
export const AUTHORIZATION_EXPIRY_DAYS = 90
export const REGISTRATION_RENEWAL_INTERVAL_MONTHS = 6
export const REGISTRATION_EXPIRY_MONTHS = 12
export const USAGE_REPORT_INTERVAL_MS = 6 * 60 * 60 * 1000
export const RETRY_INTERVAL_MS = 15 * 60 * 1000

/** The seed's message when a registration exchange cannot happen. */
export const REGISTRATION_TIMEOUT_MESSAGE =
  'The last attempt to renew smart software licensing registration is in progress because of the following reason: HTTP Server Error 200: Operation timed out.'

const DAY = 24 * 60 * 60 * 1000

export function plusDays(iso: string, days: number): Date {
  return new Date(Date.parse(iso) + days * DAY)
}

export function plusMonths(iso: string, months: number): Date {
  const d = new Date(iso)
  d.setUTCMonth(d.getUTCMonth() + months)
  return d
}
