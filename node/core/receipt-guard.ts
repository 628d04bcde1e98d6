// Judging a partner's receipt for an origin's order, at the origin and at every co-partner
// (docs/design.md §2, invariants 1, 3, 6 and 8). A receipt is only its fulfiller's signed word; it is taken
// only under an authority this node adopted for the receipt's epoch (state/authorities.ts):
//  - hold: no authority for its epoch yet, or it is dated before the authority we know began
//    (written before any takeover: "fees for nothing"); at a co-partner also when the order's or
//    the keys' records have not reached us yet. Nothing changes; it is judged again when the
//    epoch is adopted, or an authority for it that began earlier reaches us, or the records it
//    waits for arrive, or the origin acknowledges it.
//  - refuse: dated in the future; at the origin also whatever does not match what it escrowed and
//    consigned (order, sku, quantity, amount; keys consigned to this fulfiller and unused; one
//    receipt per fulfiller and order); at a co-partner, a fulfiller never consigned keys of the
//    sku. Nothing is stored, booked, counted or written back; the signed entry stays as evidence
//    and the refusal is listed for the operator.
//  - take: applied. At the origin its fee is booked disputed when the delivery was beyond the
//    terms' limits per outage (epoch) or per hour, or when the order was no longer pending (the
//    origin delivered or cancelled it itself, or another partner delivered it first), or when the
//    origin contests the takeover (failover.ts): the buyer has the key and the shop must hear of
//    it, but it is never owed without a dispute.
import type { DisputeReason, Receipt, ShopId } from '../../protocol/index.js'
import type { Federation } from './federation.js'
import type { Clock } from './ports.js'
import type { State } from './state/index.js'
import type { KeyRow, PeerKeyRow } from './state/keys.js'
import type { OrderRow } from './state/orders.js'
import type { ReceiptRow } from './state/receipts.js'
import type { Tx } from './state/tx.js'
import { HOUR_MS } from './limits.js'

/** The reason a co-partner holds a receipt whose keys' consignment has not reached it yet. */
export const KEYS_NOT_SEEN = 'names keys we have not seen consigned'
/** The reason a co-partner holds a receipt for an order whose escrow record has not reached it yet. */
export const ORDER_NOT_SEEN = 'names an order we have not seen escrowed'

export type ReceiptVerdict =
  | {
      readonly kind: 'take'
      readonly dispute: DisputeReason | null
      /** At the origin: its rows of the keys named. */
      readonly keys: readonly KeyRow[]
      /** At a co-partner: what it knows of the keys named. */
      readonly peerKeys: readonly { keyId: string; row: PeerKeyRow }[]
      readonly row: OrderRow | undefined
      readonly acked: boolean
    }
  | { readonly kind: 'hold'; readonly reason: string }
  | { readonly kind: 'refuse'; readonly reason: string }

/** One fulfiller's deliveries in one outage (epoch): for the per-outage and per-hour limits. */
interface Tally {
  orders: number
  value: number
  /** Receipt times and values, sorted by time. */
  readonly hour: { at: number; value: number }[]
}

/** What earlier receipts of the unit being applied did, before it is durable. */
interface Staged {
  readonly keys: Set<string>
  readonly orders: Set<string>
  readonly tallies: Map<string, Tally>
}

export class ReceiptGuard {
  private loading: Promise<Map<string, Tally>> | null = null
  private tallies: Map<string, Tally> | null = null
  private readonly staged = new WeakMap<Tx, Staged>()

  constructor(private readonly deps: { readonly me: ShopId; readonly state: State; readonly federation: Federation; readonly clock: Clock }) {}

  /**
   * `arrivedAt`: when the receipt first reached us (our clock): a receipt is never dated further
   * ahead of that than clocks and the network allow.
   */
  async judge(tx: Tx, fulfiller: ShopId, receipt: Receipt, arrivedAt: number): Promise<ReceiptVerdict> {
    const { me, state } = this.deps
    const timing = this.deps.federation.terms.timing
    const origin = receipt.origin
    if (fulfiller === origin) return refuse('an origin does not write receipts for its own orders')
    if (origin !== me && !this.deps.federation.isPartner(origin)) return refuse('names a shop that is not a party')
    if (receipt.time > arrivedAt + timing.maxClockSkewMs + timing.maxMessageDelayMs) return refuse(`dated ${receipt.time - arrivedAt} ms ahead of its arrival`)
    const row = await state.orders.get(origin, receipt.order, tx)
    const authority = state.authorities.get(origin, receipt.epoch, tx)
    // The origin acknowledged it (handback or receipt.ack): its own word about its own order.
    const acked = origin !== me && row?.state === 'delivered' && row.fulfiller === fulfiller
    if (!authority && !acked) return { kind: 'hold', reason: `no adopted authority for epoch ${receipt.epoch} of this origin` }
    // Held, not refused: another authority for the epoch may yet show it began earlier.
    if (authority && receipt.time < authority.startsAt - timing.maxClockSkewMs)
      return { kind: 'hold', reason: `dated before the authority for epoch ${receipt.epoch} began` }
    if (origin !== me) return this.judgeAtCoPartner(tx, fulfiller, receipt, row, acked)
    return this.judgeAtOrigin(tx, fulfiller, receipt, row, authority?.contested === true)
  }

