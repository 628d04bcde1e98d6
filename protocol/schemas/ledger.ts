// Settlement documents (docs/design.md §7). Amounts are integer minor units; totals are per currency.
import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { Currency, Hash, Id, MinorUnits, Money, ShopId, Text, TimeMs } from './primitives.js'

/**
 * fee: the origin owes the fulfiller for delivering on its behalf.
 * proceeds: the fulfiller owes the origin money it collected for the origin's keys.
 */
export const LedgerKind = z.enum(['fee', 'proceeds'])
export type LedgerKind = z.infer<typeof LedgerKind>

/** One side of a double entry: `debtor` owes `creditor` `amount` because of `receipt`. */
export const LedgerLine = z.strictObject({
  receipt: Hash,
  kind: LedgerKind,
  origin: ShopId,
  order: Id,
  debtor: ShopId,
  creditor: ShopId,
  amount: Money,
  time: TimeMs,
  terms: Hash,
})
export type LedgerLine = z.infer<typeof LedgerLine>

export const Period = z
  .strictObject({ fromMs: TimeMs, toMs: TimeMs })
  .refine((p) => p.toMs > p.fromMs, { message: 'must be later than fromMs', path: ['toMs'] })
export type Period = z.infer<typeof Period>

/** Lines one statement may carry; a longer period is stated in several statements. */
export const MAX_STATEMENT_LINES = LIMITS.maxStatementLines

/** One fee line of a statement: `fulfiller` (the issuer) delivered `order` for `origin`. */
export const StatementLine = z.strictObject({
  receipt: Hash,
  origin: ShopId,
  order: Id,
  fulfiller: ShopId,
  minorUnits: MinorUnits,
  time: TimeMs,
})
export type StatementLine = z.infer<typeof StatementLine>

/**
 * What the counterparty owes the issuer for the receipts listed, in one currency. Statements are
 * one-directional (issuer = creditor); each side states what it is owed and balances net out.
 */
export const Statement = z
  .strictObject({
    id: Id,
    issuer: ShopId,
    counterparty: ShopId,
    currency: Currency,
    terms: Hash,
    period: Period,
    lines: z.array(StatementLine).min(1).max(MAX_STATEMENT_LINES),
    totalMinorUnits: MinorUnits,
    time: TimeMs,
  })
  .refine((s) => s.lines.reduce((n, l) => n + l.minorUnits, 0) === s.totalMinorUnits, { message: 'must equal the sum of the lines', path: ['totalMinorUnits'] })
  .refine((s) => new Set(s.lines.map((l) => l.receipt)).size === s.lines.length, { message: 'a receipt appears twice', path: ['lines'] })
export type Statement = z.infer<typeof Statement>

export const DisputeReason = z.enum([
  'already-delivered-by-origin',
  'outside-terms-limits',
  'unknown-order',
  'unknown-receipt',
  'wrong-amount',
  'duplicate',
  /** The origin held a quorum of leases when a certificate with stale votes reached it (see README). */
  'contested-takeover',
  'other',
])
export type DisputeReason = z.infer<typeof DisputeReason>

export const DisputedLine = z.strictObject({ receipt: Hash, reason: DisputeReason, note: Text })
export type DisputedLine = z.infer<typeof DisputedLine>
