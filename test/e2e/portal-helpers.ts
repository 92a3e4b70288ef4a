// Helpers of the portal's browser tests (portal.test.ts on SQLite, portal-postgres.test.ts on
// PostgreSQL): Debian's chromium driven by playwright-core, and the login form filled in as a
// user does. A test file is never imported by another (uvu would run its tests there too):
// what both share lives here.
import {chromium, type Browser, type Page} from 'playwright-core'

export const CHROMIUM_PATH = '/usr/bin/chromium'

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']

export function launchChromium(): Promise<Browser> {
  return chromium.launch({executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS})
}

/** Opens `${base}/portal/` (the login page without a session) and logs in; resolves after the navigation the form makes. */
export async function logIn(p: Page, base: string, name: string, password: string): Promise<void> {
  await p.goto(`${base}/portal/`)
  await p.fill('#name', name)
  await p.fill('#password', password)
  await Promise.all([p.waitForNavigation(), p.click('button:has-text("Log In")')])
}

/** Fills in New Token on General (export control unticked) and creates it; resolves with the token the page shows once (the page is on General already). */
export async function createTokenByClicking(p: Page, input: {description: string; days: number; uses: number}): Promise<string> {
  await p.fill('#description', input.description)
  await p.fill('#days', String(input.days))
  await p.fill('#uses', String(input.uses))
  await p.uncheck('input[name=exportControlled]')
  await Promise.all([p.waitForNavigation(), p.click('button:has-text("Create Token")')])
  return p.inputValue('#new-token')
}
