import type {IncomingMessage, ServerResponse} from 'node:http'
import {now} from '../../clock.js'
import {BadInputError, RefusedError, UsageError, XwayError} from '../../errors.js'
import {LICENSE_TYPES} from '../../licensing/license-types.js'
import {
  accounts as accountViews, events, serverStatus, syncWarning, instancePage, instances, instancesRemove, pakConvert, pakPage as pakList, paks, pool, reservationAuthorize, tokenCreate, tokenList, tokenPage, tokenRevoke, virtualAccounts, type AdminTarget,
} from '../admin.js'
import type {LicenseStore} from '../store.js'
import {COPY_JS, PORTAL_CSS} from './assets.js'
import type {SafeHtml} from './html.js'
import {
  eventsPage, generalPage, instancesPage, inventoryPage, licensesPage, loginPage, PAGE_SIZE, pakPage, reservationPage, vaPath, type Frame, type Tab,
} from './pages.js'
import {cookie, currentSession, LOGIN_COOKIE, login, parseCookies, randomToken, sameToken, SESSION_COOKIE} from './session.js'

// The portal: https://HOST:PORT/portal/, served by the license server's own process(es). Every
// page needs a session; every POST its session's CSRF token (403 without). Every action is the
// admin function its CLI command calls, on the server's store: a change by the CLI shows on
// the next page load, and the other way round. Pages are HTML built by html`…` (escaped),
// styled and scripted only from /portal/static/ (CSP: no inline script or style).

export const PORTAL_PATH = '/portal/'
const MAX_FORM_BYTES = 64 * 1024

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
}

export interface PortalContext {
  dir: string
  store: LicenseStore
}

class HttpStatus extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string | string[]> = {}): void {
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
  res.writeHead(status, {...SECURITY_HEADERS, 'content-type': type, 'content-length': data.length, ...headers})
  res.end(data)
}

function sendPage(res: ServerResponse, status: number, page: SafeHtml, headers: Record<string, string | string[]> = {}): void {
  send(res, status, 'text/html; charset=utf-8', page.toString(), headers)
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, {...SECURITY_HEADERS, location, 'content-length': 0, ...headers})
  res.end()
}

function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume()
      reject(new HttpStatus(415, 'Forms are sent as application/x-www-form-urlencoded.'))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_FORM_BYTES) {
        reject(new HttpStatus(413, 'The form is too large.'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))))
    req.on('error', reject)
  })
}

function pageNumber(url: URL): number {
  const n = Number(url.searchParams.get('page') ?? '1')
  return Number.isSafeInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1
}

function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown'
}

function errorText(err: unknown): string {
  if (err instanceof XwayError) return [err.message, ...err.actions].join(' ')
  return 'The request failed.'
}

function statusOf(err: unknown): number {
  if (err instanceof RefusedError) return 409
  if (err instanceof BadInputError || err instanceof UsageError) return 400
  return 500
}

/** Whether a request is the portal's. */
export function isPortalPath(path: string): boolean {
  return path === '/portal' || path.startsWith(PORTAL_PATH)
}

export async function handlePortal(ctx: PortalContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    await route(ctx, req, res)
  } catch (err) {
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (err instanceof HttpStatus) {
      send(res, err.status, 'text/plain; charset=utf-8', `${err.message}\n`)
      return
    }
    if (process.env.XWAY_DEBUG === '1') process.stderr.write(`portal: ${(err as Error)?.stack ?? String(err)}\n`)
    send(res, 500, 'text/plain; charset=utf-8', 'The portal could not answer this request.\n')
  }
}

