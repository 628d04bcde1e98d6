// Escrowed orders: the origin turns adapter orders into sealed `order.escrowed` records and
// tombstones; a partner applies the records it receives to its copy. The rows themselves belong
// to state/orders.ts; this module decides what to write and when.
import {
  canonicalJson,
  claimVerifier,
  type AdapterOrder,
  type FeedRecord,
  type OrderEscrowed,
  type ShopId,
  type SubmitOrdersReply,
  type UnservedOrder,
  type UnservedReason,
  type TombstoneReply,
} from '../../protocol/index.js'
import { ConflictError } from './api.js'
import type { FeedWriter } from './feed-writer.js'
import type { State } from './state/index.js'
import type { Orders, OrderRow } from './state/orders.js'
import { Tx } from './state/tx.js'

type Tombstone = { order: string; kind: 'delivered'; time: number } | { order: string; kind: 'cancelled'; reason: string }

export class Escrow {
  /** Our orders queued for the feed but not yet durable, to catch concurrent duplicates. */
  private readonly inflight = new Map<string, OrderEscrowed>()
  /** Our orders with a tombstone queued, so a concurrent repeat is not written twice. */
  private readonly tombstoning = new Set<string>()

  private readonly orders: Orders

  constructor(
    private readonly me: ShopId,
    private readonly state: State,
    private readonly writer: FeedWriter,
    /** The origin delivered an order a partner had delivered too: a duplicate, to be counted. */
    private readonly onDuplicate: (origin: ShopId, order: string, fulfillers: ShopId[]) => void = () => undefined,
    /** Why no partner could serve `qty` keys of `sku` now, or null when one could (coverage.ts). */
    private readonly coverage: (sku: string, qty: number) => UnservedReason | null = () => null,
    /** Orders just accepted that no partner could serve: the operator hears at once. */
    private readonly onUnserved: (orders: readonly UnservedOrder[]) => void = () => undefined,
  ) {
    this.orders = state.orders
  }

  /** Origin side: escrow new orders; identical resubmissions are duplicates, changed ones conflict. */
  async submit(orders: readonly AdapterOrder[]): Promise<SubmitOrdersReply> {
    const records: OrderEscrowed[] = await Promise.all(
      orders.map(async (o) => ({
        type: 'order.escrowed' as const,
        order: o.order,
        sku: o.sku,
        qty: o.qty,
        amount: o.amount,
        paidAt: o.paidAt,
        buyer: o.buyer,
        claimVerifier: await claimVerifier(this.me, o.order, o.claimSecret),
      })),
    )
    const existing = await this.orders.getMany(
      this.me,
      records.map((r) => r.order),
    )
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
    if (fresh.length === 0) return { accepted: 0, duplicates, seq: 0, unserved: [] }
    for (const r of fresh) this.inflight.set(r.order, r)
    try {
      const tx = new Tx()
      const seq = await this.writer.append([], fresh, tx, (entrySeq) => {
        for (const record of fresh) this.orders.escrow(tx, this.me, record, entrySeq, { by: 'origin' }, undefined)
      })
      const unserved: UnservedOrder[] = []
      for (const r of fresh) {
        const reason = this.coverage(r.sku, r.qty)
        if (reason !== null) unserved.push({ order: r.order, sku: r.sku, qty: r.qty, reason })
      }
      if (unserved.length > 0) this.onUnserved(unserved)
      return { accepted: fresh.length, duplicates, seq, unserved }
    } finally {
      for (const r of fresh) this.inflight.delete(r.order)
    }
  }

  /** Origin side: the shop delivered or cancelled orders itself; partners drop them from pending. */
  tombstone(items: readonly Tombstone[]): Promise<TombstoneReply> {
    // In a turn: a partner's receipt for the same order may be applying right now (state/tx.ts).
    return this.state.serially(() => this.tombstoneNow(items))
  }

  private async tombstoneNow(items: readonly Tombstone[]): Promise<TombstoneReply> {
    const rows = await this.orders.getMany(
      this.me,
      items.map((i) => i.order),
    )
    const unknown: string[] = []
    const changes: { item: Tombstone; row: OrderRow }[] = []
    const tx = new Tx()
    items.forEach((item, i) => {
      const row = rows[i]
      if (!row) unknown.push(item.order)
      else if (row.state === 'escrowed' && !this.tombstoning.has(item.order)) changes.push({ item, row })
      else if (item.kind === 'delivered' && this.orders.tombstone(tx, row, 'origin-delivered', { by: 'origin' }) === 'duplicate') {
        tx.afterCommit(() => this.onDuplicate(this.me, item.order, [this.me, row.fulfiller as ShopId].sort()))
      }
      // else already final (or being finalised): idempotent
    })
    if (changes.length === 0) {
      await this.state.commit(tx)
      return { updated: 0, unknown, seq: 0 }
    }
    const records: FeedRecord[] = changes.map(({ item }) =>
      item.kind === 'delivered'
        ? { type: 'order.delivered', order: item.order, time: item.time }
        : { type: 'order.cancelled', order: item.order, reason: item.reason },
    )
    for (const { item } of changes) this.tombstoning.add(item.order)
    try {
      for (const { item, row } of changes) this.orders.tombstone(tx, row, item.kind === 'delivered' ? 'origin-delivered' : 'cancel', { by: 'origin' })
      const seq = await this.writer.append(records, [], tx)
      return { updated: changes.length, unknown, seq }
    } finally {
      for (const { item } of changes) this.tombstoning.delete(item.order)
    }
  }

  /**
   * An origin's verified records, in feed order, applied with `tx`: at a partner, or at the origin
   * itself for its own records fetched back after a restore.
   */
  async applyRecords(tx: Tx, origin: ShopId, seq: number, records: readonly FeedRecord[]): Promise<void> {
    const grant = origin === this.me ? ({ by: 'own-record', seq } as const) : ({ by: 'origin-record', seq } as const)
    const ids = records.flatMap((r) => (r.type === 'order.escrowed' || r.type === 'order.delivered' || r.type === 'order.cancelled' ? [r.order] : []))
    const rows = await this.orders.getMany(origin, ids, tx)
    const known = new Map(ids.map((id, i) => [id, rows[i]]))
    for (const record of records) {
      if (record.type === 'order.escrowed') {
        // The row as written: the next record of this run for the order (a tombstone) meets it.
        const row = this.orders.escrow(tx, origin, record, seq, grant, known.get(record.order))
        if (row) known.set(record.order, row)
      } else if (record.type === 'order.delivered' || record.type === 'order.cancelled') {
        const row = known.get(record.order)
        if (!row) continue
        const outcome = this.orders.tombstone(tx, row, record.type === 'order.delivered' ? 'origin-delivered' : 'cancel', grant)
        if (outcome === 'duplicate') tx.afterCommit(() => this.onDuplicate(origin, record.order, [origin, row.fulfiller as ShopId].sort()))
        known.set(record.order, await this.orders.get(origin, record.order, tx))
      }
    }
  }
}
