// How a dujiaoka order becomes what the node is told. Pure functions: the bridge decides with
// these, then does the I/O.
//
//   status 2, 3, 6 (paid, not delivered)     → escrow (AdapterOrder), once; never manual goods (type 2)
//   status 4 (completed), after escrow        → `delivered` tombstone
//   status 5, -1, 1 or soft-deleted, after escrow → `cancelled` tombstone
//   an order a partner delivered (written back) → nothing: the node already knows
// Orders never escrowed need no tombstone (automatic sales complete at payment, 1 → 4).
import { AdapterOrder, formatZodError, type Locale } from '../../protocol/index.js'
import type { MoneyConfig } from '../shop-db/config.js'
import { claimSecret, emailOf } from '../shop-db/buyer.js'
import { decimalToMinorUnits } from '../shop-db/money.js'
import type { Action, Mapped } from '../shop-db/order-report.js'
import { MANUAL_TYPE, ORDER_STATUS, type OrderRow, type OrderState, PAID_WAITING } from './schema.js'

const NONE: Action = { kind: 'none' }

/** What to tell the node about `row`, given what we told it before (`state`, undefined if nothing). */
export function decide(row: OrderRow, state: OrderState | undefined): Action {
  const told = state === 'submitting' || state === 'escrowed'
  if (row.deleted_at !== null) return told ? { kind: 'cancelled', reason: 'order deleted in dujiaoka' } : NONE
  // Manual goods are never consigned, so no partner could serve the order, and its `info` is the
  // buyer's own input, which a write-back would overwrite: the shop keeps these orders.
  if (row.type === MANUAL_TYPE && !told) return NONE
  if (PAID_WAITING.has(row.status)) return state === undefined || state === 'submitting' ? { kind: 'escrow' } : NONE
  if (!told) return NONE
  if (row.status === ORDER_STATUS.completed) return { kind: 'delivered' }
  const reasons: Record<number, string> = {
    [ORDER_STATUS.failure]: 'dujiaoka order failed (status 5)',
    [ORDER_STATUS.expired]: 'dujiaoka order expired (status -1)',
    [ORDER_STATUS.waitPay]: 'dujiaoka order set back to waiting for payment (status 1)',
  }
  return { kind: 'cancelled', reason: reasons[row.status] ?? `dujiaoka order status ${row.status}` }
}

export interface OrderMapping {
  readonly money: MoneyConfig
  readonly locale: Locale
  /** Keys the derived claim secret of orders without a query password. */
  readonly claimKey: string
}

/**
 * The buyer's claim secret: dujiaoka's order-query password (`search_pwd`), which the buyer chose
 * at checkout; without one, derived from the order number (../shop-db/buyer.ts).
 */
export function claimSecretOf(row: OrderRow, claimKey: string): { secret: string; derived: boolean } {
  return claimSecret(row.search_pwd, claimKey, 'dujiaoka', row.order_sn)
}

/** The AdapterOrder for a paid row, or why there cannot be one (the bridge records it as invalid). */
export function toAdapterOrder(row: OrderRow, paidAtMs: number, mapping: OrderMapping): Mapped {
  const notes: string[] = []
  let minorUnits: number
  try {
    minorUnits = decimalToMinorUnits(row.actual_price, mapping.money.minorDigits)
  } catch (error) {
    return { ok: false, reason: `actual_price: ${error instanceof Error ? error.message : String(error)}` }
  }
  const { email, given } = emailOf(row.email)
  if (given && email === null) notes.push('email is not a valid address: the buyer can only use the claim page')
  const claim = claimSecretOf(row, mapping.claimKey)
  if (claim.derived) notes.push('no query password: derived claim secret, the buyer gets the key by email only')
  const candidate = {
    order: row.order_sn,
    sku: row.goods_id,
    qty: row.buy_amount,
    amount: { minorUnits, currency: mapping.money.currency },
    paidAt: paidAtMs,
    buyer: { email, locale: mapping.locale },
    claimSecret: claim.secret,
  }
  const parsed = AdapterOrder.safeParse(candidate)
  if (!parsed.success) return { ok: false, reason: formatZodError(parsed.error) }
  return { ok: true, order: parsed.data, notes }
}
