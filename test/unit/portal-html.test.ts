import {test} from 'uvu'
import * as assert from 'uvu/assert'
import {escapeHtml, html, SafeHtml, unsafeRaw} from '../../src/server/portal/html.js'
import {instancesPage} from '../../src/server/portal/pages.js'
import {
  ABSOLUTE_MS, cookie, IDLE_MS, loginDelayMs, MAX_DELAY_MS, parseCookies, randomToken, sameToken, sessionAlive, sessionIdHash,
} from '../../src/server/portal/session.js'

test('html`` escapes every interpolation: text, attributes, quotes and ampersands', () => {
  const hostile = `<img src=x onerror="alert(1)"> & 'x'`
  const out = html`<td title="${hostile}">${hostile}</td>`.toString()
  assert.is(out, '<td title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;x&#39;">&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#39;x&#39;</td>')
  assert.not.match(out.slice(4), /<img/)
})

test('html`` nests without escaping twice, joins arrays item by item, writes nothing for null, undefined and false', () => {
  const rows = ['<a>', 'b&'].map((v) => html`<li>${v}</li>`)
  assert.is(html`<ul>${rows}</ul>`.toString(), '<ul><li>&lt;a&gt;</li><li>b&amp;</li></ul>')
  assert.is(html`[${null}${undefined}${false}${0}]`.toString(), '[0]')
  assert.is(html`${['<', html`<b>`]}`.toString(), '&lt;<b>')
})

test('only SafeHtml passes unescaped: a string that looks like HTML, or an object whose toString returns HTML, is escaped', () => {
  const fake = {toString: () => '<script>x</script>'}
  assert.is(html`${fake}`.toString(), '&lt;script&gt;x&lt;/script&gt;')
  assert.ok(html`x` instanceof SafeHtml)
  assert.is(html`${unsafeRaw('<hr>')}`.toString(), '<hr>')
  assert.is(escapeHtml(`"'<>&`), '&quot;&#39;&lt;&gt;&amp;')
})

test('session cookies are HttpOnly, Secure, SameSite=Strict, Path=/portal/', () => {
  assert.is(cookie('s', 'v'), 's=v; HttpOnly; Secure; SameSite=Strict; Path=/portal/')
  assert.is(cookie('s', '', 0), 's=; HttpOnly; Secure; SameSite=Strict; Path=/portal/; Max-Age=0')
  assert.equal([...parseCookies('a=1; b=2;c=3; a=4; junk').entries()], [['a', '1'], ['b', '2'], ['c', '3']])
})

test('session ids are random, stored as hashes; tokens compare in constant time, never equal when empty', () => {
  const a = randomToken()
  assert.match(a, /^[A-Za-z0-9_-]{43}$/)
  assert.is.not(a, randomToken())
  assert.match(sessionIdHash(a), /^[0-9a-f]{64}$/)
  assert.ok(sameToken(a, a))
  assert.not.ok(sameToken(a, a.slice(0, -1)))
  assert.not.ok(sameToken('', ''))
  assert.not.ok(sameToken(undefined, a))
  assert.not.ok(sameToken(a, null))
})

test('sessions expire when idle and absolutely', () => {
  const at = new Date('2026-06-01T12:00:00Z')
  const iso = (ms: number): string => new Date(at.getTime() - ms).toISOString()
  assert.ok(sessionAlive({createdAt: iso(60_000), lastSeenAt: iso(1000)}, at))
  assert.not.ok(sessionAlive({createdAt: iso(60_000), lastSeenAt: iso(IDLE_MS)}, at))
  assert.not.ok(sessionAlive({createdAt: iso(ABSOLUTE_MS), lastSeenAt: iso(1000)}, at))
})

test('failed logins slow the next attempts down, doubling, bounded', () => {
  assert.equal([0, 1, 2, 3, 4].map(loginDelayMs), [0, 250, 500, 1000, 2000])
  assert.is(loginDelayMs(50), MAX_DELAY_MS)
  assert.is(loginDelayMs(1e9), MAX_DELAY_MS)
})

test('Product Instances: an instance registered at an On-Prem says where, with no Remove; one registered here has Remove', () => {
  const base = {virtualAccount: 'lab', hostname: 'exp', registeredAt: '2026-01-01T00:00:00Z', ip: null, lastSeenAt: null, exportControlled: null,
    status: 'registered' as const, licenses: {rms: 0, room: 0, desktop: 0}, reservation: null}
  const frame = {user: 'admin', csrf: 'c', accounts: [{smartAccount: 'Acme', virtualAccount: 'lab'}], va: 'lab'}
  const text = String(instancesPage(frame, {instances: [
    {...base, udi: 'PID:X,SN:HERE', onPrem: null},
    {...base, udi: 'PID:X,SN:THERE', onPrem: 'ab'.repeat(32)},
  ], total: 2, page: 1}))
  const row = (udi: string) => text.slice(text.indexOf(`data-udi="${udi}"`), text.indexOf('</tr>', text.indexOf(`data-udi="${udi}"`)))
  assert.match(row('PID:X,SN:HERE'), /<button type="submit" class="danger">Remove<\/button>/)
  assert.not.match(row('PID:X,SN:THERE'), /Remove/)
  assert.match(row('PID:X,SN:THERE'), /At On-Prem abababababab…/)
})

test.run()
