// The portal's static files: one style sheet and one small script (the copy buttons), served
// from /portal/static/ so that the Content-Security-Policy allows no inline script or style.

export const PORTAL_CSS = `
:root { --blue: #049fd9; --navy: #1e4471; --line: #dfdfdf; --muted: #6b6b6b; --bg: #f2f2f2; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 "Helvetica Neue", Helvetica, Arial, sans-serif; color: #39393b; background: var(--bg); }
header { background: var(--navy); color: #fff; padding: 10px 24px; display: flex; align-items: center; gap: 24px; }
header .brand { font-size: 18px; font-weight: 300; letter-spacing: .02em; }
header .brand b { font-weight: 600; }
header form { margin: 0; }
header .spacer { flex: 1; }
header .user { font-size: 13px; opacity: .85; }
header button, header select { font: inherit; }
header .inventory label { margin-right: 6px; font-size: 13px; }
main { max-width: 1180px; margin: 20px auto; background: #fff; border: 1px solid var(--line); padding: 0 0 20px; }
h1 { font-size: 20px; font-weight: 400; margin: 0; padding: 18px 24px 6px; }
h1 small { color: var(--muted); font-size: 14px; margin-left: 8px; }
h2 { font-size: 16px; font-weight: 500; margin: 22px 0 8px; }
nav.tabs { display: flex; gap: 0; border-bottom: 1px solid var(--line); padding: 0 24px; }
nav.tabs a { padding: 10px 16px; color: #39393b; text-decoration: none; border-bottom: 3px solid transparent; }
nav.tabs a.active { border-bottom-color: var(--blue); color: var(--navy); font-weight: 600; }
section { padding: 4px 24px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f7f7f7; font-weight: 600; font-size: 13px; color: #58585b; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono, .mono { font-family: Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
tr:hover td { background: #fafcfe; }
button, .button { background: var(--blue); color: #fff; border: 0; border-radius: 3px; padding: 6px 14px; font: inherit; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: #fff; color: var(--navy); border: 1px solid #b6b6b6; }
button.danger { background: #cf2030; }
input[type=text], input[type=password], input[type=number], textarea, select { font: inherit; padding: 5px 8px; border: 1px solid #b6b6b6; border-radius: 3px; }
textarea { width: 100%; min-height: 120px; font-family: Menlo, Consolas, monospace; font-size: 12px; }
form.inline { display: inline-flex; gap: 6px; align-items: center; margin: 0; }
form.stack label { display: block; margin: 10px 0 4px; font-weight: 500; }
form.stack .check { font-weight: 400; display: flex; gap: 8px; align-items: center; }
.notice { margin: 12px 24px; padding: 10px 14px; border-left: 4px solid var(--blue); background: #eef8fd; }
.error { margin: 12px 24px; padding: 10px 14px; border-left: 4px solid #cf2030; background: #fdf0f1; }
.warning { margin: 12px 24px; padding: 10px 14px; border-left: 4px solid #fbab18; background: #fff8e8; }
.muted { color: var(--muted); }
.pager { display: flex; gap: 12px; align-items: center; margin: 10px 0; color: var(--muted); }
.pager a { color: var(--blue); }
.login { max-width: 380px; margin: 80px auto; background: #fff; border: 1px solid var(--line); padding: 24px 28px; }
.login h1 { padding: 0 0 12px; }
.login input { width: 100%; }
.actions { display: flex; gap: 8px; margin: 8px 0; }
.status-revoked, .status-expired { color: #cf2030; }
td.nowrap { white-space: nowrap; word-break: normal; }
form.inline input[type=number] { width: 110px; }
form.inline .check { display: inline-flex; gap: 4px; align-items: center; white-space: nowrap; }
`

export const COPY_JS = `'use strict';
document.addEventListener('click', function (event) {
  var button = event.target.closest('[data-copy]');
  if (!button) return;
  var source = document.getElementById(button.getAttribute('data-copy'));
  if (!source) return;
  var text = source.value !== undefined ? source.value : source.textContent;
  var done = function () { button.textContent = 'Copied'; setTimeout(function () { button.textContent = 'Copy'; }, 1500); };
  if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, function () { source.select(); });
  else { source.select(); document.execCommand('copy'); done(); }
});
`
