import {LICENSE_TYPE_NAMES, LICENSE_TYPES, type LicenseType} from '../../licensing/license-types.js'
import type {EventView, InstanceView, PakView, PoolView, TokenView} from '../store.js'
import {html, type SafeHtml} from './html.js'

// The portal's pages, in the words of Cisco Smart Software Manager where it has them: an
// Inventory of virtual accounts, and per account the tabs General (tokens), Licenses,
// Product Instances, Event Log, License Reservation and PAK conversion. Pure functions of
// values: every interpolation goes through html`…` and is escaped.

export const PAGE_SIZE = 50

export type Tab = 'general' | 'licenses' | 'instances' | 'reservation' | 'pak' | 'events'

const TABS: Array<[Tab, string]> = [
  ['general', 'General'],
  ['licenses', 'Licenses'],
  ['instances', 'Product Instances'],
  ['events', 'Event Log'],
  ['reservation', 'License Reservation'],
  ['pak', 'PAK conversion'],
]

export interface Frame {
  user: string
  csrf: string
  accounts: {smartAccount: string; virtualAccount: string}[]
  va: string | null
  tab?: Tab
  notice?: string
  error?: string
  warning?: string
}

export function vaPath(va: string, tab: Tab): string {
  return `/portal/va/${encodeURIComponent(va)}/${tab}`
}

export function csrfField(csrf: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${csrf}">`
}

function shell(title: string, body: SafeHtml, head: SafeHtml = html``): SafeHtml {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} - Smart Software Licensing</title><link rel="stylesheet" href="/portal/static/portal.css">${head}</head>
<body>${body}</body></html>`
}

export function page(frame: Frame, title: string, content: SafeHtml): SafeHtml {
  const current = frame.accounts.find((a) => a.virtualAccount === frame.va)
  const header = html`<header>
  <div class="brand"><b>Smart Software</b> Licensing</div>
  <form class="inventory" method="get" action="/portal/inventory">
    <label for="va">Inventory: Virtual Account</label>
    <select id="va" name="va">${frame.accounts.map((a) => html`<option value="${a.virtualAccount}"${a.virtualAccount === frame.va ? html` selected` : ''}>${a.virtualAccount} (${a.smartAccount})</option>`)}</select>
    <button type="submit" class="secondary">Go</button>
  </form>
  <div class="spacer"></div>
  <span class="user">${frame.user}</span>
  <form method="post" action="/portal/logout">${csrfField(frame.csrf)}<button type="submit" class="secondary">Log Out</button></form>
</header>`
  const tabs = frame.va === null ? html`` : html`<nav class="tabs">${TABS.map(([tab, label]) =>
    html`<a href="${vaPath(frame.va!, tab)}"${tab === frame.tab ? html` class="active"` : ''}>${label}</a>`)}</nav>`
  const messages = html`${frame.warning ? html`<div class="warning" role="status">${frame.warning}</div>` : ''}${frame.notice ? html`<div class="notice" role="status">${frame.notice}</div>` : ''}${frame.error ? html`<div class="error" role="alert">${frame.error}</div>` : ''}`
  const heading = frame.va === null ? html`<h1>${title}</h1>` : html`<h1>${frame.va}<small>${current?.smartAccount ?? ''}</small></h1>`
  return shell(title, html`${header}<main>${heading}${tabs}${messages}<section>${content}</section></main>`, html`<script src="/portal/static/copy.js" defer></script>`)
}

export function loginPage(input: {csrf: string; error?: string; name?: string}): SafeHtml {
  return shell('Log In', html`<div class="login">
<h1>Smart Software Licensing</h1>
${input.error ? html`<div class="error" role="alert">${input.error}</div>` : ''}
<form class="stack" method="post" action="/portal/login">
  <input type="hidden" name="csrf" value="${input.csrf}">
  <label for="name">User name</label><input type="text" id="name" name="name" autocomplete="username" value="${input.name ?? ''}" required autofocus>
  <label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
  <div class="actions"><button type="submit">Log In</button></div>
