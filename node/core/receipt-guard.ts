// The origin's judgement of partners' receipts for its own orders (DESIGN.md §2 invariants 1 and
// 6, §4 "a node refuses any action the terms do not allow", §7). A receipt is only its fulfiller's
// signed word; the origin alone knows what it escrowed and consigned, so it checks:
//  - forged: the order, its sku, quantity or amount differ from what we escrowed; a key is not one
//    we consigned to this fulfiller, or was already delivered or returned; or this fulfiller
//    already has a receipt for the order. Refused: nothing is stored, booked, counted or written
//    back to the shop (the signed entry carrying it stays in the feed as evidence).
//  - over the limits: a real delivery beyond the terms' orders or value per outage (per fulfiller
//    and epoch) or per hour. Applied, since the buyer has the key and the shop must hear of it, but
//    its fee line is booked disputed ('outside-terms-limits'): never owed without a dispute.
import { type Receipt, type ShopId } from '../../protocol/index.js'
import type { KeyRow } from './allotments.js'
import type { ApplyBatch } from './apply.js'
import type { OrderRow } from './escrow.js'
import type { Federation } from './federation.js'
import { receiptKey, type ReceiptRow } from './fulfilment.js'
import { orderKey, prefixRange } from './keys.js'
import type { Store } from './ports.js'

export type ReceiptVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'over-limit'; readonly reason: string }
  | { readonly kind: 'forged'; readonly reason: string }

const HOUR_MS = 3_600_000

/** One fulfiller's deliveries in one outage (epoch): for the per-outage and per-hour limits. */
interface Tally {
  orders: number
  value: number
  /** Receipt times and values, sorted by time. */
  readonly hour: { at: number; value: number }[]
}

/** What earlier receipts of the batch being applied did, before it is durable. */
interface Staged {
  readonly keys: Set<string>
  readonly orders: Set<string>
  readonly tallies: Map<string, Tally>
}

export class ReceiptGuard {
  private loading: Promise<Map<string, Tally>> | null = null
  private tallies: Map<string, Tally> | null = null
  private readonly staged = new WeakMap<ApplyBatch, Staged>()

  constructor(private readonly deps: { readonly me: ShopId; readonly store: Store; readonly federation: Federation }) {}

  async judge(fulfiller: ShopId, receipt: Receipt, batch: ApplyBatch): Promise<ReceiptVerdict> {
    const { me, store } = this.deps
    const staged = this.stagedOf(batch)
    const key = orderKey(me, receipt.order)
    if (!batch.rows.has(key)) batch.rows.set(key, (await store.get<OrderRow>('orders', key)) ?? null)
    const escrowed = batch.rows.get(key)?.record
    if (!escrowed) return forged('names an order we never escrowed')
    if (escrowed.sku !== receipt.sku || escrowed.qty !== receipt.keyIds.length || escrowed.amount.minorUnits !== receipt.amount.minorUnits || escrowed.amount.currency !== receipt.amount.currency)
      return forged('does not match the escrowed order (sku, quantity or amount)')
    const identity = `${receipt.order}!${fulfiller}`
    if (staged.orders.has(identity) || (await store.get('receipts', receiptKey(me, receipt.order, fulfiller))) !== undefined)
      return forged('this fulfiller already has a receipt for the order')
    const keys = await store.getMany<KeyRow>('keys', receipt.keyIds.map((id) => `${me}!${id}`))
    if (keys.some((k) => !k || k.holder !== fulfiller || k.sku !== receipt.sku || k.state !== 'consigned' || staged.keys.has(k.keyId)))
      return forged('names keys not consigned to this fulfiller, or already delivered or returned')
    staged.orders.add(identity)
    for (const id of receipt.keyIds) staged.keys.add(id)
    return this.countAgainstLimits(fulfiller, receipt, staged)
  }

  private async countAgainstLimits(fulfiller: ShopId, receipt: Receipt, staged: Staged): Promise<ReceiptVerdict> {
    const terms = this.deps.federation.termsFor(receipt.terms)
    if (!terms) return { kind: 'ok' } // booking refuses it as a conflict, with the reason logged
    const value = receipt.amount.currency === terms.settlement.currency ? receipt.amount.minorUnits : 0
    const tally = await this.tallyOf(`${fulfiller}!${receipt.epoch}`, staged)
    const inHour = tally.hour.slice(firstAfter(tally.hour, receipt.time - HOUR_MS), firstAfter(tally.hour, receipt.time))
    const hourValue = inHour.reduce((n, h) => n + h.value, 0)
    const limits = terms.limits
    const over =
      tally.orders + 1 > limits.maxOrdersPerOutage ? 'orders per outage'
        : tally.value + value > limits.maxValuePerOutage.minorUnits ? 'value per outage'
          : inHour.length + 1 > limits.maxOrdersPerHour ? 'orders per hour'
            : hourValue + value > limits.maxValuePerHour.minorUnits ? 'value per hour'
              : null
    tally.orders++
    tally.value += value
    tally.hour.splice(firstAfter(tally.hour, receipt.time), 0, { at: receipt.time, value })
    return over === null ? { kind: 'ok' } : { kind: 'over-limit', reason: `beyond the terms' ${over}` }
  }

  private stagedOf(batch: ApplyBatch): Staged {
    let staged = this.staged.get(batch)
    if (!staged) {
      const fresh: Staged = { keys: new Set(), orders: new Set(), tallies: new Map() }
      this.staged.set(batch, (staged = fresh))
      // Counted for good only once the batch is durable (tallies staged means they were loaded).
      batch.afterCommit.push(() => {
        for (const [k, t] of fresh.tallies) this.tallies?.set(k, t)
      })
    }
    return staged
  }

  private async tallyOf(key: string, staged: Staged): Promise<Tally> {
    let tally = staged.tallies.get(key)
    if (!tally) {
      const held = (await this.committed()).get(key)
      tally = { orders: held?.orders ?? 0, value: held?.value ?? 0, hour: [...(held?.hour ?? [])] }
      staged.tallies.set(key, tally)
    }
    return tally
  }

  /** Tallies of the receipts we hold, built once from the store on first use. */
  private committed(): Promise<Map<string, Tally>> {
    this.loading ??= (async () => {
      const tallies = new Map<string, Tally>()
      for await (const [, row] of this.deps.store.range<ReceiptRow>('receipts', prefixRange(this.deps.me))) {
        const key = `${row.fulfiller}!${row.receipt.epoch}`
        const tally = tallies.get(key) ?? { orders: 0, value: 0, hour: [] }
        tallies.set(key, tally)
        const terms = this.deps.federation.termsFor(row.receipt.terms)
        const value = row.receipt.amount.currency === terms?.settlement.currency ? row.receipt.amount.minorUnits : 0
        tally.orders++
        tally.value += value
        tally.hour.push({ at: row.receipt.time, value })
      }
      for (const tally of tallies.values()) tally.hour.sort((x, y) => x.at - y.at)
      this.tallies = tallies
      return tallies
    })()
    return this.loading
  }
}

function forged(reason: string): ReceiptVerdict {
  return { kind: 'forged', reason }
}

/** Index of the first entry with time > `time` in a list sorted by time. */
function firstAfter(list: readonly { at: number }[], time: number): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((list[mid] as { at: number }).at <= time) lo = mid + 1
    else hi = mid
  }
  return lo
}
