// Receipts for orders, ours and partners': the one module that reads and writes `receipts`
// (origin!order!fulfiller, applied) and `held` (the same key: a partner's receipt for an epoch we
// hold no authority for yet, or for an order or keys whose records have not reached us). A held
// receipt changes nothing; it is judged again when what it waits for arrives or the origin
// acknowledges it, and shown to the operator meanwhile. Held receipts are bounded per fulfiller (a
// partner can write any number of them).
import { z } from 'zod'
import { DisputeReason, Hash, Receipt, Seq, type ShopId, ShopId as ShopIdSchema, Text, TimeMs } from '../../../protocol/index.js'
import type { Store } from '../ports.js'
import { prefixRange, receiptKey } from './codec.js'
import { parseOptionalRow, parseRow, readRows } from './rows.js'
import type { Tx } from './tx.js'
import { MAX_HELD_RECEIPTS_PER_PEER } from '../limits.js'

export const ReceiptRow = z.object({
  receipt: Receipt,
  hash: Hash,
  fulfiller: ShopIdSchema,
  /** When the origin wrote it back and acknowledged it (origin side only). */
  ackedAt: TimeMs.nullable(),
  /** Origin side: why its fee was booked disputed (it says so in its acknowledgement), if it was. */
  dispute: DisputeReason.nullable().optional(),
})
export type ReceiptRow = z.infer<typeof ReceiptRow>

export const HeldReceipt = z.object({
  receipt: Receipt,
  hash: Hash,
  fulfiller: ShopIdSchema,
  /** Seq of the fulfiller's entry that carried it. */
  seq: Seq,
  heldAt: TimeMs,
  /** Why it is held (shown to the operator). */
  reason: Text,
})
export type HeldReceipt = z.infer<typeof HeldReceipt>