  /**
   * Reads into `tx`, one store read per section and origin, the rows that judging `receipts` (all
   * written by `fulfiller`) reads one receipt at a time; `judge` then finds them in the unit. A
   * fulfiller's entry can carry a thousand receipts, and a read of one row costs as much as a read
   * of many (a trip to LevelDB's thread pool: ≈35 µs of CPU on its own, far more on a loaded node).
   * Only origins `judge` would look at are read.
   */
  async prefetch(tx: Tx, fulfiller: ShopId, receipts: readonly Receipt[]): Promise<void> {
    const { me, state } = this.deps
    const byOrigin = new Map<ShopId, Receipt[]>()
    for (const receipt of receipts) {
      const origin = receipt.origin
      if (origin === fulfiller || (origin !== me && !this.deps.federation.isPartner(origin))) continue
      const list = byOrigin.get(origin)
      if (list) list.push(receipt)
      else byOrigin.set(origin, [receipt])
    }
    for (const [origin, list] of byOrigin) {
      const orders = list.map((r) => r.order)
      const keyIds = list.flatMap((r) => r.keyIds)
      await state.orders.getMany(origin, orders, tx)
      if (origin === me) {
        await state.receipts.getMany(me, orders, fulfiller, tx)
        await state.keys.getMany(me, keyIds, tx)
      } else await state.keys.peerKeys(origin, keyIds, tx)
    }
  }

  /**
   * At a co-partner: the keys must be ones the origin consigned to this fulfiller (we saw the
   * record) and that it has neither delivered nor released, as at the origin; otherwise a
   * partner's bogus receipt would mark an order delivered here, and we would never serve it.
   */
  private async judgeAtCoPartner(tx: Tx, fulfiller: ShopId, receipt: Receipt, row: OrderRow | undefined, acked: boolean): Promise<ReceiptVerdict> {
    // Taken now, the receipt would leave no mark on the order: its escrow record, arriving next,
    // would make it pending here, and we would deliver it a second time (issue 22: 241 of 4,600
    // orders at a co-partner whose copy of the origin's feed lagged).
    if (!row) return { kind: 'hold', reason: ORDER_NOT_SEEN }
    const staged = this.stagedOf(tx)
    const found = await this.deps.state.keys.peerKeys(receipt.origin, receipt.keyIds, tx)
    if (!acked) {
      if (found.some((k) => k === undefined)) return { kind: 'hold', reason: KEYS_NOT_SEEN }
      // A key its holder released before we saw it consigned is as returned as at the origin.
      if (found.some((k) => k?.state === 'released-unseen')) return refuse('names keys not consigned to this fulfiller, or already delivered or returned')
    }
    const peerKeys = receipt.keyIds.flatMap((keyId, i) => {
      const row = found[i]
      return row && row.state !== 'released-unseen' ? [{ keyId, row }] : []
    })
    if (
      !acked &&
      peerKeys.some(
        (k) => k.row.holder !== fulfiller || k.row.sku !== receipt.sku || k.row.state !== 'consigned' || staged.keys.has(`${receipt.origin}!${k.keyId}`),
      )
    )
      return refuse('names keys not consigned to this fulfiller, or already delivered or returned')
    for (const k of peerKeys) staged.keys.add(`${receipt.origin}!${k.keyId}`)
    return { kind: 'take', dispute: null, keys: [], peerKeys: peerKeys.filter((k) => k.row.state === 'consigned' && k.row.holder === fulfiller), row, acked }
  }