</form></div>`)
}

export function inventoryPage(frame: Frame): SafeHtml {
  const rows = frame.accounts.map((a) => html`<tr><td><a href="${vaPath(a.virtualAccount, 'general')}">${a.virtualAccount}</a></td><td>${a.smartAccount}</td></tr>`)
  return page(frame, 'Inventory', html`<table><thead><tr><th>Virtual Account</th><th>Smart Account</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="2" class="muted">No virtual accounts: create one with xway license-server account create.</td></tr>`}</tbody></table>`)
}

function when(iso: string | null): string {
  return iso === null ? '-' : iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC').replace(/Z$/, ' UTC')
}

export function pager(base: string, page: number, total: number): SafeHtml {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE))
  const first = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1
  const last = Math.min(total, page * PAGE_SIZE)
  return html`<div class="pager"><span>Showing ${first}-${last} of ${total}</span>
${page > 1 ? html`<a href="${base}?page=${page - 1}" rel="prev">Previous</a>` : ''}
<span>Page ${page} of ${pages}</span>
${page < pages ? html`<a href="${base}?page=${page + 1}" rel="next">Next</a>` : ''}</div>`
}

export function licensesPage(frame: Frame, pool: PoolView): SafeHtml {
  const rows = pool.licenses.map((l) => html`<tr data-type="${l.type}"><td>${LICENSE_TYPE_NAMES[l.type]}</td><td class="num">${l.owned}</td><td class="num">${l.inUse}</td>
<td class="num">${l.reserved}</td><td class="num">${l.inTransit}</td><td class="num">${l.available}</td><td class="num">${l.shortage}</td></tr>`)
  return page(frame, 'Licenses', html`<table><thead><tr><th>License</th><th class="num">Purchased</th><th class="num">In Use</th><th class="num">Reserved</th>
<th class="num">In Transit</th><th class="num">Available to Use</th><th class="num">Shortage</th></tr></thead><tbody>${rows}</tbody></table>
<div class="actions"><a class="button" href="${vaPath(frame.va!, 'reservation')}">License Reservation...</a></div>`)
}

function instanceStatus(i: InstanceView): string {
  if (i.reservation) return `${i.reservation.kind} ${i.reservation.state === 'confirmed' ? 'reserved' : 'in transit'}`
  return {registered: 'Registered', authorized: 'Authorized', 'out-of-compliance': 'Out of Compliance', 'no-licenses-in-use': 'No Licenses in Use', reserved: 'Reserved'}[i.status] ?? i.status
}

