// The console's pages: one frame (menu, language links, the one hashed stylesheet) and a body per
// page. Plain HTML forms, no JavaScript, every value escaped by Eta (node/core/html-templates.ts);
// every word from the catalogue (node/core/i18n/console.*.ts).
import { createHash } from 'node:crypto'
import type { PartnerStatus } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, LOCALES, type MessageId, t, translator } from '../../core/i18n/index.js'

const CSS = [
  'body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f6f7f9;color:#111;line-height:1.5}',
  'header{background:#1f2937;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}',
  'header a{color:#fff}header form{margin:0}header .lang{margin-left:auto}',
  'main{max-width:60rem;margin:0 auto;padding:1rem}',
  'h1{font-size:1.3rem}h2{font-size:1.1rem;margin-top:1.5rem}',
  'table{border-collapse:collapse;width:100%;background:#fff}',
  'th,td{border:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}',
  'th{background:#eef1f5}',
  '.bad{color:#b91c1c;font-weight:600}.good{color:#047857}',
  'input{font:inherit;padding:.4rem;border:1px solid #999;border-radius:4px;width:100%;box-sizing:border-box}',
  'button{font:inherit;padding:.45rem 1rem;border:0;border-radius:4px;background:#1a56db;color:#fff}',
  'header button{background:transparent;border:1px solid #fff;padding:.2rem .6rem}',
  '.errors{border:1px solid #c81e1e;background:#fdf2f2;border-radius:6px;padding:.5rem 1rem}',
  '.done{border:1px solid #047857;background:#ecfdf5;border-radius:6px;padding:.5rem 1rem}',
  'form.row{display:flex;gap:.5rem;align-items:end;flex-wrap:wrap}form.row label{flex:1 1 10rem}',
  'form.inline{display:inline;margin:0}td button{padding:.2rem .6rem;margin:0 .2rem .2rem 0}',
  'select,textarea{font:inherit;padding:.4rem;border:1px solid #999;border-radius:4px;width:100%;box-sizing:border-box}',
  'pre{white-space:pre-wrap;word-break:break-all;background:#fff;border:1px solid #ddd;padding:.5rem}',
].join('')

/** The console's stylesheet as a CSP source (console/index.ts): nothing else may style or run. */
export const CONSOLE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`

export type ConsolePage = 'overview' | 'allotments' | 'outages' | 'settlement' | 'terms' | 'drills' | 'alerts'
const MENU: readonly { page: ConsolePage; path: string; label: MessageId }[] = [
  { page: 'overview', path: '/console/', label: 'console.nav.overview' },
  { page: 'allotments', path: '/console/allotments', label: 'console.nav.allotments' },
  { page: 'outages', path: '/console/outages', label: 'console.nav.outages' },
  { page: 'settlement', path: '/console/settlement', label: 'console.nav.settlement' },
  { page: 'terms', path: '/console/terms', label: 'console.nav.terms' },
  { page: 'drills', path: '/console/drills', label: 'console.nav.drills' },
  { page: 'alerts', path: '/console/alerts', label: 'console.nav.alerts' },
]

/** The menu entry's path of a page. */
export function menuPath(page: ConsolePage): string {
  return MENU.find((m) => m.page === page)?.path ?? '/console/'
}

const frame = htmlTemplate<{
  locale: Locale
  title: string
  menu: { href: string; label: string; current: boolean }[] | null
  logout: { label: string; csrf: string } | null
  alternates: { href: string; lang: Locale; label: string }[]
  flash: { ok: boolean; text: string } | null
  body: Html
}>(
  'console-frame',
  `<!doctype html>
