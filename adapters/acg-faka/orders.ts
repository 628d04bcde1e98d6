// How an acg-faka order becomes what the node is told. Pure functions: the bridge decides with
// these, then does the I/O.
//
//   paid automatic order with fewer cards than bought, its text the apology (or empty) → escrow, once
//   after escrow: cards attached, or its text changed by a person        → `delivered` tombstone
//   after escrow: set back to unpaid, or the row deleted                 → `cancelled` tombstone
//   manual goods (delivery_way 1), orders already served, unpaid ones    → nothing
import { AdapterOrder, formatZodError, type Locale } from '../../protocol/index.js'
import type { MoneyConfig } from '../shop-db/config.js'
import { claimSecret, emailOf } from '../shop-db/buyer.js'
import { sha256Hex } from '../mysql/hand-delivered.js'
import { decimalToMinorUnits } from '../shop-db/money.js'
import type { Action, Mapped } from '../shop-db/order-report.js'
import { APOLOGY_TEXT, DELIVERY_WAY, ORDER_STATUS, type OrderRow, type OrderState } from './schema.js'

const NONE: Action = { kind: 'none' }

/** What we recorded when we escrowed the order. */
export interface Known {
  readonly state: OrderState
  readonly secretSha: string | null
}

/** Paid, automatic, fewer cards attached than bought, and nothing a person wrote in its place. */
export function stranded(row: OrderRow): boolean {
  const text = (row.secret ?? '').trim()
  return row.status === ORDER_STATUS.paid && row.delivery_way === DELIVERY_WAY.automatic && row.cards < row.card_num && (text === '' || text === APOLOGY_TEXT)
}

/** What to tell the node about `row`, given what we told it before. */
export function decide(row: OrderRow, known: Known | undefined): Action {
  const told = known?.state === 'submitting' || known?.state === 'escrowed'
  if (stranded(row)) return known === undefined || known.state === 'submitting' ? { kind: 'escrow' } : NONE
  if (!told) return NONE
  if (row.status !== ORDER_STATUS.paid) return { kind: 'cancelled', reason: `acg-faka order set back to status ${row.status}` }
  if (row.cards >= row.card_num) return { kind: 'delivered' }
  if (known.secretSha !== null && sha256Hex(row.secret ?? '') !== known.secretSha) return { kind: 'delivered' }
  return NONE
}

export interface OrderMapping {
  readonly money: MoneyConfig
  readonly locale: Locale
  readonly claimKey: string
}

/**
 * The buyer's claim secret: acg-faka's order query password (`password`, when the commodity asks
 * for one); without one, derived from the order number (../shop-db/buyer.ts).
 */
export function claimSecretOf(row: OrderRow, claimKey: string): { secret: string; derived: boolean } {
  return claimSecret(row.password, claimKey, 'acg-faka', row.trade_no)
}

export function toAdapterOrder(row: OrderRow, paidAtMs: number, mapping: OrderMapping): Mapped {
  const notes: string[] = []
  let minorUnits: number
  try {
    minorUnits = decimalToMinorUnits(row.amount, mapping.money.minorDigits)
  } catch (error) {
    return { ok: false, reason: `amount: ${error instanceof Error ? error.message : String(error)}` }
  }
  // `contact` is whatever the commodity asked for (any, phone, email, QQ): an address only if it is one.
  const { email } = emailOf(row.contact)
  if (email === null) notes.push('contact is not an email address: the buyer can only use the claim page')
  const claim = claimSecretOf(row, mapping.claimKey)
  if (claim.derived) notes.push('no query password: derived claim secret, the buyer gets the key by email only')
  const parsed = AdapterOrder.safeParse({
    order: row.trade_no,
    sku: row.commodity_id,
    qty: row.card_num,
    amount: { minorUnits, currency: mapping.money.currency },
    paidAt: paidAtMs,
    buyer: { email, locale: mapping.locale },
    claimSecret: claim.secret,
  })
  if (!parsed.success) return { ok: false, reason: formatZodError(parsed.error) }
  return { ok: true, order: parsed.data, notes }
}
