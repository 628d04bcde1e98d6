// The simulated shop's business: orders, deliveries, platform health and the four node callbacks.
// Order of events for a purchase is the one the product relies on: paid → escrowed at the node
// (acknowledged, durable there) → delivered from own stock → tombstone to the node. The shop never
// loses a paid order: if the node refuses or is unreachable the order stays, with the error noted.
import { randomBytes } from 'node:crypto'
import type { Logger } from '../../adapters/contract.js'
import { type AdapterOrder, type BuyerContact, type CardKey, MAX_ORDERS_PER_REQUEST, type Money, type PartnerDelivery } from '../../protocol/index.js'
import type { AdapterClient } from '../../adapters/generic/client.js'
import { ShopError } from '../../adapters/generic/shop-http.js'
import type { ShopStock, SkuCounts, StockSnapshot } from './stock.js'

/** Orders the simulator keeps at most (a refusal after that, never an eviction: orders are not lost). */
export const MAX_SIM_ORDERS = 100_000
/** Duplicate deliveries listed by order id in the state (all are counted). */
export const MAX_DUPLICATES_LISTED = 1_000
/** First wait before re-sending delivery tombstones the node did not take; doubles up to the max. */
export const TOMBSTONE_RETRY_MS = 1_000
const MAX_TOMBSTONE_RETRY_MS = 30_000

/** The message, with the network cause (ECONNREFUSED, …) that fetch hides behind "fetch failed". */
function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code
  return typeof code === 'string' ? `${message} (${code})` : message
}

export type OrderStatus = 'paid' | 'delivered' | 'delivered-by-partner' | 'cancelled'
export type EscrowStatus = 'pending' | 'escrowed' | 'failed'
export type DeliveredBy =
  | { readonly by: 'shop' }
  | { readonly by: 'partner'; readonly fulfiller: string; readonly fulfillerName: string; readonly epoch: number; readonly channel: PartnerDelivery['channel'] }

export interface SimOrder {
  readonly order: string
  readonly sku: string
  readonly qty: number
  readonly amount: Money
  readonly paidAt: number
  readonly buyer: BuyerContact
  readonly claimSecret: string
  status: OrderStatus
  keys: CardKey[]
  deliveredBy: DeliveredBy | null
  deliveredAt: number | null
  escrow: EscrowStatus
  /** Why the node did not acknowledge the escrow, if it did not. */
  escrowError: string | null
  /** Why a due delivery did not happen (out of stock after a key conflict), or why it was cancelled. */
  note: string | null
}

/** A tombstone the node has not taken yet: the shop delivered the order, or cancelled (refunded) it. */
type PendingTombstone = { readonly kind: 'delivered'; readonly time: number } | { readonly kind: 'cancelled'; readonly reason: string }

export interface SkuConfig {
  readonly sku: string
  readonly priceMinorUnits: number
  readonly currency: string
}

export interface CoreSnapshot {
  orders: SimOrder[]
  duplicates: { count: number; orders: string[] }
  writeBacks: { applied: number; repeated: number; unknownOrders: number; keyConflicts: number }
  runTag: string
  nextOrder: number
  platform: 'up' | 'down'
  stock: StockSnapshot
}

export interface ShopCoreDeps {
  /** Called after every change of durable state, so the simulator can save it. */
  readonly onChange?: () => void
  readonly name: string
  readonly stock: ShopStock
  readonly skus: readonly SkuConfig[]
  readonly node: AdapterClient
  readonly deliverDelayMs: number
  readonly logger: Logger
  readonly now: () => number
}

export interface BuyInput {
  readonly sku: string
  readonly qty: number
  readonly email: string | null
  readonly locale: BuyerContact['locale']
}

export class ShopCore {
  platform: 'up' | 'down' = 'up'
  fenced = false
  /** The last platform state the node acknowledged, and why the latest report failed (if it did). */
  health: { reported: 'up' | 'down' | null; error: string | null } = { reported: null, error: null }
  readonly orders = new Map<string, SimOrder>()
  readonly duplicates = { count: 0, orders: [] as string[] }
  readonly writeBacks = { applied: 0, repeated: 0, unknownOrders: 0, keyConflicts: 0 }

  private runTag = randomBytes(3).toString('hex') // order ids stay unique across restarts
  private nextOrder = 1
  private readonly deliveryTimers = new Map<string, NodeJS.Timeout>()
  private readonly duplicateKeys = new Set<string>()
  private readonly pendingTombstones = new Map<string, PendingTombstone>()
  private tombstoneRetry: NodeJS.Timeout | null = null
  private tombstoneRetryMs = TOMBSTONE_RETRY_MS
  private flushing: Promise<void> | null = null
  private readonly inflight = new Set<Promise<unknown>>()
  private stopped = false

