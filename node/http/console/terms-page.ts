// Terms: every revision this node holds and who signed it, the skus each covers, proposing the next
// revision (a sku of ours added or removed, a shop added by its invite: D97, a party left out after
// what it holds of ours is recalled: D95), handing our place to a new identity (D99), and signing
// one a partner's node brought (D64). The same operations as `standin terms` and `standin identity
// rotate`; a token to pass by hand stays with the CLI.
import { z } from 'zod'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import type { Translate } from '../../core/i18n/index.js'
import { type AgreementView, DEFAULT_ALLOTMENT_CAP, ProposeBody, SkuValueArg } from '../../terms/schemas.js'
import { type ConsoleContext, CSRF_FIELD, CsrfOnly } from './context.js'
import { windDown, type WindDownApi } from '../../terms/wind-down.js'
import { ShopId } from '../../../protocol/index.js'
import { type Cell, money, table } from './views.js'

const BACK = '/console/terms'
/** An empty field is no change. */
const optional = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional())
const ProposeForm = z
  .strictObject({
    ...CSRF_FIELD,
    addSku: optional(SkuValueArg),
    removeSku: optional(z.string().min(1).max(128)),
    cap: optional(ProposeBody.shape.cap.unwrap()),
    addParty: optional(z.string().min(10).max(20_000)),
    removeParty: optional(ShopId),
  })
  .transform((f): ProposeBody => ({
    addSkus: f.addSku === undefined ? [] : [f.addSku],
    removeSkus: f.removeSku === undefined ? [] : [f.removeSku],
    cap: f.cap ?? DEFAULT_ALLOTMENT_CAP,
    removeParties: f.removeParty === undefined ? [] : [f.removeParty],
    addParties: f.addParty === undefined ? [] : [f.addParty],
  }))
const AcceptForm = z.strictObject({ ...CSRF_FIELD, hash: z.string().min(4).max(64) })

type Agreement = z.infer<typeof AgreementView>

export function termsPage(c: ConsoleContext): void {
  c.show(BACK, 'terms', async ({ tr, session }) => {
    const agreements = c.terms === null ? [] : [...c.terms.list().agreements].sort((a, b) => b.revision - a.revision || b.createdAt - a.createdAt)
    return termsTemplate({
      t: {
        title: tr('console.terms.title'),
        intro: tr('console.terms.intro'),
        propose: tr('console.terms.propose'),
        proposeIntro: tr('console.terms.proposeIntro'),
        addSku: tr('console.terms.addSku'),
        removeSku: tr('console.terms.removeSku'),
        cap: tr('console.terms.cap'),
        addParty: tr('console.terms.addParty'),
        removeParty: tr('console.terms.removeParty'),
        keepAll: tr('console.terms.keepAll'),
        proposeSubmit: tr('console.terms.proposeSubmit'),
        accept: tr('console.terms.accept'),
        handOver: tr('console.terms.handOver'),
        handOverIntro: tr('console.terms.handOverIntro'),
        handOverSubmit: tr('console.terms.handOverSubmit'),
      },
      unavailable: c.terms === null ? tr('console.terms.unavailable') : null,
      csrf: session.csrf,
      partners: await partnersInForce(c, agreements),
      agreements: agreements.map((a) => agreementView(tr, a)),
    })
  })
  c.act(`${BACK}/propose`, ProposeForm, BACK, async (form, { tr }) => {
    // A party left out first gives back what it holds of ours, while it still is one (D95).
    const woundDown = await Promise.all(form.removeParties.map((p) => windDown(windDownApi(c), p)))
    const result = termsOf(c).propose(form)
    const recalled = woundDown.flatMap((w) => w.recalled)
    return [
      tr('console.terms.proposed', { hash: result.hash.slice(0, 12), next: result.next }),
      ...(form.removeParties.length === 0 ? [] : [tr('console.terms.woundDown', { allotments: String(recalled.length) })]),
    ].join(' ')
  })
  c.act(`${BACK}/hand-over`, CsrfOnly, BACK, async (_form, { tr }) => {
    const inForce = termsOf(c)
      .list()
      .agreements.find((a) => a.state === 'in-force')
    const me = (await c.api.selfStatus()).id
    const partners = (inForce?.parties ?? []).map((p) => p.id).filter((id) => id !== me)
    const woundDown = []
    for (const p of partners) woundDown.push(await windDown(windDownApi(c), p))
    const result = termsOf(c).handOver()
    return tr('console.terms.handedOver', {
      successor: result.successor,
      allotments: String(woundDown.flatMap((w) => w.recalled).length),
      next: result.next,
    })
  })
  c.act(`${BACK}/accept`, AcceptForm, BACK, async (form, { tr }) => {
    const result = termsOf(c).accept({ hash: form.hash })
    return tr('console.terms.accepted', { hash: result.hash.slice(0, 12), next: result.next })
  })
}

