// Outages and incident reports: every outage this node took part in (ours or a partner's), newest
// first, with its timeline in the reader's language, who delivered how much and how fast, and
// duplicates. The operator's word on our platform (down: partners take over; up: hand back) is
// given here too, as `standin platform down|up` does.
import { z } from 'zod'
import type { IncidentReport } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import { type Locale, type Translate } from '../../core/i18n/index.js'
import { type ConsoleContext, CSRF_FIELD } from './context.js'
import { table, when } from './views.js'

const BACK = '/console/outages'
const PlatformForm = z.strictObject({ ...CSRF_FIELD, platform: z.enum(['up', 'down']) })

export function outagesPage(c: ConsoleContext): void {
  c.show(BACK, 'outages', async ({ locale, tr, session }) => {
    const names = new Map(c.api.partners().map((p) => [p.id, p.name] as [string, string]))
    const me = c.api.identity()
    names.set(me.id, me.name)
    const reports = [...c.api.incidents()].reverse()
    return outagesTemplate({
      title: tr('console.outages.title'),
      intro: tr('console.outages.intro'),
      platformTitle: tr('console.outages.platform'),
      platformIntro: tr('console.outages.platformIntro'),
      down: tr('console.outages.down'),
      up: tr('console.outages.up'),
      csrf: session.csrf,
      none: reports.length === 0 ? tr('console.outages.none') : null,
      incidents: reports.map((r) => incidentView(locale, tr, r, names)),
    })
  })
  c.act('/console/outages/platform', PlatformForm, BACK, async (form, { tr }) => {
    await c.api.operatorReportsPlatform(form.platform)
    return tr(form.platform === 'down' ? 'console.outages.reportedDown' : 'console.outages.reportedUp')
  })
}

function incidentView(locale: Locale, tr: Translate, r: IncidentReport, names: ReadonlyMap<string, string>) {
  const name = (id: string | null) => (id === null ? '' : (names.get(id) ?? id))
  const fulfillers = Object.entries(r.fulfillers)
  return {
    heading: tr('console.outages.heading', {
      shop: name(r.origin),
      epoch: r.epoch,
      role: r.role,
      open: String(r.closedAt === null),
    }),
    summary: tr('console.outages.summary', {
      opened: when(locale, r.openedAt),
      closed: r.closedAt === null ? '-' : when(locale, r.closedAt),
      keys: r.keysUsed,
    }),
    timeline: table(
      [tr('console.outages.col.time'), tr('console.outages.col.step'), tr('console.outages.col.by')],
      r.timeline.map((step) => [
        when(locale, step.at),
        // Reports from before the steps had kinds keep their English words.
        step.kind === undefined ? step.what : tr(`incident.${step.kind}`, step.params ?? {}),
        name(step.by),
      ]),
    ),
    fulfillers:
      fulfillers.length === 0
        ? null
        : table(
            (['partner', 'orders', 'keys', 'waitAvg', 'waitMax'] as const).map((col) => tr(`console.outages.col.${col}`)),
            fulfillers.map(([id, s]) => [
              name(id),
              String(s.orders),
              String(s.keys),
              (s.orders === 0 ? 0 : s.waitMsSum / s.orders / 1000).toFixed(1),
              (s.waitMsMax / 1000).toFixed(1),
            ]),
          ),
    duplicates: r.duplicates.map((d) => tr('console.outages.duplicate', { order: d.order, fulfillers: d.fulfillers.map(name).join(', ') })),
  }
}

const outagesTemplate = htmlTemplate<{
  title: string
  intro: string
  platformTitle: string
  platformIntro: string
  down: string
  up: string
  csrf: string
  none: string | null
  incidents: { heading: string; summary: string; timeline: Html; fulfillers: Html | null; duplicates: string[] }[]
}>(
  'console-outages',
  `<h1><%= it.title %></h1>
<p><%= it.intro %></p>
<h2><%= it.platformTitle %></h2>
<p><%= it.platformIntro %></p>
<form class="row" method="post" action="/console/outages/platform"><input type="hidden" name="csrf" value="<%= it.csrf %>"><button type="submit" name="platform" value="down" id="platform-down"><%= it.down %></button> <button type="submit" name="platform" value="up" id="platform-up"><%= it.up %></button></form>
<% if (it.none !== null) { %><p><%= it.none %></p><% } %><% for (const i of it.incidents) { %><h2><%= i.heading %></h2>
<p><%= i.summary %></p>
<%~ i.timeline %>
<% if (i.fulfillers !== null) { %><%~ i.fulfillers %><% } %><% for (const d of i.duplicates) { %><p class="bad"><%= d %></p><% } %>
<% } %>`,
)