async function route(ctx: PortalContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://portal.invalid')
  const path = url.pathname
  const method = req.method ?? 'GET'
  if (path === '/portal') return redirect(res, PORTAL_PATH)
  if (path === '/portal/static/portal.css' || path === '/portal/static/copy.js') {
    if (method !== 'GET' && method !== 'HEAD') throw new HttpStatus(405, 'GET only.')
    const css = path.endsWith('.css')
    // static files may be cached (they change only with xway); pages never are
    return send(res, 200, css ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8', css ? PORTAL_CSS : COPY_JS, {'cache-control': 'public, max-age=3600'})
  }
  const cookies = parseCookies(req.headers.cookie)
  const target: AdminTarget = {dir: ctx.dir, store: ctx.store}

  if (path === '/portal/login') {
    if (method === 'GET') {
      const token = randomToken()
      return sendPage(res, 200, loginPage({csrf: token}), {'set-cookie': cookie(LOGIN_COOKIE, token, 3600)})
    }
    if (method !== 'POST') throw new HttpStatus(405, 'GET or POST only.')
    const form = await readForm(req)
    // before a session exists, the login form's token is the one its cookie carries
    if (!sameToken(form.get('csrf'), cookies.get(LOGIN_COOKIE))) throw new HttpStatus(403, 'The form has no valid CSRF token: reload the login page.')
    const name = form.get('name') ?? ''
    const result = await login(ctx.store, {name, password: form.get('password') ?? '', address: clientAddress(req)}, now)
    if (!result.ok) {
      const token = randomToken()
      return sendPage(res, 401, loginPage({csrf: token, error: 'Wrong user name or password.', name}), {'set-cookie': cookie(LOGIN_COOKIE, token, 3600)})
    }
    return redirect(res, PORTAL_PATH, {'set-cookie': [cookie(SESSION_COOKIE, result.sessionId!), cookie(LOGIN_COOKIE, '', 0)]})
  }

  const session = await currentSession(ctx.store, cookies.get(SESSION_COOKIE), now())
  if (!session) {
    if (method === 'POST') {
      req.resume()
      throw new HttpStatus(403, 'Not logged in (or the session expired): log in again.')
    }
    return redirect(res, '/portal/login')
  }

  let form: URLSearchParams | null = null
  if (method === 'POST') {
    form = await readForm(req)
    if (!sameToken(form.get('csrf'), session.csrf)) throw new HttpStatus(403, 'The form has no valid CSRF token: reload the page and try again.')
  } else if (method !== 'GET' && method !== 'HEAD') {
    throw new HttpStatus(405, 'GET or POST only.')
  }

  if (path === '/portal/logout') {
    if (!form) throw new HttpStatus(405, 'Log out with POST.')
    await ctx.store.deleteSession(session.idHash)
    return redirect(res, '/portal/login', {'set-cookie': cookie(SESSION_COOKIE, '', 0)})
  }

  const {virtualAccounts: accounts} = await virtualAccounts(target)
  const warning = syncWarning(await serverStatus(target)) ?? undefined
  const frame = (va: string | null, tab?: Tab): Frame => ({user: session.user, csrf: session.csrf, accounts, va, tab, warning})

  if (path === PORTAL_PATH) {
    if (accounts.length === 1) return redirect(res, vaPath(accounts[0]!.virtualAccount, 'general'))
    return sendPage(res, 200, inventoryPage(frame(null)))
  }
  if (path === '/portal/inventory') {
    const va = url.searchParams.get('va')
    if (va && accounts.some((a) => a.virtualAccount === va)) return redirect(res, vaPath(va, 'general'))
    return redirect(res, PORTAL_PATH)
  }

  const match = /^\/portal\/va\/([^/]+)\/([a-z]+)(?:\/([a-z]+))?$/.exec(path)
  if (!match) throw new HttpStatus(404, 'No such page.')
  let va: string
  try {
    va = decodeURIComponent(match[1]!)
  } catch {
    throw new HttpStatus(404, 'No such page.')
  }
  if (!accounts.some((a) => a.virtualAccount === va)) throw new HttpStatus(404, 'No such virtual account.')
  const tab = match[2] as Tab
  const action = match[3] ?? null
  const key = `${tab}${action ? '/' + action : ''}:${form ? 'POST' : 'GET'}`
  const exportControlAllowed = (await accountViews(target, {virtualAccount: va})).accounts[0]?.exportControl ?? false

  const renderGeneral = async (status: number, extra: Partial<Frame> = {}, created?: {token: string; expiresAt: string}): Promise<void> => {
    const page = created ? 1 : pageNumber(url)
    const {tokens, total} = await tokenPage(target, {virtualAccount: va, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE})
    sendPage(res, status, generalPage({...frame(va, 'general'), ...extra}, {tokens, total, page}, {exportControlAllowed, created}))
  }
  const renderInstances = async (status: number, extra: Partial<Frame> = {}): Promise<void> => {
    const page = pageNumber(url)
    const {instances: list, total} = await instancePage(target, {virtualAccount: va, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE})
    sendPage(res, status, instancesPage({...frame(va, 'instances'), ...extra}, {instances: list, total, page}))
  }

  const renderPaks = async (status: number, extra: Partial<Frame> = {}): Promise<void> => {
    const page = pageNumber(url)
    const {paks: list, total} = await pakList(target, {virtualAccount: va, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE})
    sendPage(res, status, pakPage({...frame(va, 'pak'), ...extra}, {paks: list, total, page}))
  }

  switch (key) {
    case 'general:GET': return renderGeneral(200, {notice: url.searchParams.get('revoked') ? 'Token revoked.' : undefined})
    case 'general/new:POST': {
      const days = Number(form!.get('days') ?? '30')
      const usesText = (form!.get('uses') ?? '').trim()
      try {
        if (!Number.isSafeInteger(days) || days < 1 || days > 365) throw new BadInputError('Expire After is a number of days from 1 to 365.')
        const uses = usesText === '' ? undefined : Number(usesText)
        if (uses !== undefined && (!Number.isSafeInteger(uses) || uses < 1)) throw new BadInputError('Max. Number of Uses is a whole number from 1, or empty for unlimited.')
        const created = await tokenCreate(target, {
          virtualAccount: va, expiresIn: `${days}d`, uses, exportControlled: exportControlAllowed && form!.get('exportControlled') === '1',
          description: form!.get('description') ?? undefined,
        })
        return renderGeneral(200, {}, created)
      } catch (err) {
        if (!(err instanceof XwayError)) throw err
        return renderGeneral(statusOf(err), {error: errorText(err)})
      }
    }
    case 'general/revoke:POST': {
      try {
        const id = form!.get('id') ?? ''
        const {tokens} = await tokenList(target, {virtualAccount: va})
        if (!tokens.some((t) => t.id === id)) throw new BadInputError('No such token in this virtual account.')
        await tokenRevoke(target, {id})
        return redirect(res, `${vaPath(va, 'general')}?revoked=1`)
      } catch (err) {
        if (!(err instanceof XwayError)) throw err
        return renderGeneral(statusOf(err), {error: errorText(err)})
      }
    }
    case 'licenses:GET': return sendPage(res, 200, licensesPage(frame(va, 'licenses'), await pool(target, {virtualAccount: va})))
    case 'instances:GET': return renderInstances(200, {notice: url.searchParams.get('removed') ? 'Product instance removed.' : undefined})
    case 'instances/remove:POST': {
      try {
        const udi = form!.get('udi') ?? ''
        const list = (await instances(target, {virtualAccount: va})).instances
        if (!list.some((i) => i.udi === udi)) throw new BadInputError('No such product instance in this virtual account.')
        const code = (form!.get('returnCode') ?? '').trim()
        await instancesRemove(target, udi, code === '' ? undefined : code)
        return redirect(res, `${vaPath(va, 'instances')}?removed=1`)
      } catch (err) {
        if (!(err instanceof XwayError)) throw err
        return renderInstances(statusOf(err), {error: errorText(err)})
      }
    }
    case 'reservation:GET': return sendPage(res, 200, reservationPage(frame(va, 'reservation')))
    case 'reservation:POST': {
      const requestCode = (form!.get('requestCode') ?? '').trim()
      const plr = form!.get('kind') === 'plr'
      const counts = Object.fromEntries(LICENSE_TYPES.map((t) => [t, (form!.get(`qty-${t}`) ?? '0').trim() || '0']))
      try {
        const result = await reservationAuthorize(target, {
          virtualAccount: va, requestCode, plr, licenses: plr ? undefined : LICENSE_TYPES.filter((t) => counts[t] !== '0').map((t) => `${t}=${counts[t]}`),
        })
        return sendPage(res, 200, reservationPage({...frame(va, 'reservation'), notice: `Authorization code generated for ${result.udi}.`}, result, {requestCode, counts, plr}))
      } catch (err) {
        if (!(err instanceof XwayError)) throw err
        return sendPage(res, statusOf(err), reservationPage({...frame(va, 'reservation'), error: errorText(err)}, undefined, {requestCode, counts, plr}))
      }
    }
    case 'reservation/download:POST': {
      const code = form!.get('code') ?? ''
      const udi = (form!.get('udi') ?? 'reservation').replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 80)
      return send(res, 200, 'application/xml; charset=utf-8', code, {'content-disposition': `attachment; filename="authorization-code-${udi}.xml"`})
    }
    case 'events:GET': {
      const page = pageNumber(url)
      const log = await events(target, {virtualAccount: va, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE})
      return sendPage(res, 200, eventsPage(frame(va, 'events'), {...log, page}))
    }
    case 'pak:GET': return renderPaks(200, {notice: url.searchParams.get('converted') ? 'PAK converted into smart licenses.' : undefined})
    case 'pak/convert:POST': {
      try {
        const pak = form!.get('pak') ?? ''
        const {paks: list} = await paks(target, {virtualAccount: va})
        if (!list.some((p) => p.pak === pak)) throw new BadInputError('No such PAK in this virtual account.')
        const qtyText = (form!.get('quantity') ?? '').trim()
        const quantity = qtyText === '' ? undefined : Number(qtyText)
        if (quantity !== undefined && (!Number.isSafeInteger(quantity) || quantity < 1)) throw new BadInputError('The quantity to convert is a whole number from 1, or empty for all.')
        await pakConvert(target, {pak, quantity, forfeitRemaining: form!.get('forfeitRemaining') === '1'})
        return redirect(res, `${vaPath(va, 'pak')}?converted=1`)
      } catch (err) {
        if (!(err instanceof XwayError)) throw err
        return renderPaks(statusOf(err), {error: errorText(err)})
      }
    }
    default: throw new HttpStatus(form ? 405 : 404, 'No such page.')
  }
}
