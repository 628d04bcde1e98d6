// The overview (own state, partners and their health, escrow) and the fire drills page (D69, D72).
import { z } from 'zod'
import { Text } from '../../../protocol/index.js'
import type { DrillResultView, EscrowReply, PartnerStatus, SelfStatus } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, type Translate, translator } from '../../core/i18n/index.js'
import { revocationText } from '../../core/i18n/revocation-text.js'
import { type ConsoleContext, CSRF_FIELD, CsrfOnly } from './context.js'
import { type Cell, PHASE, sectionsTemplate, table } from './views.js'

/** The operator's revocation of a partner (D94), as `standin partner revoke` signs it. */
const RevokeForm = z.strictObject({ ...CSRF_FIELD, partner: z.string().min(1).max(128), reason: Text.min(1) })

export function overviewPage(c: ConsoleContext): void {
  c.show('/console/', 'overview', async ({ locale, now, session }) => {
    const [self, escrow] = await Promise.all([c.api.selfStatus(), c.api.escrow()])
    return overviewBody(locale, self, c.api.partners(), escrow, now, session.csrf)
  })
  c.act('/console/revoke', RevokeForm, '/console/', async (form, { tr }) => {
    const reply = await c.api.revokePartner(form.partner, form.reason)
    const name = c.api.partners().find((p) => p.id === form.partner)?.name ?? form.partner
    return reply.inForce
      ? tr('console.revoke.inForce', { partner: name })
      : tr('console.revoke.signed', { partner: name, count: String(reply.by.length), needed: String(reply.needed) })
  })
}

const revokeTemplate = htmlTemplate<{ t: Record<'intro' | 'partner' | 'reason' | 'submit', string>; csrf: string; partners: { id: string; name: string }[] }>(
  'console-revoke',
  `<p><%= it.t.intro %></p>
<form method="post" action="/console/revoke"><input type="hidden" name="csrf" value="<%= it.csrf %>">
<label for="revoke-partner"><%= it.t.partner %></label> <select id="revoke-partner" name="partner"><% for (const p of it.partners) { %><option value="<%= p.id %>"><%= p.name %></option><% } %></select>
<label for="revoke-reason"><%= it.t.reason %></label> <input id="revoke-reason" name="reason" required maxlength="500">
<button type="submit" id="revoke-submit"><%= it.t.submit %></button></form>`,
)

export function drillsPage(c: ConsoleContext): void {
  c.show('/console/drills', 'drills', async ({ locale, session }) => drillsBody(locale, c.api.drills(), session.csrf))
  c.act('/console/drills', CsrfOnly, '/console/drills', async (_form, { tr }) => {
    const drill = await c.api.drill({})
    return tr('console.drills.ran', { id: drill.id, ok: String(drill.ok) })
  })
}

export function overviewBody(locale: Locale, self: SelfStatus, partners: readonly PartnerStatus[], escrow: EscrowReply, now: number, csrf: string): Html {
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
      ...self.revocations.map((r): Cell[] => [
        tr('cli.self.revoked', { partner: names.get(r.partner) ?? (r.partner === self.id ? self.name : r.partner) }),
        {
          text: revocationText(tr, r, self.id, (id) => names.get(id) ?? (id === self.id ? self.name : id)),
          cls: r.inForce || r.partner === self.id ? 'bad' : '',
        },
      ]),
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
        title: tr('console.revoke.title'),
        html: revokeTemplate({
          t: {
            intro: tr('console.revoke.intro'),
            partner: tr('console.revoke.partner'),
            reason: tr('console.revoke.reason'),
            submit: tr('console.revoke.submit'),
          },
          csrf,
          partners: partners.map((p) => ({ id: p.id, name: p.name })),
        }),
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
