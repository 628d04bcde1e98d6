// The overview (own state, partners and their health, escrow) and the fire drills page (D69, D72).
import type { DrillResultView, EscrowReply, PartnerStatus, SelfStatus } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, type Translate, translator } from '../../core/i18n/index.js'
import { type ConsoleContext, CsrfOnly } from './context.js'
import { type Cell, PHASE, sectionsTemplate, table } from './views.js'

export function overviewPage(c: ConsoleContext): void {
  c.show('/console/', 'overview', async ({ locale, now }) => {
    const [self, escrow] = await Promise.all([c.api.selfStatus(), c.api.escrow()])
    return overviewBody(locale, self, c.api.partners(), escrow, now)
  })
}

export function drillsPage(c: ConsoleContext): void {
  c.show('/console/drills', 'drills', async ({ locale, session }) => drillsBody(locale, c.api.drills(), session.csrf))
  c.act('/console/drills', CsrfOnly, '/console/drills', async (_form, { tr }) => {
    const drill = await c.api.drill({})
    return tr('console.drills.ran', { id: drill.id, ok: String(drill.ok) })
  })
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
      [tr('cli.self.feed'), feedCell(tr, self.feed, (id) => names.get(id) ?? id)],
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

/** Our own feed: writing, or (after a restore, D92) waiting for partners to say where it ends. */
function feedCell(tr: Translate, feed: SelfStatus['feed'], nameOf: (id: string) => string): Cell {
  if (feed.rejoining === null) return tr('cli.self.feedWriting', { seq: String(feed.seq) })
  const names = (ids: readonly string[]) => ids.map(nameOf).join(', ') || '-'
  return {
    text: tr('cli.self.feedRejoining', {
      reason: tr(`cli.self.rejoin.${feed.rejoining}`),
      seq: String(feed.seq),
      confirmed: names(feed.confirmed),
      waiting: names(feed.waiting),
    }),
    cls: 'bad',
  }
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