/** The wind-down (D95, D99) on the node's API in this process. */
function windDownApi(c: ConsoleContext): WindDownApi {
  return {
    holdings: () => c.api.holdings(),
    recall: (holder, allotment) => c.api.recall(holder, allotment),
    issueStatement: async (counterparty) => (await c.api.issueStatement(counterparty)) !== null,
  }
}

function termsOf(c: ConsoleContext) {
  if (c.terms === null) throw new Error('console: this node serves no terms operations')
  return c.terms
}

/** The parties of the terms in force other than us: who a revision may leave out. */
async function partnersInForce(c: ConsoleContext, agreements: readonly Agreement[]): Promise<{ id: string; name: string }[]> {
  const inForce = agreements.find((a) => a.state === 'in-force')
  if (!inForce) return []
  const me = (await c.api.selfStatus()).id
  return inForce.parties.filter((p) => p.id !== me).map((p) => ({ id: p.id, name: p.name }))
}

function agreementView(tr: Translate, a: Agreement) {
  return {
    heading: tr('console.terms.heading', { id: a.id, revision: a.revision, state: tr(`console.terms.state.${a.state}`) }),
    hash: a.hash,
    canAccept: a.state === 'waiting' && !a.signedByUs,
    parties: table(
      [tr('console.terms.col.party'), tr('console.terms.col.signed')],
      a.parties.map((p): Cell[] => [p.name, p.signed ? { text: tr('console.yes'), cls: 'good' } : { text: tr('console.no'), cls: 'bad' }]),
    ),
    skus: table(
      (['shop', 'sku', 'cap', 'value'] as const).map((col) => tr(`console.terms.col.${col}`)),
      a.skus.map((s) => [s.shopName, s.sku, String(s.allotmentCap), money(s.unitValue.minorUnits, s.unitValue.currency)]),
    ),
  }
}

const termsTemplate = htmlTemplate<{
  t: Record<
    | 'title'
    | 'intro'
    | 'propose'
    | 'proposeIntro'
    | 'addSku'
    | 'removeSku'
    | 'cap'
    | 'addParty'
    | 'removeParty'
    | 'keepAll'
    | 'proposeSubmit'
    | 'accept'
    | 'handOver'
    | 'handOverIntro'
    | 'handOverSubmit',
    string
  >
  unavailable: string | null
  csrf: string
  partners: { id: string; name: string }[]
  agreements: { heading: string; hash: string; canAccept: boolean; parties: Html; skus: Html }[]
}>(
  'console-terms',
  `<h1><%= it.t.title %></h1>
<p><%= it.t.intro %></p>
<% if (it.unavailable !== null) { %><p class="bad"><%= it.unavailable %></p><% } else { %><h2><%= it.t.propose %></h2>
<p><%= it.t.proposeIntro %></p>
<form class="row" method="post" action="/console/terms/propose"><input type="hidden" name="csrf" value="<%= it.csrf %>">
<label><%= it.t.addSku %> <input name="addSku" id="propose-add" placeholder="steam-50=50.00"></label>
<label><%= it.t.removeSku %> <input name="removeSku" id="propose-remove"></label>
<label><%= it.t.cap %> <input name="cap" id="propose-cap" type="number" min="1"></label>
<label><%= it.t.addParty %> <textarea name="addParty" id="propose-add-party" rows="2" placeholder="standin1.…"></textarea></label>
<label><%= it.t.removeParty %> <select name="removeParty" id="propose-remove-party"><option value=""><%= it.t.keepAll %></option><% for (const p of it.partners) { %><option value="<%= p.id %>"><%= p.name %></option><% } %></select></label>
<button type="submit" id="propose-submit"><%= it.t.proposeSubmit %></button></form>
<h2><%= it.t.handOver %></h2>
<p><%= it.t.handOverIntro %></p>
<form method="post" action="/console/terms/hand-over"><input type="hidden" name="csrf" value="<%= it.csrf %>"><button type="submit" id="hand-over-submit"><%= it.t.handOverSubmit %></button></form>
<% } %><% for (const a of it.agreements) { %><h2><%= a.heading %></h2>
<p><code><%= a.hash %></code></p>
<% if (a.canAccept) { %><form method="post" action="/console/terms/accept"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="hash" value="<%= a.hash %>"><button type="submit" data-accept="<%= a.hash %>"><%= it.t.accept %></button></form><% } %>
<%~ a.parties %>
<%~ a.skus %>
<% } %>`,
)