export function instancesPage(frame: Frame, list: {instances: InstanceView[]; total: number; page: number}): SafeHtml {
  const rows = list.instances.map((i) => html`<tr data-udi="${i.udi}"><td>${i.hostname ?? '-'}</td><td class="mono">${i.udi}</td><td>${when(i.registeredAt)}</td>
<td>${when(i.lastSeenAt)}</td><td>${instanceStatus(i)}</td>
<td>${i.onPrem ? html`<span class="muted" title="${i.onPrem}">At On-Prem ${i.onPrem.slice(0, 12)}…</span>` : html`<form class="inline" method="post" action="${vaPath(frame.va!, 'instances')}/remove">${csrfField(frame.csrf)}<input type="hidden" name="udi" value="${i.udi}">
${i.reservation ? html`<input type="text" name="returnCode" placeholder="Reservation Return Code" aria-label="Reservation return code of ${i.udi}">` : ''}
<button type="submit" class="danger">Remove</button></form>`}</td></tr>`)
  const base = vaPath(frame.va!, 'instances')
  return page(frame, 'Product Instances', html`${pager(base, list.page, list.total)}
<table><thead><tr><th>Name</th><th>UDI</th><th>Registered</th><th>Last Contact</th><th>Status</th><th>Actions</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6" class="muted">No product instances.</td></tr>`}</tbody></table>`)
}

export function generalPage(frame: Frame, list: {tokens: TokenView[]; total: number; page: number}, options: {exportControlAllowed: boolean; created?: {token: string; expiresAt: string}}): SafeHtml {
  const now = Date.now()
  const rows = list.tokens.map((t) => {
    const state = t.revokedAt !== null ? html`<span class="status-revoked">Revoked</span>` : Date.parse(t.expiresAt) <= now ? html`<span class="status-expired">Expired</span>` : 'Active'
    return html`<tr data-token="${t.id}"><td class="mono">${t.id}</td><td>${t.description ?? ''}</td><td>${when(t.createdAt)}</td><td>${when(t.expiresAt)}</td>
<td class="num">${t.uses}${t.usesLeft === null ? '' : ` (${t.usesLeft} left)`}</td><td>${t.exportControlled ? 'Allowed' : 'Not Allowed'}</td><td>${state}</td>
<td>${t.revokedAt === null ? html`<form class="inline" method="post" action="${vaPath(frame.va!, 'general')}/revoke">${csrfField(frame.csrf)}<input type="hidden" name="id" value="${t.id}"><button type="submit" class="danger">Revoke</button></form>` : ''}</td></tr>`
  })
  const created = options.created ? html`<div class="notice" role="status"><p>New token (shown once; copy it now):</p>
<textarea id="new-token" readonly rows="2">${options.created.token}</textarea>
<div class="actions"><button type="button" data-copy="new-token">Copy</button><span class="muted">Expires ${when(options.created.expiresAt)}</span></div></div>` : ''
  const base = vaPath(frame.va!, 'general')
  return page(frame, 'General', html`${created}<h2>Product Instance Registration Tokens</h2>
${pager(base, list.page, list.total)}
<table><thead><tr><th>Token</th><th>Description</th><th>Created</th><th>Expiration Date</th><th class="num">Uses</th><th>Export-Controlled</th><th>Status</th><th>Actions</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8" class="muted">No tokens.</td></tr>`}</tbody></table>
<h2>New Token</h2>
<form class="stack" method="post" action="${base}/new">${csrfField(frame.csrf)}
<label for="description">Description</label><input type="text" id="description" name="description" maxlength="200" size="60">
<label for="days">Expire After (days)</label><input type="number" id="days" name="days" min="1" max="365" value="30" required>
<label for="uses">Max. Number of Uses</label><input type="number" id="uses" name="uses" min="1" placeholder="unlimited">
${options.exportControlAllowed ? html`<label class="check"><input type="checkbox" name="exportControlled" value="1" checked> Allow export-controlled functionality on the products registered with this token</label>` : ''}
<div class="actions"><button type="submit">Create Token</button></div></form>`)
}

export function reservationPage(frame: Frame, result?: {authorizationCode: string; udi: string; kind: string}, input?: {requestCode?: string; counts?: Partial<Record<LicenseType, string>>; plr?: boolean}): SafeHtml {
  const base = vaPath(frame.va!, 'reservation')
  const quantities = LICENSE_TYPES.map((type) => html`<tr><td>${LICENSE_TYPE_NAMES[type]}</td>
<td><input type="number" name="qty-${type}" min="0" value="${input?.counts?.[type] ?? '0'}" aria-label="Quantity to Reserve of ${LICENSE_TYPE_NAMES[type]}"></td></tr>`)
  const code = result ? html`<h2>Authorization Code</h2><p>For ${result.udi} (${result.kind}). Enter it on the product instance.</p>
<textarea id="authorization-code" readonly>${result.authorizationCode}</textarea>
<div class="actions"><button type="button" data-copy="authorization-code">Copy</button>
<form class="inline" method="post" action="${base}/download">${csrfField(frame.csrf)}<input type="hidden" name="code" value="${result.authorizationCode}"><input type="hidden" name="udi" value="${result.udi}"><button type="submit" class="secondary">Download as File</button></form></div>` : ''
  return page(frame, 'License Reservation', html`${code}<h2>Smart License Reservation</h2>
<form class="stack" method="post" action="${base}">${csrfField(frame.csrf)}
<label for="request-code">Reservation Request Code</label><textarea id="request-code" name="requestCode" rows="3" required>${input?.requestCode ?? ''}</textarea>
<label class="check"><input type="radio" name="kind" value="slr"${input?.plr ? '' : html` checked`}> Reserve a specific license</label>
<label class="check"><input type="radio" name="kind" value="plr"${input?.plr ? html` checked` : ''}> Reserve a permanent license (PLR)</label>
<table><thead><tr><th>License</th><th>Quantity to Reserve</th></tr></thead><tbody>${quantities}</tbody></table>
<div class="actions"><button type="submit">Generate Authorization Code</button></div></form>`)
}

const EVENT_TEXT: Record<string, string> = {
  'account-created': 'Virtual account created', 'licenses-added': 'Licenses added', 'token-created': 'Token created', 'token-revoked': 'Token revoked',
  registered: 'Product instance registered', reregistered: 'Product instance reregistered', authorization: 'Authorization renewed',
  'registration-renewed': 'Registration renewed', deregistered: 'Product instance deregistered', 'instance-removed': 'Product instance removed',
  'reservation-returned': 'Reservation returned', 'reservation-authorized': 'Reservation authorized', 'reservation-updated': 'Reservation updated',
  'reservation-confirmed': 'Reservation confirmed', 'portal-user-added': 'Portal user added',
  'pak-added': 'PAK added', 'pak-converted': 'PAK converted', 'pak-forfeited': 'PAK licenses forfeited',
}

export function eventsPage(frame: Frame, list: {events: EventView[]; total: number; page: number}): SafeHtml {
  const rows = list.events.map((e) => html`<tr><td>${EVENT_TEXT[e.kind] ?? e.kind}</td><td>${when(e.at)}</td><td class="mono">${e.udi ?? ''}</td><td class="mono">${e.detail === null || e.detail === undefined ? '' : JSON.stringify(e.detail)}</td></tr>`)
  const base = vaPath(frame.va!, 'events')
  return page(frame, 'Event Log', html`${pager(base, list.page, list.total)}
<table><thead><tr><th>Message</th><th>Time</th><th>Product Instance</th><th>Detail</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="4" class="muted">No events.</td></tr>`}</tbody></table>`)
}

