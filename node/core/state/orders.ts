// Escrowed orders, ours and every partner's: the one module that reads and writes `orders` rows
// (origin!order). Every change is a step of the protocol's order machine, named with the grant
// that permits it, and asserted here:
//   escrow            the origin's adapter (at the origin) or the origin's signed record (at a partner,
//                     or at the origin itself when a restore fetches its own feed back: own-record)
//   origin-delivered, cancel   the origin's own act or its signed tombstone
//   reserve, deliver  our own takeover of the origin at an epoch we adopted (we are the fulfiller)
//   partner-delivered a partner's receipt under an authority we adopted for its epoch, or one the
//                     origin itself acknowledged (handback, receipt.ack)
//   reserve+deliver   our own receipt, taken back after a restore (own-receipt): we signed it only
//                     under an authority we had adopted
// A tombstone or a receipt that meets an order already final is a fact, not a transition: it is
// noted on the row (originDelivered) and reported as a duplicate. Counts per origin are derived
// from the rows at load and move only once a change is durable. A change to an existing row is
// made in a turn (State.serially), so the row it read is the row it replaces.
import { z } from 'zod'
import {
  assert,
  Epoch,
  Id,
  type OrderEvent,
  OrderEscrowed,
  type OrderState,
  orderStep,
  Seq,
  type ShopId,
  ShopId as ShopIdSchema,
  TimeMs,
} from '../../../protocol/index.js'
import type { RangeOptions, Store } from '../ports.js'
import type { Authorities } from './authorities.js'
import { orderKey, prefixRange } from './codec.js'
import { parseRow, readRows } from './rows.js'
import type { Turns, Tx } from './tx.js'

export const OrderRow = z.object({
  origin: ShopIdSchema,
  record: OrderEscrowed,
  state: z.enum(['escrowed', 'reserved', 'delivered', 'cancelled']),
  /** Seq of the origin's entry that escrowed it. */
  seq: Seq,
  /** Who delivered it when a partner did (or we are about to: state reserved). */
  fulfiller: ShopIdSchema.optional(),
  keyIds: z.array(Id).optional(),
  epoch: Epoch.optional(),
  deliveredAt: TimeMs.optional(),
  /** Set when the origin delivered it itself while a partner delivered or held a reservation for it. */
  originDelivered: z.boolean().optional(),
})
export type OrderRow = z.infer<typeof OrderRow>

export interface EscrowCounts {
  pending: number
  delivered: number
  cancelled: number
}

/** Why a change is allowed (see the header). */
export type OrderGrant =
  | { readonly by: 'origin' }
  | { readonly by: 'origin-record'; readonly seq: number }
  /** Our own signed record, fetched back from a partner after a restore (own-feed-rejoin.ts). */
  | { readonly by: 'own-record'; readonly seq: number }
  /** Our own receipt as the fulfiller, fetched back likewise. */
  | { readonly by: 'own-receipt'; readonly seq: number }
  | { readonly by: 'takeover'; readonly epoch: number }
  | { readonly by: 'receipt'; readonly epoch: number }
  | { readonly by: 'origin-ack' }

/**
 * What a tombstone did: applied; a duplicate (a partner delivered it, now the origin too); noted
 * on a reservation of ours (we finish it, the origin's delivery makes it a duplicate later); or
 * nothing (already final).
 */
export type TombstoneOutcome = 'applied' | 'duplicate' | 'noted' | 'already-final'

/** The origin's own act: at the origin its adapter or its own record taken back, elsewhere its signed record. */
function originGrant(ours: boolean, grant: OrderGrant): boolean {
  return ours ? grant.by === 'origin' || grant.by === 'own-record' : grant.by === 'origin-record'
}

const COUNTED: Record<OrderState, keyof EscrowCounts | null> = { escrowed: 'pending', reserved: 'pending', delivered: 'delivered', cancelled: 'cancelled' }

export class Orders {
  private readonly counts = new Map<ShopId, EscrowCounts>()

  constructor(
    private readonly me: ShopId,
    private readonly store: Store,
    private readonly authorities: Authorities,
    private readonly turns: Turns,
  ) {}

  /** Counts are derived from the rows, so they can never drift from what is stored. */
  async load(): Promise<void> {
    this.counts.clear()
    for await (const [key, value] of this.store.range('orders', {})) {
      const row = parseRow(OrderRow, 'orders', key, value)
      const field = COUNTED[row.state]
      if (field) this.countsOf(row.origin)[field]++
    }
  }

  countsOf(origin: ShopId): EscrowCounts {
    let counts = this.counts.get(origin)
    if (!counts) this.counts.set(origin, (counts = { pending: 0, delivered: 0, cancelled: 0 }))
    return counts
  }

  // ---- reads ----

  async get(origin: ShopId, order: string, tx?: Tx): Promise<OrderRow | undefined> {
    return (await this.getMany(origin, [order], tx))[0]
  }

  /** Rows as this unit sees them (its own writes first), validated. */
  async getMany(origin: ShopId, orders: readonly string[], tx?: Tx): Promise<(OrderRow | undefined)[]> {
    return readRows(
      this.store,
      OrderRow,
      'orders',
      orders.map((o) => orderKey(origin, o)),
      tx,
    )
  }

  /** One origin's rows in order id order (bounded by `options.limit` when given). */
  async *range(origin: ShopId, options: Pick<RangeOptions, 'gt' | 'limit'> = {}): AsyncIterable<OrderRow> {
    const range = prefixRange(origin)
    for await (const [key, value] of this.store.range('orders', { ...range, ...options })) yield parseRow(OrderRow, 'orders', key, value)
  }

  // ---- transitions ----