  constructor(private readonly deps: ShopCoreDeps) {}

  /** The shop's durable state: orders, counters and (through the stock) every key. */
  snapshot(): CoreSnapshot {
    return {
      orders: [...this.orders.values()],
      duplicates: this.duplicates,
      writeBacks: this.writeBacks,
      runTag: this.runTag,
      nextOrder: this.nextOrder,
      platform: this.platform,
      stock: this.deps.stock.snapshot(),
    }
  }

  /** Rebuilds from a snapshot; paid orders are scheduled for delivery again. */
  restore(saved: CoreSnapshot): void {
    this.deps.stock.restore(saved.stock)
    this.orders.clear()
    for (const order of saved.orders) this.orders.set(order.order, { ...order })
    Object.assign(this.duplicates, saved.duplicates)
    Object.assign(this.writeBacks, saved.writeBacks)
    this.runTag = saved.runTag
    this.nextOrder = saved.nextOrder
    this.platform = saved.platform
    // After a crash the shop waits for its node's word before delivering escrowed orders: a
    // partner may have delivered them meanwhile (the node unfences once it has handed back).
    this.fenced = true
    for (const order of this.orders.values()) if (order.status === 'paid') this.scheduleDelivery(order)
  }

  private changed(): void {
    this.deps.onChange?.()
  }

  // ---- buyer ----

  async buy(input: BuyInput): Promise<SimOrder> {
    const { stock } = this.deps
    const sku = this.deps.skus.find((s) => s.sku === input.sku)
    if (this.stopped) throw new ShopError(503, 'stopped', 'the shop is shutting down')
    if (sku === undefined) throw new ShopError(400, 'invalid', `body.sku: unknown sku ${input.sku}`)
    if (this.orders.size >= MAX_SIM_ORDERS) throw new ShopError(503, 'full', `the simulator holds its limit of ${MAX_SIM_ORDERS} orders`)
    // Checkout promises keys to the order, so a consignment can never take what was already sold.
    if (!stock.reserve(sku.sku, input.qty)) {
      throw new ShopError(409, 'out_of_stock', `body.qty: ${input.qty} wanted, ${Math.max(0, stock.available(sku.sku))} available`)
    }
    const order: SimOrder = {
      order: `${this.runTag}-${this.nextOrder++}`,
      sku: sku.sku,
      qty: input.qty,
      amount: { minorUnits: sku.priceMinorUnits * input.qty, currency: sku.currency },
      paidAt: this.deps.now(),
      buyer: { email: input.email, locale: input.locale },
      claimSecret: randomBytes(16).toString('base64url'),
      status: 'paid',
      keys: [],
      deliveredBy: null,
      deliveredAt: null,
      escrow: 'pending',
      escrowError: null,
      note: null,
    }
    this.orders.set(order.order, order)
    this.changed() // durable before anyone learns of the order
    await this.track(this.escrow(order))
    this.changed()
    this.scheduleDelivery(order)
    return order
  }

  private async escrow(order: SimOrder): Promise<void> {
    const body: AdapterOrder = {
      order: order.order,
      sku: order.sku,
      qty: order.qty,
      amount: order.amount,
      paidAt: order.paidAt,
      buyer: order.buyer,
      claimSecret: order.claimSecret,
    }
    try {
      const reply = await this.deps.node.submitOrders([body])
      order.escrow = reply.accepted + reply.duplicates >= 1 ? 'escrowed' : 'failed'
      if (order.escrow === 'failed') order.escrowError = 'node acknowledged nothing'
    } catch (error) {
      order.escrow = 'failed'
      order.escrowError = errorText(error)
      this.deps.logger.warn({ order: order.order, err: order.escrowError }, 'escrow failed; order kept as paid')
    }
  }

  // ---- own deliveries ----

  private scheduleDelivery(order: SimOrder): void {
    if (this.stopped || order.status !== 'paid' || order.escrow === 'pending' || this.deliveryTimers.has(order.order)) return
    const timer = setTimeout(() => {
      this.deliveryTimers.delete(order.order)
      this.deliver(order)
    }, this.deps.deliverDelayMs)
    this.deliveryTimers.set(order.order, timer)
  }

  /**
   * Delivers now if allowed. An order whose escrow failed is still delivered: no partner knows it,
   * so it cannot be delivered twice, and the buyer paid. Fenced or down: it stays paid (stranded).
   */
  private deliver(order: SimOrder): void {
    if (this.stopped || order.status !== 'paid' || this.fenced || this.platform === 'down') return
    this.deliverFromStock(order)
  }

