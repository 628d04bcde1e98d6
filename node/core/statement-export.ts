// Statement exports for accountants: CSV and JSON with a stable column order, minor units and a
// decimal column, receipt and order ids, times in ISO 8601 UTC. The totals row equals the
// statement's total by construction (it is summed from the same lines).
import { formatMinorUnits } from '../../protocol/index.js'
import type { BookLine, StatementState } from './state/ledger.js'

export const EXPORT_COLUMNS = [
  'statement_id',
  'statement_hash',
  'status',
  'issuer',
  'counterparty',
  'receipt',
  'origin',
  'order',
  'fulfiller',
  'kind',
  'currency',
  'amount_minor_units',
  'amount',
  'delivered_at_utc',
  'line_status',
  'dispute_reason',
] as const

export interface ExportRow {
  readonly [column: string]: string | number
}

function csvCell(value: string | number): string {
  const text = String(value)
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** Rows of one statement; `lineStatus` gives each receipt's status in our books. */
export function statementRows(state: StatementState, lineStatus: (receipt: string) => string): ExportRow[] {
  const s = state.statement
  const disputes = new Map(state.disputed.map((d) => [d.receipt, d.reason]))
  return s.lines.map((l) => ({
    statement_id: s.id,
    statement_hash: state.hash,
    status: state.status,
    issuer: s.issuer,
    counterparty: s.counterparty,
    receipt: l.receipt,
    origin: l.origin,
    order: l.order,
    fulfiller: l.fulfiller,
    kind: 'fee',
    currency: s.currency,
    amount_minor_units: l.minorUnits,
    amount: formatMinorUnits(l.minorUnits),
    delivered_at_utc: new Date(l.time).toISOString(),
    line_status: lineStatus(l.receipt),
    dispute_reason: disputes.get(l.receipt) ?? '',
  }))
}

export function totalsOf(rows: readonly ExportRow[]): Record<string, number> {
  const totals: Record<string, number> = {}
  for (const row of rows) totals[row.currency as string] = (totals[row.currency as string] ?? 0) + (row.amount_minor_units as number)
  return totals
}

export function toCsv(rows: readonly ExportRow[]): string {
  const lines = [EXPORT_COLUMNS.join(',')]
  for (const row of rows) lines.push(EXPORT_COLUMNS.map((c) => csvCell(row[c] ?? '')).join(','))
  for (const [currency, minor] of Object.entries(totalsOf(rows))) {
    lines.push(
      EXPORT_COLUMNS.map((c) =>
        c === 'statement_id'
          ? 'TOTAL'
          : c === 'currency'
            ? currency
            : c === 'amount_minor_units'
              ? String(minor)
              : c === 'amount'
                ? formatMinorUnits(minor)
                : '',
      ).join(','),
    )
  }
  return `${lines.join('\n')}\n`
}

export function toJson(rows: readonly ExportRow[]): string {
  return `${JSON.stringify({ columns: EXPORT_COLUMNS, rows, totals: Object.entries(totalsOf(rows)).map(([currency, minorUnits]) => ({ currency, minorUnits, amount: formatMinorUnits(minorUnits) })) }, null, 2)}\n`
}

export function lineStatusOf(books: readonly (BookLine | undefined)[]): (receipt: string) => string {
  const map = new Map(books.filter((b): b is BookLine => b !== undefined).map((b) => [b.line.receipt, b.status]))
  return (receipt) => map.get(receipt) ?? 'unknown'
}