  private write(tx: Tx, before: OrderRow | undefined, after: OrderRow): void {
    // A unit that changes a row it read must hold the turn, or `before` may be stale (tx.ts).
    assert(before === undefined || this.turns.held, `order ${after.record.order}: changed outside a turn`)
    tx.put('orders', orderKey(after.origin, after.record.order), after)
    const from = before === undefined ? null : COUNTED[before.state]
    const to = COUNTED[after.state]
    if (from === to) return
    tx.afterCommit(() => {
      const counts = this.countsOf(after.origin)
      if (from) counts[from]--
      if (to) counts[to]++
      assert(counts.pending >= 0 && counts.delivered >= 0 && counts.cancelled >= 0, `escrow counts of ${after.origin} went negative`)
    })
  }

  private step(row: OrderRow, event: OrderEvent): OrderState {
    const next = orderStep(row.state, event)
    assert(next.ok, `order ${row.record.order}: ${next.ok ? '' : next.error.message}`)
    return next.value
  }

  /**
   * A new order. At the origin by its adapter; at a partner by the origin's record. Returns the row
   * written, or undefined when the order is known.
   */
  escrow(tx: Tx, origin: ShopId, record: OrderEscrowed, seq: number, grant: OrderGrant, existing: OrderRow | undefined): OrderRow | undefined {
    assert(originGrant(origin === this.me, grant), 'orders are escrowed only by their origin')
    if (existing) return undefined // the origin escrowed it twice: the first one stands
    const row: OrderRow = { origin, record, state: 'escrowed', seq }
    this.write(tx, undefined, row)
    return row
  }

  /**
   * The origin delivered or cancelled the order itself. Final orders stay as they are: a partner's
   * delivery met by the origin's own is a duplicate, and a reservation here stays ours to finish
   * (our key may already be out).
   */
  tombstone(tx: Tx, row: OrderRow, event: 'origin-delivered' | 'cancel', grant: OrderGrant): TombstoneOutcome {
    assert(originGrant(row.origin === this.me, grant), 'only the origin delivers or cancels its orders itself')
    if (row.state === 'escrowed') {
      this.write(tx, row, { ...row, state: this.step(row, event) })
      return 'applied'
    }
    if (row.originDelivered) return 'already-final'
    if (row.state === 'reserved') {
      this.write(tx, row, { ...row, originDelivered: true })
      return 'noted'
    }
    if (event === 'origin-delivered' && row.state === 'delivered' && row.fulfiller !== undefined && row.fulfiller !== row.origin) {
      this.write(tx, row, { ...row, originDelivered: true })
      return 'duplicate'
    }
    return 'already-final'
  }

  /** We reserve keys for the order, as its fulfiller under our takeover at `epoch`. */
  reserve(tx: Tx, row: OrderRow, keyIds: readonly string[], grant: Extract<OrderGrant, { by: 'takeover' }>): OrderRow {
    assert(row.origin !== this.me, 'an origin does not reserve its own orders')
    assert(this.authorities.get(row.origin, grant.epoch, tx) !== undefined, `reserve without an adopted authority for ${row.origin} at epoch ${grant.epoch}`)
    const next: OrderRow = { ...row, state: this.step(row, 'reserve'), fulfiller: this.me, keyIds: [...keyIds], epoch: grant.epoch }
    this.write(tx, row, next)
    return next
  }

  /**
   * Our own receipt taken back after a restore: an order still escrowed here is delivered by us, as
   * when we wrote it. False when the row has moved on (final already, or reserved again).
   */
  ownReceipt(
    tx: Tx,
    row: OrderRow,
    delivery: { keyIds: readonly string[]; epoch: number; at: number },
    grant: Extract<OrderGrant, { by: 'own-receipt' }>,
  ): boolean {
    assert(row.origin !== this.me && grant.seq > 0, 'an own receipt is for another origin, from an entry of our feed')
    if (row.state !== 'escrowed') return false
    const reserved = this.step(row, 'reserve')
    assert(reserved === 'reserved', 'an escrowed order is reserved first')
    this.write(tx, row, {
      ...row,
      state: this.step({ ...row, state: reserved }, 'deliver'),
      fulfiller: this.me,
      keyIds: [...delivery.keyIds],
      epoch: delivery.epoch,
      deliveredAt: delivery.at,
    })
    return true
  }

  /** Our receipt for a reservation is written: the order is delivered (also repairs a row a race left reserved). */
  delivered(tx: Tx, row: OrderRow, at: number): OrderRow {
    assert(row.fulfiller === this.me && row.epoch !== undefined, 'only the reserving fulfiller delivers a reservation')
    const next: OrderRow = { ...row, state: row.state === 'delivered' ? 'delivered' : this.step(row, 'deliver'), deliveredAt: at }
    this.write(tx, row, next)
    return next
  }

  /**
   * A partner's receipt: the order is delivered by `fulfiller`, under an authority we adopted for
   * `epoch` (or the origin's own acknowledgement). Already final: a duplicate, the row unchanged.
   */
  partnerDelivered(tx: Tx, row: OrderRow, delivery: { fulfiller: ShopId; keyIds: readonly string[]; epoch: number; at: number }, grant: OrderGrant): boolean {
    assert(grant.by === 'receipt' || grant.by === 'origin-ack', 'a partner delivery needs a receipt grant')
    if (grant.by === 'receipt')
      assert(this.authorities.get(row.origin, grant.epoch, tx) !== undefined, `receipt without an adopted authority for ${row.origin} at epoch ${grant.epoch}`)
    if (row.state !== 'escrowed') return false
    this.write(tx, row, {
      ...row,
      state: this.step(row, 'partner-delivered'),
      fulfiller: delivery.fulfiller,
      keyIds: [...delivery.keyIds],
      epoch: delivery.epoch,
      deliveredAt: delivery.at,
    })
    return true
  }
}