export function pakPage(frame: Frame, list: {paks: PakView[]; total: number; page: number}): SafeHtml {
  const base = vaPath(frame.va!, 'pak')
  const rows = list.paks.map((p) => html`<tr data-pak="${p.pak}"><td class="mono nowrap">${p.pak}</td><td>${LICENSE_TYPE_NAMES[p.type]}</td><td class="num">${p.count}</td>
<td class="num">${p.converted}</td><td class="num">${p.forfeited}</td><td class="num">${p.available}</td><td class="nowrap">${when(p.convertedAt)}</td>
<td>${p.available > 0 ? html`<form class="inline" method="post" action="${base}/convert">${csrfField(frame.csrf)}<input type="hidden" name="pak" value="${p.pak}">
<input type="number" name="quantity" min="1" max="${p.available}" placeholder="all ${p.available}" aria-label="Quantity to convert of ${p.pak}">
<label class="check"><input type="checkbox" name="forfeitRemaining" value="1"> forfeit the rest</label>
<button type="submit" class="nowrap">Convert</button></form>` : ''}</td></tr>`)
  return page(frame, 'PAK conversion', html`<p class="muted">Classic (PAK) licenses of this virtual account, converted into smart licenses of its pool. Converting only some forfeits the rest (Cisco's known issue): tick the box to agree.</p>
${pager(base, list.page, list.total)}
<table><thead><tr><th>PAK</th><th>License</th><th class="num">Quantity</th><th class="num">Converted</th><th class="num">Forfeited</th><th class="num">Available</th><th>Converted At</th><th>Actions</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="8" class="muted">No PAKs: record one with xway license-server pak add.</td></tr>`}</tbody></table>`)
}