  private deliverFromStock(order: SimOrder): void {
    const keys = this.deps.stock.sell(order.sku, order.qty, order.order)
    if (keys === null) {
      order.note = 'out of stock at delivery (a partner delivered one of its reserved keys)'
      return
    }
    order.status = 'delivered'
    order.keys = keys
    order.deliveredBy = { by: 'shop' }
    order.deliveredAt = this.deps.now()
    order.note = null
    this.pendingTombstones.set(order.order, { kind: 'delivered', time: order.deliveredAt })
    this.changed()
    this.flushTombstonesLater()
  }

  /**
   * The operator delivers a paid order by hand now (no delay; a broken delivery pipeline is what
   * hand delivery works around). Refused while fenced: a partner may be delivering it.
   */
  deliverNow(id: string): SimOrder {
    const order = this.paidOrder(id)
    if (this.fenced) throw new ShopError(409, 'fenced', `order ${id}: the node fenced this shop; a partner may deliver it`)
    clearTimeout(this.deliveryTimers.get(id))
    this.deliveryTimers.delete(id)
    this.deliverFromStock(order)
    if (order.status !== 'delivered') throw new ShopError(409, 'out_of_stock', `order ${id}: ${order.note ?? 'not delivered'}`)
    return order
  }

  /** The operator cancels (refunds) a paid order: its reserved keys go back, the node gets a tombstone. */
  cancel(id: string, reason: string): SimOrder {
    const order = this.paidOrder(id)
    clearTimeout(this.deliveryTimers.get(id))
    this.deliveryTimers.delete(id)
    this.deps.stock.release(order.sku, order.qty)
    order.status = 'cancelled'
    order.note = reason
    this.pendingTombstones.set(id, { kind: 'cancelled', reason })
    this.changed()
    this.flushTombstonesLater()
    return order
  }

  private paidOrder(id: string): SimOrder {
    const order = this.orders.get(id)
    if (order === undefined) throw new ShopError(404, 'not_found', `order ${id}: no such order`)
    if (order.status !== 'paid') throw new ShopError(409, 'not_paid', `order ${id}: is ${order.status}, not paid`)
    return order
  }

  /** Tells the node about deliveries, batched; what fails is retried, since a missing tombstone lets a partner deliver again. */
  private flushTombstones(): Promise<void> {
    // One flush at a time; the running one loops until nothing is pending, so it picks up new entries.
    if (this.flushing !== null) return this.flushing
    this.flushing = (async () => {
      while (this.pendingTombstones.size > 0 && !this.stopped) {
        const batch = [...this.pendingTombstones].slice(0, MAX_ORDERS_PER_REQUEST)
        const delivered = batch.flatMap(([order, t]) => (t.kind === 'delivered' ? [{ order, time: t.time }] : []))
        const cancelled = batch.flatMap(([order, t]) => (t.kind === 'cancelled' ? [{ order, reason: t.reason }] : []))
        try {
          if (delivered.length > 0) await this.deps.node.markDelivered(delivered)
          if (cancelled.length > 0) await this.deps.node.markCancelled(cancelled)
          for (const [order] of batch) this.pendingTombstones.delete(order)
          this.tombstoneRetryMs = TOMBSTONE_RETRY_MS
        } catch (error) {
          const delayMs = this.tombstoneRetryMs
          this.deps.logger.warn({ pending: this.pendingTombstones.size, delayMs, err: errorText(error) }, 'delivery tombstones not taken; retrying')
          if (this.tombstoneRetry === null && !this.stopped) {
            this.tombstoneRetryMs = Math.min(delayMs * 2, MAX_TOMBSTONE_RETRY_MS)
            this.tombstoneRetry = setTimeout(() => {
              this.tombstoneRetry = null
              this.flushTombstonesLater()
            }, delayMs)
            this.tombstoneRetry.unref()
          }
          return
        }
      }
    })().finally(() => {
      this.flushing = null
      // Entries that arrived as the loop ended, with no retry armed, are flushed now.
      if (this.pendingTombstones.size > 0 && this.tombstoneRetry === null && !this.stopped) this.flushTombstonesLater()
    })
    return this.flushing
  }

  /** Schedules every stranded order again (after unfence or platform up). */
  private resume(): void {
    for (const order of this.orders.values()) this.scheduleDelivery(order)
  }

  // ---- platform ----

  async setPlatform(platform: 'up' | 'down'): Promise<{ platform: 'up' | 'down'; reported: boolean; error: string | null }> {
    this.platform = platform
    this.changed()
    await this.reportHealth()
    if (platform === 'up') this.resume()
    return { platform, reported: this.health.error === null, error: this.health.error }
  }

  async reportHealth(): Promise<void> {
    const platform = this.platform
    try {
      await this.track(this.deps.node.reportHealth({ platform, detail: `${this.deps.name}: simulated platform ${platform}` }))
      this.health = { reported: platform, error: null }
    } catch (error) {
      this.health = { reported: this.health.reported, error: errorText(error) }
      this.deps.logger.warn({ platform, err: this.health.error }, 'health report failed')
    }
  }

