// Which of our orders no partner could serve if our shop went down now (issue 19, D68): the terms
// do not cover the sku, or no partner holds enough unused keys of it. Such an order is escrowed all
// the same (it is paid, and the shop may still deliver it), but the operator hears at once: in the
// adapter's reply, the log, an alert and `standin status`, so keys can be consigned before an outage.
import type { ShopId, UnservedOrder, UnservedReason } from '../../protocol/index.js'
import type { Federation } from './federation.js'
import type { Keys } from './state/keys.js'

/** Flagged orders `standin status` lists (the newest); all are counted. */
export const MAX_UNSERVED_LISTED = 20
/** Order ids one alert event names; the rest are counted. */
export const MAX_UNSERVED_PER_EVENT = 10

export class Coverage {
  private count = 0
  private readonly recent: UnservedOrder[] = []

  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly federation: Federation
      readonly keys: Keys
    },
  ) {}

  /** Why no partner could serve `qty` keys of our `sku` now, or null when one holds enough. */
  reasonFor(sku: string, qty: number): UnservedReason | null {
    const { me, federation, keys } = this.deps
    if (!federation.terms.skus.some((s) => s.shop === me && s.sku === sku)) return 'sku-not-in-terms'
    // A holder delivers an order whole, from its own keys: one of them must hold qty.
    return federation.partners.some((p) => keys.outstanding(me, sku, p) >= qty) ? null : 'no-partner-holds-enough'
  }

  /** Orders just flagged, for status (counted since the node started; the newest listed). */
  record(orders: readonly UnservedOrder[]): void {
    this.count += orders.length
    this.recent.push(...orders)
    if (this.recent.length > MAX_UNSERVED_LISTED) this.recent.splice(0, this.recent.length - MAX_UNSERVED_LISTED)
  }

  view(): { count: number; recent: UnservedOrder[] } {
    return { count: this.count, recent: [...this.recent] }
  }
}

/** The flagged orders of one batch by sku and reason: one alert each. */
export function bySku(orders: readonly UnservedOrder[]): { sku: string; reason: UnservedReason; orders: string[]; count: number }[] {
  const groups = new Map<string, { sku: string; reason: UnservedReason; orders: string[]; count: number }>()
  for (const o of orders) {
    const key = `${o.sku}\u0000${o.reason}`
    const group = groups.get(key) ?? { sku: o.sku, reason: o.reason, orders: [], count: 0 }
    group.count++
    if (group.orders.length < MAX_UNSERVED_PER_EVENT) group.orders.push(o.order)
    groups.set(key, group)
  }
  return [...groups.values()]
}
