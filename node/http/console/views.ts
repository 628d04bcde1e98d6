// The console's pages: one frame (menu, language links, the one hashed stylesheet) and a body per
// page. Plain HTML forms, no JavaScript, every value escaped by Eta (node/core/html-templates.ts);
// every word from the catalogue (node/core/i18n/console.*.ts).
import { createHash } from 'node:crypto'
import type { DrillResultView, EscrowReply, PartnerStatus, SelfStatus } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, LOCALES, type MessageId, t, type Translate, translator } from '../../core/i18n/index.js'

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
].join('')

/** The console's stylesheet as a CSP source (console/index.ts): nothing else may style or run. */
export const CONSOLE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(CSS, 'utf8').digest('base64')}'`

export type ConsolePage = 'overview' | 'drills'
const MENU: readonly { page: ConsolePage; path: string; label: MessageId }[] = [
  { page: 'overview', path: '/console/', label: 'console.nav.overview' },
  { page: 'drills', path: '/console/drills', label: 'console.nav.drills' },
]

const frame = htmlTemplate<{
  locale: Locale
  title: string
  menu: { href: string; label: string; current: boolean }[] | null
  logout: { label: string; csrf: string } | null
  alternates: { href: string; lang: Locale; label: string }[]
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
<%~ it.body %>
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
  readonly body: Html
}

export function renderConsole(o: FrameOptions): string {
  const path = o.page === 'login' ? '/console/login' : (MENU.find((m) => m.page === o.page)?.path ?? '/console/')
  return frame({
    locale: o.locale,
    title: t(o.locale, 'console.title', { shopName: o.shopName }),
    menu: o.csrf === null ? null : MENU.map((m) => ({ href: m.path, label: t(o.locale, m.label), current: m.page === o.page })),
    logout: o.csrf === null ? null : { label: t(o.locale, 'console.nav.logout'), csrf: o.csrf },
    alternates: LOCALES.filter((l) => l !== o.locale).map((l) => ({ href: `${path}?lang=${l}`, lang: l, label: t(l, 'language.name') })),
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

type Cell = string | { text: string; cls: string }
function table(head: string[], rows: Cell[][]): Html {
  return tableTemplate({ head, rows: rows.map((r) => r.map((c) => (typeof c === 'string' ? { text: c, cls: '' } : c))) })
}

const sectionsTemplate = htmlTemplate<{ sections: { title: string; html: Html }[] }>(
  'console-sections',
  `<% for (const s of it.sections) { %><h2><%= s.title %></h2>
<%~ s.html %>
<% } %>`,
)

const PHASE: Record<PartnerStatus['phase'], MessageId> = {
  healthy: 'cli.status.phase.healthy',
  suspect: 'cli.status.phase.suspect',
  certified: 'cli.status.phase.certified',
  'taken-over': 'cli.status.phase.takenOver',
  'handed-back': 'cli.status.phase.handedBack',
}

export function overviewBody(locale: Locale, self: SelfStatus, partners: readonly PartnerStatus[], escrow: EscrowReply, now: number): Html {
  const tr: Translate = translator(locale)
  const names = new Map(partners.map((p) => [p.id, p.name]))
  const own = table(
    [tr('console.overview.shop'), `${self.name} (${self.id})`],
    [
      [tr('console.overview.platform'), self.platform],
      [tr('console.overview.fence'), self.fenced ? { text: tr('console.overview.fenced'), cls: 'bad' } : tr('console.overview.open')],
      [
        tr('console.overview.takeover'),
        self.takenOver
          ? { text: tr('console.overview.takenOver', { epoch: String(self.epoch) }), cls: 'bad' }
          : tr('console.overview.notTakenOver', { epoch: String(self.epoch) }),
      ],
      [tr('console.overview.terms'), tr('console.overview.termsValue', { id: self.terms.id, revision: String(self.terms.revision) })],
      [
        tr('console.overview.orders'),
        { text: tr('console.overview.ordersValue', { pending: String(self.pending), stuck: String(self.stuck) }), cls: self.stuck > 0 ? 'bad' : '' },
      ],
      [tr('console.overview.unserved'), { text: String(self.unserved.count), cls: self.unserved.count > 0 ? 'bad' : '' }],
    ],
  )
  const partnerRows = partners.map((p): Cell[] => [
    p.name,
    p.connected ? tr('console.yes') : { text: tr('console.no'), cls: 'bad' },
    p.lastHeartbeatAt === null ? tr('console.never') : tr('cli.secondsAgo', { seconds: ((now - p.lastHeartbeatAt) / 1000).toFixed(1) }),
    p.platform,
    p.quarantined
      ? { text: tr('cli.status.quarantined'), cls: 'bad' }
      : { text: tr('cli.status.stateAtEpoch', { state: tr(PHASE[p.phase]), epoch: String(p.epoch) }), cls: p.phase === 'healthy' ? 'good' : 'bad' },
  ])
  const escrowRows = escrow.escrow.map((e): Cell[] => [names.get(e.origin) ?? self.name, String(e.pending), String(e.delivered), String(e.cancelled)])
  return sectionsTemplate({
    sections: [
      { title: tr('console.nav.overview'), html: own },
      {
        title: tr('console.overview.partners'),
        html: table(
          (['partner', 'connected', 'heartbeat', 'platform', 'state'] as const).map((c) => tr(`console.overview.col.${c}`)),
          partnerRows,
        ),
      },
      {
        title: tr('console.overview.escrow'),
        html: table(
          (['origin', 'pending', 'delivered', 'cancelled'] as const).map((c) => tr(`console.overview.col.${c}`)),
          escrowRows,
        ),
      },
    ],
  })
}

const drillsTemplate = htmlTemplate<{
  title: string
  intro: string
  csrf: string
  run: string
  none: string | null
  drills: { heading: string; table: Html }[]
}>(
  'console-drills',
  `<h1><%= it.title %></h1>
<p><%= it.intro %></p>
<form method="post" action="/console/drills"><input type="hidden" name="csrf" value="<%= it.csrf %>"><button type="submit"><%= it.run %></button></form>
<% if (it.none !== null) { %><p><%= it.none %></p><% } %><% for (const d of it.drills) { %><h2><%= d.heading %></h2>
<%~ d.table %>
<% } %>`,
)

export function drillsBody(locale: Locale, drills: readonly DrillResultView[], csrf: string): Html {
  const tr = translator(locale)
  const head = (['partner', 'sku', 'consigned', 'proven', 'wouldServe', 'result'] as const).map((c) => tr(`console.drills.col.${c}`))
  const verdict = (ok: boolean, reason: string | null): Cell =>
    ok ? { text: tr('console.drills.ok'), cls: 'good' } : { text: tr('console.drills.fail', { reason: reason ?? '' }), cls: 'bad' }
  return drillsTemplate({
    title: tr('console.drills.title'),
    intro: tr('console.drills.intro'),
    csrf,
    run: tr('console.drills.run'),
    none: drills.length === 0 ? tr('console.drills.none') : null,
    // Newest first: the one just run is on top.
    drills: [...drills].reverse().map((d) => ({
      heading: tr('console.drills.heading', { id: d.id, time: new Date(d.at).toISOString(), ok: String(d.ok) }),
      table: table(
        head,
        d.partners.flatMap((p) =>
          p.skus.length === 0
            ? [[p.name, '-', '0', '0', '0', verdict(p.ok, p.reason)]]
            : p.skus.map((s): Cell[] => [p.name, s.sku, String(s.expected), String(s.held), String(s.servesUpTo), verdict(s.ok, s.reason)]),
        ),
      ),
    })),
  })
}