  // ---- node callbacks ----

  setFenced(fenced: boolean): void {
    this.fenced = fenced
    this.deps.logger.info({ fenced }, fenced ? 'fenced by the node: own deliveries stop' : 'unfenced by the node')
    if (!fenced) this.resume()
  }

  takeStock(sku: string, count: number): CardKey[] {
    if (!this.deps.stock.has(sku)) throw new ShopError(404, 'unknown_sku', `body.sku: unknown sku ${sku}`)
    const keys = this.deps.stock.take(sku, count)
    this.changed() // saved before the keys are handed to the node
    return keys
  }

  returnStock(sku: string, keys: readonly CardKey[]): void {
    if (!this.deps.stock.has(sku)) throw new ShopError(404, 'unknown_sku', `body.sku: unknown sku ${sku}`)
    const outcome = this.deps.stock.giveBack(sku, keys)
    if (!outcome.ok) throw new ShopError(outcome.status, outcome.status === 400 ? 'unknown_key' : 'conflict', `body.${outcome.message}`)
    this.changed()
  }

  /** Idempotent per (order, fulfiller); a write-back for an order we delivered ourselves is a duplicate, counted once. */
  writeBack(delivery: PartnerDelivery): void {
    try {
      this.applyWriteBack(delivery)
    } finally {
      this.changed()
    }
  }

  private applyWriteBack(delivery: PartnerDelivery): void {
    this.writeBacks.keyConflicts += this.deps.stock.partnerDelivered(delivery.keys, delivery.order)
    const order = this.orders.get(delivery.order)
    if (order === undefined) {
      this.writeBacks.unknownOrders++
      this.deps.logger.warn({ order: delivery.order, fulfiller: delivery.fulfiller }, 'write-back for an order this shop does not know')
      return
    }
    if (order.status === 'paid') {
      clearTimeout(this.deliveryTimers.get(order.order))
      this.deliveryTimers.delete(order.order)
      this.deps.stock.release(order.sku, order.qty)
      order.status = 'delivered-by-partner'
      order.keys = [...delivery.keys]
      order.deliveredBy = {
        by: 'partner',
        fulfiller: delivery.fulfiller,
        fulfillerName: delivery.fulfillerName,
        epoch: delivery.epoch,
        channel: delivery.channel,
      }
      order.deliveredAt = delivery.deliveredAt
      order.note = null
      this.writeBacks.applied++
      return
    }
    const first = order.deliveredBy
    const sameDelivery = first?.by === 'partner' && first.fulfiller === delivery.fulfiller
    const duplicateKey = `${order.order}\n${delivery.fulfiller}`
    if (sameDelivery || this.duplicateKeys.has(duplicateKey)) {
      this.writeBacks.repeated++
      return
    }
    this.duplicateKeys.add(duplicateKey)
    this.duplicates.count++
    if (this.duplicates.orders.length < MAX_DUPLICATES_LISTED) this.duplicates.orders.push(order.order)
    this.deps.logger.warn({ order: order.order, first: first?.by, fulfiller: delivery.fulfiller }, 'duplicate delivery: order was already delivered')
  }

  // ---- bookkeeping ----

  stockCounts(): Record<string, SkuCounts> {
    return this.deps.stock.counts()
  }

  get pendingTombstoneCount(): number {
    return this.pendingTombstones.size
  }

  /** Resolves when no delivery is scheduled and no node call is in flight (tombstone retries aside). */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (this.deliveryTimers.size > 0 || this.inflight.size > 0) {
      if (performance.now() > deadline) throw new Error(`shop ${this.deps.name} not idle after ${timeoutMs} ms`)
      // Always through a timer: awaiting only settled promises would starve the delivery timers.
      const tick = new Promise((resolve) => setTimeout(resolve, Math.max(1, this.deps.deliverDelayMs)))
      await (this.inflight.size > 0 ? Promise.race([Promise.allSettled([...this.inflight]).then(() => tick), tick]) : tick)
    }
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.deliveryTimers.values()) clearTimeout(timer)
    this.deliveryTimers.clear()
    if (this.tombstoneRetry !== null) clearTimeout(this.tombstoneRetry)
  }

  /** flushTombstones retries its own failures; a rejection here is a bug, logged rather than left unhandled. */
  private flushTombstonesLater(): void {
    this.track(this.flushTombstones()).catch((error: unknown) => {
      this.deps.logger.error({ err: errorText(error) }, 'delivery tombstone flush failed')
    })
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inflight.add(promise)
    void promise.finally(() => this.inflight.delete(promise)).catch(() => undefined)
    return promise
  }
}
