// `standin settle …`: statements between partners, from the operator's side.
import { formatMinorUnits } from '../../protocol/index.js'
import type { StatementStateView } from '../core/api-schemas.js'
import { DataDir } from '../datadir.js'
import { admin, partnerId } from './local-commands.js'

type Summary = {
  hash: string
  id: string
  role: string
  status: string
  issuer: string
  counterparty: string
  currency: string
  lines: number
  totalMinorUnits: number
  disputedLines: number
  time: number
}
type Balance = { counterparty: string; currency: string; owedToUs: number; owedByUs: number; disputed: number; creditBlocked: boolean }

function names(dir: DataDir): (id: string) => string {
  const map = new Map(dir.cards().map((c) => [c.body.id, c.body.name]))
  return (id) => map.get(id) ?? id.slice(0, 12)
}

export async function balances(dirPath: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const name = names(dir)
  const { balances: rows } = await admin<{ balances: Balance[] }>(dir, '/v1/admin/balances')
  if (rows.length === 0) return 'no receipts booked yet'
  return rows
    .map(
      (b) =>
        `${name(b.counterparty)}: owes us ${formatMinorUnits(b.owedToUs)} ${b.currency}, we owe ${formatMinorUnits(b.owedByUs)} ${b.currency}, disputed ${formatMinorUnits(b.disputed)}${b.creditBlocked ? ' — CREDIT LIMIT: no new takeovers until settled' : ''}`,
    )
    .join('\n')
}

export async function listStatements(dirPath: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const name = names(dir)
  const { statements } = await admin<{ statements: Summary[] }>(dir, '/v1/admin/statements')
  if (statements.length === 0) return 'no statements'
  return statements
    .map(
      (s) =>
        `${s.id}  ${s.hash.slice(0, 12)}  ${s.role === 'issued' ? `to ${name(s.counterparty)}` : `from ${name(s.issuer)}`}  ${s.lines} lines  ${formatMinorUnits(s.totalMinorUnits)} ${s.currency}  ${s.status}${s.disputedLines ? ` (${s.disputedLines} disputed)` : ''}`,
    )
    .join('\n')
}

export function renderStatement(state: StatementStateView, name: (id: string) => string): string {
  const s = state.statement
  const out = [
    `STATEMENT ${s.id} (${state.hash.slice(0, 12)}) — ${name(s.counterparty)} owes ${name(s.issuer)} — ${state.status}`,
    `  period ${new Date(s.period.fromMs).toISOString()} → ${new Date(s.period.toMs).toISOString()}, ${s.lines.length} receipts`,
    ...s.lines
      .slice(0, 20)
      .map(
        (l) => `  ${new Date(l.time).toISOString()}  order ${l.order}  fee ${formatMinorUnits(l.minorUnits)} ${s.currency}  receipt ${l.receipt.slice(0, 10)}`,
      ),
    ...(s.lines.length > 20 ? [`  … ${s.lines.length - 20} more`] : []),
    `  TOTAL ${formatMinorUnits(s.totalMinorUnits)} ${s.currency}${state.acceptedMinorUnits !== null ? `, accepted ${formatMinorUnits(state.acceptedMinorUnits)}` : ''}`,
    ...state.disputed.map((d) => `  DISPUTED ${d.receipt.slice(0, 10)}: ${d.reason} ${d.note}`),
    ...state.mismatches.map((m) => `  DOES NOT MATCH OUR BOOKS ${m.receipt.slice(0, 10)}: ${m.reason} (dispute it)`),
    ...(state.payment ? [`  paid: ${formatMinorUnits(state.payment.minorUnits)} ${s.currency}, reference ${state.payment.reference}`] : []),
  ]
  return out.join('\n')
}

export async function showStatement(dirPath: string, ref: string): Promise<string> {
  const dir = new DataDir(dirPath)
  return renderStatement(await admin<StatementStateView>(dir, `/v1/admin/statements/${encodeURIComponent(ref)}`), names(dir))
}

export async function issueStatement(dirPath: string, partner: string): Promise<string> {
  const dir = new DataDir(dirPath)
  const reply = await admin<{ issued: boolean; statement: StatementStateView | null }>(dir, '/v1/admin/statements', { counterparty: partnerId(dir, partner) })
  return reply.statement ? renderStatement(reply.statement, names(dir)) : `${partner} owes us nothing that is not already on a statement`
}

/** Shortest receipt prefix a dispute may name (statements print 10 characters). */
export const MIN_RECEIPT_PREFIX = 8

/**
 * `--dispute <receipt>:<reason>[:note]` against the statement's lines: the receipt may be a
 * prefix, but of exactly one line. A prefix matching several (or an empty one) would dispute the
 * first and let the line meant be accepted and paid.
 */
export function resolveDisputes(lines: readonly { receipt: string }[], disputes: readonly string[]): { receipt: string; reason: string; note: string }[] {
  return disputes.map((d) => {
    const [receipt = '', reason = 'other', ...note] = d.split(':')
    if (receipt.length < MIN_RECEIPT_PREFIX) throw new Error(`--dispute ${d}: receipt: give at least ${MIN_RECEIPT_PREFIX} characters of the receipt id`)
    const matches = lines.filter((l) => l.receipt.startsWith(receipt))
    if (matches.length !== 1) {
      const which = matches.length === 0 ? 'no line' : `${matches.length} lines (${matches.map((l) => l.receipt.slice(0, 16)).join(', ')}); give more of it`
      throw new Error(`--dispute ${d}: receipt: ${receipt} matches ${which} of this statement`)
    }
    return { receipt: matches[0]!.receipt, reason, note: note.join(':') }
  })
}

/** `--dispute <receipt>:<reason>[:note]`, repeatable. */
export async function acceptStatement(dirPath: string, ref: string, disputes: string[]): Promise<string> {
  const dir = new DataDir(dirPath)
  const full = await admin<StatementStateView>(dir, `/v1/admin/statements/${encodeURIComponent(ref)}`)
  const resolved = resolveDisputes(full.statement.lines, disputes)
  return renderStatement(await admin<StatementStateView>(dir, `/v1/admin/statements/${encodeURIComponent(ref)}/accept`, { disputes: resolved }), names(dir))
}

export async function payStatement(dirPath: string, ref: string, reference: string): Promise<string> {
  const dir = new DataDir(dirPath)
  return renderStatement(await admin<StatementStateView>(dir, `/v1/admin/statements/${encodeURIComponent(ref)}/pay`, { reference }), names(dir))
}

export async function confirmStatement(dirPath: string, ref: string): Promise<string> {
  const dir = new DataDir(dirPath)
  return renderStatement(await admin<StatementStateView>(dir, `/v1/admin/statements/${encodeURIComponent(ref)}/confirm`, {}), names(dir))
}

export async function exportStatements(dirPath: string, o: { format: string; statement?: string; from?: string; to?: string }): Promise<string> {
  const query = new URLSearchParams({ format: o.format })
  if (o.statement) query.set('statement', o.statement)
  if (o.from) query.set('fromMs', String(Date.parse(o.from)))
  if (o.to) query.set('toMs', String(Date.parse(o.to)))
  const body = await admin<unknown>(new DataDir(dirPath), `/v1/admin/export?${query.toString()}`)
  return typeof body === 'string' ? body.trimEnd() : JSON.stringify(body, null, 2)
}
