// Allotments: consign keys to a partner, see what each partner holds of ours per sku and
// allotment, recall an allotment, and decide about keys that came back exposed (issue 16 item 3).
import { z } from 'zod'
import type { ShopId } from '../../../protocol/index.js'
import { ConsignBody, type HoldingView, KeyDecision, RecallBody } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import type { Translate } from '../../core/i18n/index.js'
import { type ConsoleContext, CSRF_FIELD } from './context.js'
import { money, table } from './views.js'

const BACK = '/console/allotments'
const ConsignForm = ConsignBody.extend({ ...CSRF_FIELD, count: z.coerce.number().pipe(ConsignBody.shape.count) })
const RecallForm = RecallBody.extend(CSRF_FIELD)
const DecideForm = z.strictObject({ ...CSRF_FIELD, keyId: z.string().min(1).max(128), decision: KeyDecision })

export function allotmentsPage(c: ConsoleContext): void {
  c.show(BACK, 'allotments', async ({ tr, session }) => {
    const [holdings, exposed] = await Promise.all([c.api.holdings(), c.api.exposedKeys()])
    const names = partnerNames(c)
    return allotmentsTemplate({
      t: labels(tr),
      csrf: session.csrf,
      partners: [...names].map(([id, name]) => ({ id, name })),
      summary: holdings.length === 0 ? null : summaryTable(tr, holdings, names),
      allotments: holdings.flatMap((h) =>
        h.allotments
          .filter((a) => a.held > 0)
          .map((a) => ({
            allotment: a.allotment,
            holder: h.holder,
            holderName: names.get(h.holder) ?? h.holder,
            sku: h.sku,
            consigned: a.consigned,
            held: a.held,
          })),
      ),
      exposed: exposed.map((k) => ({ ...k, holderName: names.get(k.holder) ?? k.holder, value: money(k.unitValue.minorUnits, k.unitValue.currency) })),
    })
  })

  c.act('/console/allotments/consign', ConsignForm, BACK, async (form, { tr }) => {
    const done = await c.api.consign(form.holder, form.sku, form.count)
    return tr('console.allotments.consigned', { keys: done.keys, sku: form.sku, partner: nameOf(c, form.holder), allotment: done.allotment })
  })
  c.act('/console/allotments/recall', RecallForm, BACK, async (form, { tr }) => {
    await c.api.recall(form.holder, form.allotment)
    return tr('console.allotments.recalled', { allotment: form.allotment, partner: nameOf(c, form.holder) })
  })
  c.act('/console/allotments/decide', DecideForm, BACK, async (form, { tr }) => {
    const done = await c.api.decideKeys([form.keyId], form.decision)
    return tr('console.allotments.decided', { keys: done.keys, decision: tr(`console.allotments.decision.${form.decision}`) })
  })
}

function partnerNames(c: ConsoleContext): Map<string, string> {
  return new Map(c.api.partners().map((p) => [p.id, p.name]))
}

function nameOf(c: ConsoleContext, id: ShopId): string {
  return partnerNames(c).get(id) ?? id
}

function summaryTable(tr: Translate, holdings: readonly HoldingView[], names: ReadonlyMap<string, string>): Html {
  const head = (['partner', 'sku', 'consigned', 'held', 'reserved', 'delivered', 'returned'] as const).map((col) => tr(`console.allotments.col.${col}`))
  return table(
    head,
    holdings.map((h) => [
      names.get(h.holder) ?? h.holder,
      h.sku,
      String(h.consigned),
      String(h.held),
      String(h.reserved),
      String(h.delivered),
      String(h.returned),
    ]),
  )
}

function labels(tr: Translate) {
  const ids = [
    'title',
    'intro',
    'consign',
    'partner',
    'sku',
    'count',
    'consignSubmit',
    'holds',
    'none',
    'allotmentsTitle',
    'recallIntro',
    'col.allotment',
    'col.partner',
    'col.sku',
    'col.consigned',
    'col.held',
    'col.action',
    'recall',
    'exposedTitle',
    'exposedIntro',
    'exposedNone',
    'col.key',
    'col.value',
    'decision.write-off',
    'decision.bill',
    'decision.reconsign',
  ] as const
  return Object.fromEntries(ids.map((id) => [id, tr(`console.allotments.${id}`)])) as Record<(typeof ids)[number], string>
}

const allotmentsTemplate = htmlTemplate<{
  t: ReturnType<typeof labels>
  csrf: string
  partners: { id: string; name: string }[]
  summary: Html | null
  allotments: { allotment: string; holder: string; holderName: string; sku: string; consigned: number; held: number }[]
  exposed: { keyId: string; holder: string; holderName: string; sku: string; allotment: string; value: string }[]
}>(
  'console-allotments',
  `<h1><%= it.t.title %></h1>
<p><%= it.t.intro %></p>
<h2><%= it.t.consign %></h2>
<form class="row" method="post" action="/console/allotments/consign"><input type="hidden" name="csrf" value="<%= it.csrf %>">
<label><%= it.t.partner %> <select name="holder" id="consign-holder"><% for (const p of it.partners) { %><option value="<%= p.id %>"><%= p.name %></option><% } %></select></label>
<label><%= it.t.sku %> <input name="sku" id="consign-sku" required></label>
<label><%= it.t.count %> <input name="count" id="consign-count" type="number" min="1" required></label>
<button type="submit" id="consign-submit"><%= it.t.consignSubmit %></button></form>
<h2><%= it.t.holds %></h2>
<% if (it.summary === null) { %><p><%= it.t.none %></p><% } else { %><%~ it.summary %><% } %>
<h2><%= it.t.allotmentsTitle %></h2>
<p><%= it.t.recallIntro %></p>
<table><thead><tr><th><%= it.t['col.allotment'] %></th><th><%= it.t['col.partner'] %></th><th><%= it.t['col.sku'] %></th><th><%= it.t['col.consigned'] %></th><th><%= it.t['col.held'] %></th><th><%= it.t['col.action'] %></th></tr></thead><tbody>
<% for (const a of it.allotments) { %><tr><td><%= a.allotment %></td><td><%= a.holderName %></td><td><%= a.sku %></td><td><%= a.consigned %></td><td><%= a.held %></td><td><form class="inline" method="post" action="/console/allotments/recall"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="holder" value="<%= a.holder %>"><input type="hidden" name="allotment" value="<%= a.allotment %>"><button type="submit" data-recall="<%= a.allotment %>"><%= it.t.recall %></button></form></td></tr>
<% } %></tbody></table>
<h2><%= it.t.exposedTitle %></h2>
<p><%= it.t.exposedIntro %></p>
<% if (it.exposed.length === 0) { %><p><%= it.t.exposedNone %></p><% } else { %><table><thead><tr><th><%= it.t['col.key'] %></th><th><%= it.t['col.partner'] %></th><th><%= it.t['col.sku'] %></th><th><%= it.t['col.allotment'] %></th><th><%= it.t['col.value'] %></th><th><%= it.t['col.action'] %></th></tr></thead><tbody>
<% for (const k of it.exposed) { %><tr><td><%= k.keyId %></td><td><%= k.holderName %></td><td><%= k.sku %></td><td><%= k.allotment %></td><td><%= k.value %></td><td><form class="inline" method="post" action="/console/allotments/decide"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="keyId" value="<%= k.keyId %>"><% for (const d of ['write-off', 'bill', 'reconsign']) { %><button type="submit" name="decision" value="<%= d %>" data-decide="<%= k.keyId %>:<%= d %>"><%= it.t['decision.' + d] %></button><% } %></form></td></tr>
<% } %></tbody></table><% } %>`,
)
