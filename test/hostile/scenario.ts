// A small outage the settlement-facing hostile suites share: A consigns keys to its partners, takes
// orders, reports its platform down (its own signed takeover request, epoch 1), and the partners
// deliver. Plus readers for what a partner's hostile operator would find in its own store.
import type { AdapterOrder, Money, Receipt, Terms } from '../../protocol/index.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import { type BookLine, bookLineOf } from '../../node/core/state/ledger.js'
import type { ReceiptRow } from '../../node/core/state/receipts.js'
import { SimFederation, simOrder, type SimShop } from '../sim/sim-federation.js'
import { runFor } from './helpers.js'

export interface Outage {
  readonly sim: SimFederation
  readonly a: SimShop
  readonly b: SimShop
  readonly c: SimShop
  readonly orders: AdapterOrder[]
}

export interface OutageOptions {
  readonly seed: string
  readonly orders: number
  /** Keys A consigns to B and to C (0: that partner holds none and never fulfils). */
  readonly keys: { readonly B: number; readonly C: number }
  /** Every order's amount, in minor units (default: random). */
  readonly amount?: number
  readonly terms?: (terms: Terms) => Terms
}

export function order(sim: SimFederation, n: number, amount?: number): AdapterOrder {
  const o = simOrder(sim.prng, n)
  return amount === undefined ? o : { ...o, amount: { minorUnits: amount, currency: 'CNY' } }
}

/** Runs until the partners have delivered what they will; A's platform stays down. */
export async function outage(options: OutageOptions): Promise<Outage> {
  const sim = await SimFederation.create({ seed: options.seed, shops: 3, terms: options.terms })
  await sim.runUntil(600)
  const [a, b, c] = ['A', 'B', 'C'].map((n) => sim.shop(n)) as [SimShop, SimShop, SimShop]
  if (options.keys.B > 0) await a.engine.consign(b.identity.id, 'card-100', options.keys.B)
  if (options.keys.C > 0) await a.engine.consign(c.identity.id, 'card-100', options.keys.C)
  const orders = Array.from({ length: options.orders }, (_, i) => order(sim, i, options.amount))
  await a.engine.submitOrders(orders)
  await runFor(sim, 900)
  a.engine.reportPlatformHealth('down')
  await runFor(sim, 3_000)
  return { sim, a, b, c, orders }
}

/** Receipts `shop` wrote as fulfiller, from its own store. */
export async function ownReceipts(shop: SimShop): Promise<Receipt[]> {
  const out: Receipt[] = []
  for await (const [, row] of shop.store.range<ReceiptRow>('receipts', {})) if (row.fulfiller === shop.identity.id) out.push(row.receipt)
  return out
}

/** Consigned keys `shop` holds, by state, from its own store. */
export async function heldKeys(shop: SimShop, state: KeyRow['state'] = 'consigned'): Promise<KeyRow[]> {
  const out: KeyRow[] = []
  for await (const [, row] of shop.store.range<KeyRow>('keys', {})) if (row.holder === shop.identity.id && row.state === state) out.push(row)
  return out
}

/** Ledger lines `shop` books with `counterparty`, by receipt hash. */
export async function ledgerLines(shop: SimShop, counterparty: SimShop): Promise<BookLine[]> {
  const out: BookLine[] = []
  for await (const [key, row] of shop.store.range('ledger', { gt: `l!${counterparty.identity.id}!`, lt: `l!${counterparty.identity.id}!\xff` }))
    out.push(bookLineOf(key, row))
  return out
}

/** A receipt as a fulfiller writes them for A's order, delivering `key`, with `over` changed. */
export function receiptFor(o: Outage, key: KeyRow, order: { order: string; sku: string; amount: Money }, over: Partial<Receipt> = {}): Receipt {
  return {
    type: 'receipt',
    origin: o.a.identity.id,
    order: order.order,
    sku: order.sku,
    allotment: key.allotment,
    keyIds: [key.keyId],
    channel: 'email+claim-page',
    epoch: 1,
    time: o.sim.clock.now(),
    amount: order.amount,
    unitValue: key.unitValue,
    terms: o.a.engine.federation.termsHash,
    ...over,
  }
}
