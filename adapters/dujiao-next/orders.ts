// How a Dujiao-Next child order becomes what the node is told. Pure functions: the bridge decides
// with these, then does the I/O.
//
//   child order `paid`, one automatic item, no fulfillment        → escrow, once
//   after escrow: a fulfillment row, or status delivered/completed → `delivered` tombstone
//   after escrow: canceled, refunded, back to unpaid, or deleted   → `cancelled` tombstone
//   parents, manual items, served or unpaid orders                 → nothing
import { AdapterOrder, formatZodError, type Locale } from '../../protocol/index.js'
import { claimSecret, emailOf } from '../shop-db/buyer.js'
import type { Action, Mapped } from '../shop-db/order-report.js'
import { decimalToMinorUnits } from '../shop-db/money.js'
import { FULFILLMENT, ORDER_STATUS, type OrderRow, type OrderState, skuOf } from './schema.js'

const NONE: Action = { kind: 'none' }

const SERVED: readonly string[] = [ORDER_STATUS.delivered, ORDER_STATUS.completed, ORDER_STATUS.partiallyDelivered]
const ENDED: readonly string[] = [ORDER_STATUS.canceled, ORDER_STATUS.refunded, ORDER_STATUS.partiallyRefunded, ORDER_STATUS.pendingPayment]

/** Paid, one automatic item, and no fulfillment: Dujiao-Next has not served it (its worker is down, or delivery failed). */
export function stranded(row: OrderRow): boolean {
  return !row.deleted && row.status === ORDER_STATUS.paid && row.items === 1 && row.item_type === FULFILLMENT.auto && row.fulfillment_type === null
}

/** What to tell the node about `row`, given what we told it before (its state in standin_orders). */
export function decide(row: OrderRow, known: OrderState | undefined): Action {
  const told = known === 'submitting' || known === 'escrowed'
  if (stranded(row)) return known === undefined || known === 'submitting' ? { kind: 'escrow' } : NONE
  if (!told) return NONE
  if (row.deleted) return { kind: 'cancelled', reason: 'order deleted in Dujiao-Next' }
  if (row.fulfillment_type !== null || SERVED.includes(row.status)) return { kind: 'delivered' }
  if (ENDED.includes(row.status)) return { kind: 'cancelled', reason: `Dujiao-Next order ${row.status}` }
  return NONE
}

export interface OrderMapping {
  readonly minorDigits: number
  readonly locale: Locale
  readonly claimKey: string
}

/** The escrow record of a stranded child order; `paidAtMs` already capped at our clock. */
export function toAdapterOrder(row: OrderRow, paidAtMs: number, mapping: OrderMapping): Mapped {
  const notes: string[] = []
  let minorUnits: number
  try {
    minorUnits = decimalToMinorUnits(row.total_amount, mapping.minorDigits)
  } catch (error) {
    return { ok: false, reason: `total_amount: ${error instanceof Error ? error.message : String(error)}` }
  }
  const { email } = emailOf(row.email)
  if (email === null) notes.push('no email address: the buyer can only use the claim page')
  // The buyer looks a guest order up with the parent's order number, email and password.
  const claim = claimSecret(row.password, mapping.claimKey, 'dujiao-next', row.order_no)
  if (claim.derived) notes.push('no order password: derived claim secret, the buyer gets the key by email only')
  const parsed = AdapterOrder.safeParse({
    order: row.order_no,
    sku: skuOf(row.product_id ?? '', row.sku_id ?? ''),
    qty: row.quantity,
    amount: { minorUnits, currency: row.currency },
    paidAt: paidAtMs,
    buyer: { email, locale: mapping.locale },
    claimSecret: claim.secret,
  })
  if (!parsed.success) return { ok: false, reason: formatZodError(parsed.error) }
  return { ok: true, order: parsed.data, notes }
}