export class Receipts {
  private readonly heldCount = new Map<ShopId, number>()
  /** origin → order → receipts held for it: arriving orders look here, not in the store. */
  private readonly heldOrders = new Map<ShopId, Map<string, number>>()

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    for await (const [key, value] of this.store.range('held', {})) {
      const held = parseRow(HeldReceipt, 'held', key, value)
      this.heldCount.set(held.fulfiller, (this.heldCount.get(held.fulfiller) ?? 0) + 1)
      this.countHeldOrder(held, 1)
    }
  }

  private countHeldOrder(held: HeldReceipt, delta: 1 | -1): void {
    const { origin, order } = held.receipt
    let orders = this.heldOrders.get(origin)
    if (!orders) this.heldOrders.set(origin, (orders = new Map()))
    const n = (orders.get(order) ?? 0) + delta
    if (n > 0) orders.set(order, n)
    else orders.delete(order)
    if (orders.size === 0) this.heldOrders.delete(origin)
  }

  /** Which of `origin`'s `orders` have receipts held here (in memory: no store read). */
  heldAmong(origin: ShopId, orders: readonly string[]): string[] {
    const held = this.heldOrders.get(origin)
    return held ? orders.filter((order) => held.has(order)) : []
  }

  /** Origins some held receipt is about. */
  heldOrigins(): ShopId[] {
    return [...this.heldOrders.keys()]
  }

  async get(origin: ShopId, order: string, fulfiller: ShopId, tx?: Tx): Promise<ReceiptRow | undefined> {
    return (await this.getMany(origin, [order], fulfiller, tx))[0]
  }

  /** Rows as this unit sees them (its own writes first), validated. */
  async getMany(origin: ShopId, orders: readonly string[], fulfiller: ShopId, tx?: Tx): Promise<(ReceiptRow | undefined)[]> {
    return readRows(
      this.store,
      ReceiptRow,
      'receipts',
      orders.map((o) => receiptKey(origin, o, fulfiller)),
      tx,
    )
  }

  /** Receipts for `origin`'s orders, in key order. */
  async *of(origin: ShopId): AsyncIterable<ReceiptRow> {
    for await (const [key, value] of this.store.range('receipts', prefixRange(origin))) yield parseRow(ReceiptRow, 'receipts', key, value)
  }

  /** A receipt applied (ours as fulfiller, or a partner's we judged and took). */
  record(tx: Tx, row: ReceiptRow): void {
    tx.put('receipts', receiptKey(row.receipt.origin, row.receipt.order, row.fulfiller), row)
  }

  /** The origin wrote these back to its shop and acknowledges them (handback or receipt.ack). */
  acked(tx: Tx, rows: readonly ReceiptRow[], at: number): void {
    for (const row of rows) tx.put('receipts', receiptKey(row.receipt.origin, row.receipt.order, row.fulfiller), { ...row, ackedAt: at } satisfies ReceiptRow)
  }

  // ---- held for want of authority ----

  mostHeld(): number {
    return Math.max(0, ...this.heldCount.values())
  }

  heldBy(fulfiller: ShopId): number {
    return this.heldCount.get(fulfiller) ?? 0
  }

  /** Holds a receipt; false when the fulfiller already has as many held as we keep (it is refused then). */
  hold(tx: Tx, held: HeldReceipt): boolean {
    const key = receiptKey(held.receipt.origin, held.receipt.order, held.fulfiller)
    if (tx.hasSeen('held', key)) return true
    const n = this.heldBy(held.fulfiller)
    if (n >= MAX_HELD_RECEIPTS_PER_PEER) return false
    tx.put('held', key, held)
    tx.afterCommit(() => {
      this.heldCount.set(held.fulfiller, this.heldBy(held.fulfiller) + 1)
      this.countHeldOrder(held, 1)
    })
    return true
  }

  /** Judged again and still held, now for another reason (the operator sees the one that holds it). */
  heldFor(tx: Tx, held: HeldReceipt, reason: string): void {
    if (held.reason === reason) return
    tx.put('held', receiptKey(held.receipt.origin, held.receipt.order, held.fulfiller), { ...held, reason } satisfies HeldReceipt)
  }

  /** Held receipts for `origin`'s orders (optionally of one fulfiller and order). */
  async held(origin: ShopId, order?: string, fulfiller?: ShopId): Promise<HeldReceipt[]> {
    if (order !== undefined && fulfiller !== undefined) {
      const key = receiptKey(origin, order, fulfiller)
      const row = parseOptionalRow(HeldReceipt, 'held', key, await this.store.get('held', key))
      return row ? [row] : []
    }
    const out: HeldReceipt[] = []
    for await (const [key, value] of this.store.range('held', prefixRange(origin))) out.push(parseRow(HeldReceipt, 'held', key, value))
    return out
  }

  /**
   * Key ids that `fulfiller`'s held receipts for `origin` name, those this unit holds included: a
   * later release of the same keys in its feed does not undo them (allotments.ts).
   */
  async heldKeyIds(tx: Tx, origin: ShopId, fulfiller: ShopId): Promise<Set<string>> {
    const out = new Set<string>()
    const named = (held: HeldReceipt) => {
      if (held.fulfiller === fulfiller) for (const id of held.receipt.keyIds) out.add(id)
    }
    for (const h of await this.held(origin)) {
      const key = receiptKey(origin, h.receipt.order, h.fulfiller)
      if (!tx.hasSeen('held', key)) named(h)
    }
    for (const op of tx.ops)
      if (op.type === 'put' && op.section === 'held' && op.key.startsWith(`${origin}!`) && tx.seen('held', op.key) !== null) named(op.value as HeldReceipt)
    return out
  }

  async allHeld(limit: number): Promise<HeldReceipt[]> {
    const out: HeldReceipt[] = []
    for await (const [key, value] of this.store.range('held', { limit })) out.push(parseRow(HeldReceipt, 'held', key, value))
    return out
  }

  /** A held receipt was judged again (applied or refused): it is held no longer. */
  release(tx: Tx, held: HeldReceipt): void {
    const key = receiptKey(held.receipt.origin, held.receipt.order, held.fulfiller)
    if (tx.seen('held', key) === null) return
    tx.del('held', key)
    tx.afterCommit(() => {
      this.heldCount.set(held.fulfiller, Math.max(0, this.heldBy(held.fulfiller) - 1))
      this.countHeldOrder(held, -1)
    })
  }
}
