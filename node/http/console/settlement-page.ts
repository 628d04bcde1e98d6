// Settlement: balances per partner, statements issued and received, and each statement's page
// with the step its state allows: accept (disputing lines), pay (with the transfer's reference),
// confirm a payment received. Exports download as CSV or JSON, as `standin settle export` writes.
import { z } from 'zod'
import { DisputeReason, formatZodError, ShopId, Text } from '../../../protocol/index.js'
import { RefusedError } from '../../core/api.js'
import { PayStatementBody, StatementRef } from '../../core/api-schemas.js'
import { type Html, htmlTemplate } from '../../core/html-templates.js'
import type { Locale, Translate } from '../../core/i18n/index.js'
import type { StatementState } from '../../core/state/ledger.js'
import { type ConsoleContext, CSRF_FIELD } from './context.js'
import { type Cell, money, table, when } from './views.js'

const BACK = '/console/settlement'
const statementPath = (hash: string) => `${BACK}/s/${encodeURIComponent(hash)}`
const REF = StatementRef.shape.ref
/** Receipts one accept form may dispute: a statement's lines at most (protocol limit). */
const MAX_DISPUTES_PER_FORM = 10_000

const IssueForm = z.strictObject({ ...CSRF_FIELD, counterparty: ShopId })
const AcceptForm = z.strictObject({
  ...CSRF_FIELD,
  ref: REF,
  // One checkbox per disputed line: absent, one value, or several.
  dispute: z
    .union([z.string(), z.array(z.string()).max(MAX_DISPUTES_PER_FORM)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  reason: DisputeReason.default('other'),
  note: Text.default(''),
})
const PayForm = PayStatementBody.extend({ ...CSRF_FIELD, ref: REF })
const ConfirmForm = z.strictObject({ ...CSRF_FIELD, ref: REF })
const ExportParams = z.strictObject({ format: z.enum(['csv', 'json']) })

export function settlementPage(c: ConsoleContext): void {
  c.show(BACK, 'settlement', async ({ locale, tr, session }) => {
    const names = partnerNames(c)
    const statements = [...(await c.api.statements())].reverse()
    return settlementTemplate({
      title: tr('console.settlement.title'),
      intro: tr('console.settlement.intro'),
      balancesTitle: tr('console.settlement.balances'),
      balances: table(
        (['partner', 'owedToUs', 'owedByUs', 'disputed', 'credit'] as const).map((col) => tr(`console.settlement.col.${col}`)),
        c.api
          .balances()
          .map((b): Cell[] => [
            names.get(b.counterparty) ?? b.counterparty,
            money(b.owedToUs, b.currency),
            money(b.owedByUs, b.currency),
            money(b.disputed, b.currency),
            b.creditBlocked ? { text: tr('console.settlement.blocked'), cls: 'bad' } : tr('console.settlement.creditOk'),
          ]),
      ),
      issueTitle: tr('console.settlement.issue'),
      issueIntro: tr('console.settlement.issueIntro'),
      partnerLabel: tr('console.settlement.partner'),
      issueSubmit: tr('console.settlement.issueSubmit'),
      partners: [...names].map(([id, name]) => ({ id, name })),
      csrf: session.csrf,
      statementsTitle: tr('console.settlement.statements'),
      none: statements.length === 0 ? tr('console.settlement.none') : null,
      head: (['id', 'role', 'partner', 'status', 'lines', 'total', 'time'] as const).map((col) => tr(`console.settlement.col.${col}`)),
      statements: statements.map((s) => ({
        href: statementPath(s.hash),
        id: s.statement.id,
        role: tr(`console.settlement.role.${s.role}`),
        partner: names.get(s.role === 'issued' ? s.statement.counterparty : s.statement.issuer) ?? '',
        status: tr(`console.settlement.status.${s.status}`),
        lines: String(s.statement.lines.length),
        total: money(s.statement.totalMinorUnits, s.statement.currency),
        time: when(locale, s.statement.time),
      })),
      exportTitle: tr('console.settlement.export'),
      csv: tr('console.settlement.exportCsv'),
      json: tr('console.settlement.exportJson'),
    })
  })

  c.show(`${BACK}/s/:hash`, 'settlement', async ({ locale, tr, session, request }) => {
    const ref = REF.safeParse((request.params as { hash: string }).hash)
    if (!ref.success) throw new RefusedError(`statement: ${formatZodError(ref.error)}`)
    return statementBody(locale, tr, await c.api.findStatement(ref.data), partnerNames(c), session.csrf)
  })

  c.show(`${BACK}/export/:format`, 'settlement', async ({ request, reply }) => {
    const { format } = ExportParams.parse(request.params)
    const text = await c.api.exportStatements(format)
    await reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="standin-statements.${format}"`)
      .send(text)
    return { sent: true }
  })

  c.act(`${BACK}/issue`, IssueForm, BACK, async (form, { tr }) => {
    const issued = await c.api.issueStatement(form.counterparty)
    const partner = partnerNames(c).get(form.counterparty) ?? form.counterparty
    return issued === null
      ? tr('console.settlement.nothingToIssue', { partner })
      : tr('console.settlement.issued', { id: issued.statement.id, partner, total: money(issued.statement.totalMinorUnits, issued.statement.currency) })
  })
  c.act(
    `${BACK}/accept`,
    AcceptForm,
    (f) => statementPath(f.ref),
    async (form, { tr }) => {
      const disputes = form.dispute.map((receipt) => ({ receipt, reason: form.reason, note: form.note }))
      const done = await c.api.acceptStatement(form.ref, disputes)
      return tr('console.settlement.accepted', { id: done.statement.id, disputed: disputes.length })
    },
  )
  c.act(
    `${BACK}/pay`,
    PayForm,
    (f) => statementPath(f.ref),
    async (form, { tr }) => {
      const done = await c.api.payStatement(form.ref, form.reference)
      return tr('console.settlement.paid', { id: done.statement.id, reference: form.reference })
    },
  )
  c.act(
    `${BACK}/confirm`,
    ConfirmForm,
    (f) => statementPath(f.ref),
    async (form, { tr }) => {
      const done = await c.api.confirmStatement(form.ref)
      return tr('console.settlement.confirmed', { id: done.statement.id })
    },
  )
}

function partnerNames(c: ConsoleContext): Map<string, string> {
  return new Map(c.api.partners().map((p) => [p.id, p.name]))
}

function statementBody(locale: Locale, tr: Translate, s: StatementState, names: ReadonlyMap<string, string>, csrf: string): Html {
  const name = (id: string) => names.get(id) ?? c(id)
  const disputed = new Map(s.disputed.map((d) => [d.receipt, d]))
  const canAccept = s.role === 'received' && s.status === 'issued'
  return statementTemplate({
    title: tr('console.settlement.statement', { id: s.statement.id }),
    facts: table(
      [tr('console.settlement.col.field'), tr('console.settlement.col.value')],
      [
        [tr('console.settlement.col.role'), tr(`console.settlement.role.${s.role}`)],
        [tr('console.settlement.issuer'), name(s.statement.issuer)],
        [tr('console.settlement.counterparty'), name(s.statement.counterparty)],
        [tr('console.settlement.col.status'), tr(`console.settlement.status.${s.status}`)],
        [tr('console.settlement.col.total'), money(s.statement.totalMinorUnits, s.statement.currency)],
        [tr('console.settlement.acceptedAmount'), s.acceptedMinorUnits === null ? '-' : money(s.acceptedMinorUnits, s.statement.currency)],
        [tr('console.settlement.payment'), s.payment === null ? '-' : `${s.payment.reference} (${money(s.payment.minorUnits, s.statement.currency)})`],
        [tr('console.settlement.period'), `${when(locale, s.statement.period.fromMs)} – ${when(locale, s.statement.period.toMs)}`],
        [tr('console.settlement.hash'), s.hash],
      ],
    ),
    csrf,
    ref: s.hash,
    canAccept,
    canPay: s.role === 'received' && s.status === 'accepted',
    canConfirm: s.role === 'issued' && s.status === 'paid',
    head: (['receipt', 'order', 'fulfiller', 'amount', 'time', 'dispute'] as const).map((col) => tr(`console.settlement.col.${col}`)),
    lines: s.statement.lines.map((l) => ({
      receipt: l.receipt,
      short: c(l.receipt),
      order: l.order,
      fulfiller: name(l.fulfiller),
      amount: money(l.minorUnits, s.statement.currency),
      time: when(locale, l.time),
      disputed: reasonOf(tr, disputed.get(l.receipt)?.reason),
    })),
    mismatches: s.mismatches.map((m) => tr('console.settlement.mismatch', { receipt: c(m.receipt), reason: m.reason })),
    reasons: DisputeReason.options.map((r) => ({ value: r, label: tr(`console.settlement.reason.${r}`) })),
    t: {
      accept: tr('console.settlement.accept'),
      acceptIntro: tr('console.settlement.acceptIntro'),
      reason: tr('console.settlement.reasonLabel'),
      note: tr('console.settlement.note'),
      pay: tr('console.settlement.pay'),
      payIntro: tr('console.settlement.payIntro'),
      reference: tr('console.settlement.reference'),
      confirm: tr('console.settlement.confirm'),
      confirmIntro: tr('console.settlement.confirmIntro'),
      back: tr('console.settlement.back'),
    },
  })
}

/** A disputed line's reason in words; a reason this node does not know (stored text) as it is. */
function reasonOf(tr: Translate, reason: string | undefined): string | null {
  if (reason === undefined) return null
  const known = DisputeReason.safeParse(reason)
  return known.success ? tr(`console.settlement.reason.${known.data}`) : reason
}

/** A hash or id as a person compares it: its first characters. */
function c(id: string): string {
  return id.length > 14 ? `${id.slice(0, 12)}…` : id
}

const settlementTemplate = htmlTemplate<{
  title: string
  intro: string
  balancesTitle: string
  balances: Html
  issueTitle: string
  issueIntro: string
  partnerLabel: string
  issueSubmit: string
  partners: { id: string; name: string }[]
  csrf: string
  statementsTitle: string
  none: string | null
  head: string[]
  statements: { href: string; id: string; role: string; partner: string; status: string; lines: string; total: string; time: string }[]
  exportTitle: string
  csv: string
  json: string
}>(
  'console-settlement',
  `<h1><%= it.title %></h1>
<p><%= it.intro %></p>
<h2><%= it.balancesTitle %></h2>
<%~ it.balances %>
<h2><%= it.issueTitle %></h2>
<p><%= it.issueIntro %></p>
<form class="row" method="post" action="/console/settlement/issue"><input type="hidden" name="csrf" value="<%= it.csrf %>"><label><%= it.partnerLabel %> <select name="counterparty" id="issue-partner"><% for (const p of it.partners) { %><option value="<%= p.id %>"><%= p.name %></option><% } %></select></label><button type="submit" id="issue-submit"><%= it.issueSubmit %></button></form>
<h2><%= it.statementsTitle %></h2>
<% if (it.none !== null) { %><p><%= it.none %></p><% } else { %><table><thead><tr><% for (const h of it.head) { %><th><%= h %></th><% } %></tr></thead><tbody>
<% for (const s of it.statements) { %><tr><td><a href="<%= s.href %>"><%= s.id %></a></td><td><%= s.role %></td><td><%= s.partner %></td><td><%= s.status %></td><td><%= s.lines %></td><td><%= s.total %></td><td><%= s.time %></td></tr>
<% } %></tbody></table><% } %>
<h2><%= it.exportTitle %></h2>
<p><a href="/console/settlement/export/csv" download><%= it.csv %></a> · <a href="/console/settlement/export/json" download><%= it.json %></a></p>`,
)

const statementTemplate = htmlTemplate<{
  title: string
  facts: Html
  csrf: string
  ref: string
  canAccept: boolean
  canPay: boolean
  canConfirm: boolean
  head: string[]
  lines: { receipt: string; short: string; order: string; fulfiller: string; amount: string; time: string; disputed: string | null }[]
  mismatches: string[]
  reasons: { value: string; label: string }[]
  t: Record<'accept' | 'acceptIntro' | 'reason' | 'note' | 'pay' | 'payIntro' | 'reference' | 'confirm' | 'confirmIntro' | 'back', string>
}>(
  'console-statement',
  `<p><a href="/console/settlement"><%= it.t.back %></a></p>
<h1><%= it.title %></h1>
<%~ it.facts %>
<% for (const m of it.mismatches) { %><p class="bad"><%= m %></p><% } %>
<% if (it.canAccept) { %><form method="post" action="/console/settlement/accept"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="ref" value="<%= it.ref %>"><p><%= it.t.acceptIntro %></p><% } %>
<table><thead><tr><% for (const h of it.head) { %><th><%= h %></th><% } %></tr></thead><tbody>
<% for (const l of it.lines) { %><tr><td title="<%= l.receipt %>"><%= l.short %></td><td><%= l.order %></td><td><%= l.fulfiller %></td><td><%= l.amount %></td><td><%= l.time %></td><td><% if (it.canAccept) { %><input type="checkbox" name="dispute" value="<%= l.receipt %>" aria-label="<%= l.order %>"><% } else if (l.disputed !== null) { %><span class="bad"><%= l.disputed %></span><% } %></td></tr>
<% } %></tbody></table>
<% if (it.canAccept) { %><p><label><%= it.t.reason %> <select name="reason" id="dispute-reason"><% for (const r of it.reasons) { %><option value="<%= r.value %>"><%= r.label %></option><% } %></select></label></p><p><label><%= it.t.note %> <input name="note" id="dispute-note" maxlength="500"></label></p><p><button type="submit" id="accept-submit"><%= it.t.accept %></button></p></form><% } %>
<% if (it.canPay) { %><h2><%= it.t.pay %></h2><p><%= it.t.payIntro %></p><form class="row" method="post" action="/console/settlement/pay"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="ref" value="<%= it.ref %>"><label><%= it.t.reference %> <input name="reference" id="pay-reference" required maxlength="200"></label><button type="submit" id="pay-submit"><%= it.t.pay %></button></form><% } %>
<% if (it.canConfirm) { %><h2><%= it.t.confirm %></h2><p><%= it.t.confirmIntro %></p><form method="post" action="/console/settlement/confirm"><input type="hidden" name="csrf" value="<%= it.csrf %>"><input type="hidden" name="ref" value="<%= it.ref %>"><button type="submit" id="confirm-submit"><%= it.t.confirm %></button></form><% } %>`,
)
