// Escrowed orders: the origin turns adapter orders into sealed `order.escrowed` records and
// tombstones; a partner applies the records it receives to its pending set. Rows are keyed
// origin!order in the `orders` section, for our own orders and for every partner's.
import {
  canonicalJson,
  claimVerifier,
  type AdapterOrder,
  type FeedRecord,
  type OrderEscrowed,
  type OrderState,
  orderStep,
  type ShopId,
  type SubmitOrdersReply,
  type TombstoneReply,
} from '../../protocol/index.js'
import { ConflictError } from './api.js'
import type { FeedWriter } from './feed-writer.js'
import { META, orderKey } from './keys.js'
import type { Store, StoreOp } from './ports.js'

export interface OrderRow {
  readonly origin: ShopId
  readonly record: OrderEscrowed
  readonly state: OrderState
  /** Seq of the origin's entry that escrowed it. */
  readonly seq: number
  /** Who delivered it when a partner did (or we are about to: state reserved). */
  readonly fulfiller?: ShopId
  readonly keyIds?: readonly string[]
  readonly epoch?: number
  readonly deliveredAt?: number
  /** Set when the origin delivered it itself while a partner held a reservation for it. */
  readonly originDelivered?: boolean
}

export interface EscrowCounts {
  pending: number
  delivered: number
  cancelled: number
}

type Tombstone = { order: string; kind: 'delivered'; time: number } | { order: string; kind: 'cancelled'; reason: string }

export class Escrow {
  private readonly counts = new Map<ShopId, EscrowCounts>()
  /** Our orders queued for the feed but not yet durable, to catch concurrent duplicates. */
  private readonly inflight = new Map<string, OrderEscrowed>()
  /** Our orders with a tombstone queued, so a concurrent repeat is not written twice. */
  private readonly tombstoning = new Set<string>()

  constructor(
    private readonly me: ShopId,
    private readonly store: Store,
    private readonly writer: FeedWriter,
    /** The origin delivered an order a partner had delivered too: a duplicate, to be counted. */
    private readonly onDuplicate: (origin: ShopId, order: string, fulfillers: ShopId[]) => void = () => undefined,
  ) {}

  async load(origins: readonly ShopId[]): Promise<void> {
    for (const origin of origins) {
      const stored = await this.store.get<EscrowCounts>('meta', META.counts(origin))
      this.counts.set(origin, stored ?? { pending: 0, delivered: 0, cancelled: 0 })
    }
  }

  countsOf(origin: ShopId): EscrowCounts {
    let counts = this.counts.get(origin)
    if (!counts) {
      counts = { pending: 0, delivered: 0, cancelled: 0 }
      this.counts.set(origin, counts)
    }
    return counts
  }

  countsOp(origin: ShopId): StoreOp {
    return { type: 'put', section: 'meta', key: META.counts(origin), value: { ...this.countsOf(origin) } }
  }

  /** Origin side: escrow new orders; identical resubmissions are duplicates, changed ones conflict. */
  async submit(orders: readonly AdapterOrder[]): Promise<SubmitOrdersReply> {
    const records: OrderEscrowed[] = orders.map((o) => ({
      type: 'order.escrowed',
      order: o.order,
      sku: o.sku,
      qty: o.qty,
      amount: o.amount,
      paidAt: o.paidAt,
      buyer: o.buyer,
      claimVerifier: claimVerifier(this.me, o.order, o.claimSecret),
    }))
    const existing = await this.store.getMany<OrderRow>('orders', records.map((r) => orderKey(this.me, r.order)))
    const fresh: OrderEscrowed[] = []
    const conflicts: string[] = []
    let duplicates = 0
    records.forEach((record, i) => {
      // Canonical encoding only on a collision: new orders (the common case) skip it.
      const known = this.inflight.get(record.order) ?? existing[i]?.record
      if (known === undefined) fresh.push(record)
      else if (canonicalJson(known) === canonicalJson(record)) duplicates++
      else conflicts.push(record.order)
    })
    if (conflicts.length > 0) throw new ConflictError(conflicts)
    if (fresh.length === 0) return { accepted: 0, duplicates, seq: 0 }
    for (const r of fresh) this.inflight.set(r.order, r)
    try {
      const seq = await this.writer.append([], fresh, (entrySeq) => {
        this.countsOf(this.me).pending += fresh.length
        const ops: StoreOp[] = fresh.map((record) => ({
          type: 'put',
          section: 'orders',
          key: orderKey(this.me, record.order),
          value: { origin: this.me, record, state: 'escrowed', seq: entrySeq } satisfies OrderRow,
        }))
        ops.push(this.countsOp(this.me))
        return ops
      })
      return { accepted: fresh.length, duplicates, seq }
    } finally {
      for (const r of fresh) this.inflight.delete(r.order)
    }
  }