  private async judgeAtOrigin(tx: Tx, fulfiller: ShopId, receipt: Receipt, row: OrderRow | undefined, contested: boolean): Promise<ReceiptVerdict> {
    const { me, state } = this.deps
    const staged = this.stagedOf(tx)
    const escrowed = row?.record
    if (!escrowed) return refuse('names an order we never escrowed')
    if (
      escrowed.sku !== receipt.sku ||
      escrowed.qty !== receipt.keyIds.length ||
      escrowed.amount.minorUnits !== receipt.amount.minorUnits ||
      escrowed.amount.currency !== receipt.amount.currency
    )
      return refuse('does not match the escrowed order (sku, quantity or amount)')
    const identity = `${receipt.order}!${fulfiller}`
    if (staged.orders.has(identity) || (await state.receipts.get(me, receipt.order, fulfiller, tx)) !== undefined)
      return refuse('this fulfiller already has a receipt for the order')
    const keys = await state.keys.getMany(me, receipt.keyIds, tx)
    if (keys.some((k) => !k || k.holder !== fulfiller || k.sku !== receipt.sku || k.state !== 'consigned' || staged.keys.has(`${me}!${k.keyId}`)))
      return refuse('names keys not consigned to this fulfiller, or already delivered or returned')
    staged.orders.add(identity)
    for (const id of receipt.keyIds) staged.keys.add(`${me}!${id}`)
    const overLimit = await this.countAgainstLimits(fulfiller, receipt, staged)
    const dispute: DisputeReason | null =
      row.state !== 'escrowed'
        ? row.fulfiller === undefined
          ? 'already-delivered-by-origin' // delivered or cancelled by the shop itself
          : 'duplicate' // another partner delivered it first
        : contested
          ? 'contested-takeover'
          : overLimit
    return { kind: 'take', dispute, keys: keys as KeyRow[], peerKeys: [], row, acked: false }
  }

  /** The dispute reason when the delivery is beyond the terms' limits, else null. */
  private async countAgainstLimits(fulfiller: ShopId, receipt: Receipt, staged: Staged): Promise<'outside-terms-limits' | null> {
    const terms = this.deps.federation.termsFor(receipt.terms)
    if (!terms) return null // booking refuses it as a conflict, with the reason logged
    const value = receipt.amount.currency === terms.settlement.currency ? receipt.amount.minorUnits : 0
    const tally = await this.tallyOf(`${fulfiller}!${receipt.epoch}`, staged)
    const inHour = tally.hour.slice(firstAfter(tally.hour, receipt.time - HOUR_MS), firstAfter(tally.hour, receipt.time))
    const hourValue = inHour.reduce((n, h) => n + h.value, 0)
    const limits = terms.limits
    const over =
      tally.orders + 1 > limits.maxOrdersPerOutage
        ? 'orders per outage'
        : tally.value + value > limits.maxValuePerOutage.minorUnits
          ? 'value per outage'
          : inHour.length + 1 > limits.maxOrdersPerHour
            ? 'orders per hour'
            : hourValue + value > limits.maxValuePerHour.minorUnits
              ? 'value per hour'
              : null
    tally.orders++
    tally.value += value
    tally.hour.splice(firstAfter(tally.hour, receipt.time), 0, { at: receipt.time, value })
    return over === null ? null : 'outside-terms-limits'
  }

  private stagedOf(tx: Tx): Staged {
    let staged = this.staged.get(tx)
    if (!staged) {
      const fresh: Staged = { keys: new Set(), orders: new Set(), tallies: new Map() }
      this.staged.set(tx, (staged = fresh))
      // Counted for good only once the unit is durable (tallies staged means they were loaded).
      tx.afterCommit(() => {
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
      for await (const row of this.deps.state.receipts.of(this.deps.me)) this.add(tallies, row)
      for (const tally of tallies.values()) tally.hour.sort((x, y) => x.at - y.at)
      this.tallies = tallies
      return tallies
    })()
    return this.loading
  }

  private add(tallies: Map<string, Tally>, row: ReceiptRow): void {
    const key = `${row.fulfiller}!${row.receipt.epoch}`
    const tally = tallies.get(key) ?? { orders: 0, value: 0, hour: [] }
    tallies.set(key, tally)
    const terms = this.deps.federation.termsFor(row.receipt.terms)
    const value = row.receipt.amount.currency === terms?.settlement.currency ? row.receipt.amount.minorUnits : 0
    tally.orders++
    tally.value += value
    tally.hour.push({ at: row.receipt.time, value })
  }
}

function refuse(reason: string): ReceiptVerdict {
  return { kind: 'refuse', reason }
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
