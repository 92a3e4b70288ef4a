import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {verifyPortalPassword} from '../../crypto/scrypt-password.js'
import type {LicenseStore, PortalSession} from '../store.js'

// Portal sessions: a random id in a cookie (HttpOnly, Secure, SameSite=Strict, Path=/portal/),
// only its SHA-256 in the database, so that every worker (and every copy of the folder on one
// PostgreSQL) knows every session. A session ends after IDLE_MS without a request or
// ABSOLUTE_MS after login, whichever comes first, and at logout. Each has its CSRF token.
// Failed logins are counted per user and per address; each attempt after failures waits
// loginDelayMs(n), doubling, never more than MAX_DELAY_MS.

export const SESSION_COOKIE = 'xway_portal'
export const LOGIN_COOKIE = 'xway_portal_login'
export const IDLE_MS = 30 * 60_000
export const ABSOLUTE_MS = 12 * 3_600_000
export const FAILURE_WINDOW_MS = 15 * 60_000
export const BASE_DELAY_MS = 250
export const MAX_DELAY_MS = 8_000

export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

export function sessionIdHash(id: string): string {
  return createHash('sha256').update(id).digest('hex')
}

/** Constant-time comparison of two tokens (a different length is simply unequal). */
export function sameToken(a: string | undefined | null, b: string | undefined | null): boolean {
  if (typeof a !== 'string' || typeof b !== 'string' || a.length === 0) return false
  const x = createHash('sha256').update(a).digest()
  const y = createHash('sha256').update(b).digest()
  return timingSafeEqual(x, y) && a.length === b.length
}

/** The wait before judging a login after `failures` recent failures: 0, then 250 ms doubling, at most 8 s. */
export function loginDelayMs(failures: number): number {
  if (failures <= 0) return 0
  return Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures - 1, 16))
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>()
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim())
  }
  return cookies
}

export function cookie(name: string, value: string, maxAgeS?: number): string {
  const age = maxAgeS === undefined ? '' : `; Max-Age=${maxAgeS}`
  return `${name}=${value}; HttpOnly; Secure; SameSite=Strict; Path=/portal/${age}`
}

/** Whether a session is still alive at `at`. */
export function sessionAlive(session: Pick<PortalSession, 'createdAt' | 'lastSeenAt'>, at: Date): boolean {
  const t = at.getTime()
  return t - Date.parse(session.lastSeenAt) < IDLE_MS && t - Date.parse(session.createdAt) < ABSOLUTE_MS
}

/** The session a cookie names, alive; a dead one is removed. */
export async function currentSession(store: LicenseStore, id: string | undefined, at: Date): Promise<(PortalSession & {idHash: string}) | null> {
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null
  const idHash = sessionIdHash(id)
  const session = await store.touchSession(idHash, at)
  if (!session) return null
  if (!sessionAlive(session, at)) {
    await store.deleteSession(idHash)
    return null
  }
  return {...session, idHash}
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// a hash to check a password against when the user does not exist, so that both take as long
let dummyHash: Promise<string> | undefined

export interface LoginResult {ok: boolean; sessionId?: string; waitedMs: number}

/** Judges a login (after the bounded wait its recent failures call for); on success, a new session. */
export async function login(store: LicenseStore, input: {name: string; password: string; address: string}, at: () => Date): Promise<LoginResult> {
  const name = input.name.trim().slice(0, 64)
  const keys = [`user:${name.toLowerCase()}`, `address:${input.address}`]
  const since = (): Date => new Date(at().getTime() - FAILURE_WINDOW_MS)
  const waitedMs = loginDelayMs(await store.loginFailures(keys, since()))
  if (waitedMs > 0) await sleep(waitedMs)
  const hash = await store.userPasswordHash(name)
  if (hash === null) {
    dummyHash ??= import('../../crypto/scrypt-password.js').then((m) => m.hashPortalPassword(randomToken()))
    await verifyPortalPassword(input.password, await dummyHash)
  }
  const ok = hash !== null && await verifyPortalPassword(input.password, hash)
  if (!ok) {
    await store.recordLoginFailure(keys, at(), since())
    return {ok: false, waitedMs}
  }
  // the user's count starts again; the address's stays (an account of one's own must not reset it)
  await store.clearLoginFailures([keys[0]!])
  const sessionId = randomToken()
  await store.expireSessions(new Date(at().getTime() - IDLE_MS), new Date(at().getTime() - ABSOLUTE_MS))
  await store.createSession(sessionIdHash(sessionId), name, randomToken(), at())
  return {ok: true, sessionId, waitedMs}
}