  /** Origin side: the shop delivered or cancelled orders itself; partners drop them from pending. */
  async tombstone(items: readonly Tombstone[]): Promise<TombstoneReply> {
    const rows = await this.store.getMany<OrderRow>('orders', items.map((i) => orderKey(this.me, i.order)))
    const unknown: string[] = []
    const changes: { item: Tombstone; row: OrderRow }[] = []
    items.forEach((item, i) => {
      const row = rows[i]
      if (!row) unknown.push(item.order)
      else if (row.state === 'escrowed' && !this.tombstoning.has(item.order)) changes.push({ item, row })
      else if (item.kind === 'delivered' && row.state === 'delivered' && row.fulfiller !== undefined && row.fulfiller !== this.me) this.onDuplicate(this.me, item.order, [this.me, row.fulfiller].sort())
      // else already final (or being finalised): idempotent
    })
    if (changes.length === 0) return { updated: 0, unknown, seq: 0 }
    const records: FeedRecord[] = changes.map(({ item }) =>
      item.kind === 'delivered' ? { type: 'order.delivered', order: item.order, time: item.time } : { type: 'order.cancelled', order: item.order, reason: item.reason },
    )
    for (const { item } of changes) this.tombstoning.add(item.order)
    try {
      const seq = await this.writer.append(records, [], () => {
        const counts = this.countsOf(this.me)
        const ops: StoreOp[] = changes.map(({ item, row }) => {
          const state: OrderState = item.kind === 'delivered' ? 'delivered' : 'cancelled'
          counts.pending--
          counts[state]++
          return { type: 'put', section: 'orders', key: orderKey(this.me, item.order), value: { ...row, state } satisfies OrderRow }
        })
        ops.push(this.countsOp(this.me))
        return ops
      })
      return { updated: changes.length, unknown, seq }
    } finally {
      for (const { item } of changes) this.tombstoning.delete(item.order)
    }
  }

  /**
   * Partner side: store ops for an origin's verified records, in feed order. `rows` caches the
   * rows this batch already touched so a tombstone in the same batch finds its order.
   */
  async applyRecords(origin: ShopId, seq: number, records: readonly FeedRecord[], rows: Map<string, OrderRow | null>): Promise<StoreOp[]> {
    const ops: StoreOp[] = []
    const counts = this.countsOf(origin)
    const missing = records
      .filter((r) => (r.type === 'order.delivered' || r.type === 'order.cancelled') && !rows.has(orderKey(origin, r.order)))
      .map((r) => orderKey(origin, (r as { order: string }).order))
    if (missing.length > 0) {
      const found = await this.store.getMany<OrderRow>('orders', missing)
      missing.forEach((key, i) => rows.set(key, found[i] ?? null))
    }
    for (const record of records) {
      if (record.type === 'order.escrowed') {
        const key = orderKey(origin, record.order)
        if (rows.get(key)) continue // the origin escrowed it twice: keep the first
        const row: OrderRow = { origin, record, state: 'escrowed', seq }
        rows.set(key, row)
        ops.push({ type: 'put', section: 'orders', key, value: row })
        counts.pending++
      } else if (record.type === 'order.delivered' || record.type === 'order.cancelled') {
        const key = orderKey(origin, record.order)
        const row = rows.get(key)
        if (!row) continue
        const step = orderStep(row.state, record.type === 'order.delivered' ? 'origin-delivered' : 'cancel')
        if (!step.ok) {
          if (record.type === 'order.delivered' && row.state === 'delivered' && row.fulfiller !== undefined && row.fulfiller !== origin && !row.originDelivered) {
            this.onDuplicate(origin, record.order, [origin, row.fulfiller].sort())
            const marked: OrderRow = { ...row, originDelivered: true }
            rows.set(key, marked)
            ops.push({ type: 'put', section: 'orders', key, value: marked })
            continue
          }
          // Reserved here: our key may already be out, so the order stays ours to finish; the
          // origin delivering it too is a duplicate the incident report counts.
          if (row.state === 'reserved' && !row.originDelivered) {
            const marked: OrderRow = { ...row, originDelivered: true }
            rows.set(key, marked)
            ops.push({ type: 'put', section: 'orders', key, value: marked })
          }
          continue
        }
        const next: OrderRow = { ...row, state: step.value }
        rows.set(key, next)
        ops.push({ type: 'put', section: 'orders', key, value: next })
        counts.pending--
        counts[step.value as 'delivered' | 'cancelled']++
      }
    }
    if (ops.length > 0) ops.push(this.countsOp(origin))
    return ops
  }
}
