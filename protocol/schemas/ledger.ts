// Settlement documents (DESIGN.md §7). Amounts are integer minor units; totals are per currency.
import { z } from 'zod'
import { LIMITS } from '../limits.js'
import { Hash, Id, Money, ShopId, Text, TimeMs } from './primitives.js'

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

export const Statement = z.strictObject({
  id: Id,
  issuer: ShopId,
  counterparty: ShopId,
  terms: Hash,
  period: Period,
  lines: z.array(LedgerLine).max(LIMITS.maxStatementLines),
  /** Net per currency: positive when the counterparty owes the issuer. */
  totals: z.array(z.strictObject({ currency: z.string().regex(/^[A-Z]{3}$/), netMinorUnits: z.number().int().safe() })).max(32),
  time: TimeMs,
})
export type Statement = z.infer<typeof Statement>

export const DisputeReason = z.enum([
  'already-delivered-by-origin',
  'outside-terms-limits',
  'unknown-order',
  'unknown-receipt',
  'wrong-amount',
  'duplicate',
  'other',
])
export type DisputeReason = z.infer<typeof DisputeReason>

export const DisputedLine = z.strictObject({ receipt: Hash, reason: DisputeReason, note: Text })
export type DisputedLine = z.infer<typeof DisputedLine>