<html lang="<%= it.locale %>">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title><%= it.title %></title>
<style>${CSS}</style>
</head>
<body>
<header><strong><%= it.title %></strong><% if (it.menu !== null) { for (const m of it.menu) { %> <a href="<%= m.href %>"<% if (m.current) { %> aria-current="page"<% } %>><%= m.label %></a><% } } %><% if (it.logout !== null) { %><form method="post" action="/console/logout"><input type="hidden" name="csrf" value="<%= it.logout.csrf %>"><button type="submit"><%= it.logout.label %></button></form><% } %><span class="lang"><% for (const alt of it.alternates) { %><a href="<%= alt.href %>" hreflang="<%= alt.lang %>" lang="<%= alt.lang %>"><%= alt.label %></a> <% } %></span></header>
<main>
<% if (it.flash !== null) { %><p class="<%= it.flash.ok ? 'done' : 'errors' %>" role="<%= it.flash.ok ? 'status' : 'alert' %>"><%= it.flash.text %></p>
<% } %><%~ it.body %>
</main>
</body>
</html>
`,
)

export interface FrameOptions {
  readonly locale: Locale
  readonly shopName: string
  readonly page: ConsolePage | 'login'
  /** The session's CSRF token; null on the login page. */
  readonly csrf: string | null
  /** What the last form did (console/sessions.ts), shown once. */
  readonly flash?: { ok: boolean; text: string } | null
  /** The path the language links point at, when not the page's own (a statement's page). */
  readonly path?: string
  readonly body: Html
}

export function renderConsole(o: FrameOptions): string {
  const path = o.path ?? (o.page === 'login' ? '/console/login' : (MENU.find((m) => m.page === o.page)?.path ?? '/console/'))
  return frame({
    locale: o.locale,
    title: t(o.locale, 'console.title', { shopName: o.shopName }),
    menu: o.csrf === null ? null : MENU.map((m) => ({ href: m.path, label: t(o.locale, m.label), current: m.page === o.page })),
    logout: o.csrf === null ? null : { label: t(o.locale, 'console.nav.logout'), csrf: o.csrf },
    alternates: LOCALES.filter((l) => l !== o.locale).map((l) => ({ href: `${path}?lang=${l}`, lang: l, label: t(l, 'language.name') })),
    flash: o.flash ?? null,
    body: o.body,
  })
}

const loginTemplate = htmlTemplate<{ title: string; intro: string; refused: string | null; label: string; submit: string }>(
  'console-login',
  `<h1><%= it.title %></h1>
<% if (it.refused !== null) { %><p class="errors" role="alert"><%= it.refused %></p>
<% } %><p><%= it.intro %></p>
<form method="post" action="/console/login">
<label for="token"><%= it.label %></label>
<input id="token" name="token" type="password" autocomplete="off" required>
<p><button type="submit"><%= it.submit %></button></p>
</form>`,
)

export function loginBody(locale: Locale, refused: boolean): Html {
  const tr = translator(locale)
  return loginTemplate({
    title: tr('console.login.title'),
    intro: tr('console.login.intro'),
    refused: refused ? tr('console.login.refused') : null,
    label: tr('console.login.token'),
    submit: tr('console.login.submit'),
  })
}

const tableTemplate = htmlTemplate<{ head: string[]; rows: { text: string; cls: string }[][] }>(
  'console-table',
  `<table><thead><tr><% for (const h of it.head) { %><th><%= h %></th><% } %></tr></thead><tbody><% for (const r of it.rows) { %><tr><% for (const c of r) { %><td<% if (c.cls !== '') { %> class="<%= c.cls %>"<% } %>><%= c.text %></td><% } %></tr><% } %></tbody></table>`,
)

export type Cell = string | { text: string; cls: string }
export function table(head: string[], rows: Cell[][]): Html {
  return tableTemplate({ head, rows: rows.map((r) => r.map((c) => (typeof c === 'string' ? { text: c, cls: '' } : c))) })
}

export const sectionsTemplate = htmlTemplate<{ sections: { title: string; html: Html }[] }>(
  'console-sections',
  `<% for (const s of it.sections) { %><h2><%= s.title %></h2>
<%~ s.html %>
<% } %>`,
)

/** An amount in minor units as the operator reads it: yuan (or the currency's unit) with two decimals. */
export function money(minorUnits: number, currency: string): string {
  const sign = minorUnits < 0 ? '-' : ''
  const abs = Math.abs(minorUnits)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`
}

/** A time in the reader's zone and words. */
export function when(locale: Locale, at: number): string {
  return t(locale, 'time.zoned', { time: new Date(at) })
}

export const PHASE: Record<PartnerStatus['phase'], MessageId> = {
  healthy: 'cli.status.phase.healthy',
  suspect: 'cli.status.phase.suspect',
  certified: 'cli.status.phase.certified',
  'taken-over': 'cli.status.phase.takenOver',
  'handed-back': 'cli.status.phase.handedBack',
}
