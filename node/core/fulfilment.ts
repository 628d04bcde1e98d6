// Partner fulfilment during a takeover (DESIGN.md §6): rendezvous-ranked claims, then
// reserve (synced) → receipt, in batches. A reserved key only ever ends delivered, to that order:
// after a crash we resume from the reservation and never pick a second key (invariant 1).
import {
  type Claim,
  MAX_ORDERS_PER_CLAIM,
  type FeedRecord,
  hashOf,
  type Identity,
  rankPartners,
  type Receipt,
  type ShopId,
  type Signed,
  signDocument,
  verifyDocument,
} from '../../protocol/index.js'
import type { Background } from './background.js'
import type { Allotments, KeyRow } from './allotments.js'
import type { Books } from './books.js'
import type { Escrow, OrderRow } from './escrow.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import type { FeedWriter } from './feed-writer.js'
import { orderKey, prefixRange } from './keys.js'
import type { Clock, Logger, Store, StoreOp, TimerHandle, Transport } from './ports.js'

/** Orders reserved and receipted per batch: one claim entry and one receipt entry each. */
export const MAX_ORDERS_PER_FULFIL_BATCH = 500
const HOUR_MS = 3_600_000

export interface ReceiptRow {
  readonly receipt: Receipt
  readonly hash: string
  readonly fulfiller: ShopId
  /** When the origin wrote it back and acknowledged it (origin side only). */
  readonly ackedAt: number | null
}

interface Planned {
  readonly row: OrderRow
  readonly ranked: readonly ShopId[]
  readonly myRank: number
  readonly turnAt: number
}

interface Takeover {
  readonly origin: ShopId
  readonly epoch: number
  readonly startedAt: number
  readonly plan: Map<string, Planned>
  /** Orders we claimed and have not reserved yet, oldest first. */
  mine: string[]
  /** Orders where a better-ranked partner goes first, by turn. */
  waiting: string[]
  /** Keys of each sku already promised by our claims and not reserved yet. */
  readonly promised: Map<string, number>
  count: number
  valueMinorUnits: number
  /** Our reservations in this outage: when, and the order's value (per-hour limits). */
  readonly hourly: { at: number; value: number }[]
  stopped: boolean
}

interface SeenClaim {
  readonly claimant: ShopId
  /** When we first saw it (our clock): a dead claimant's claim stops blocking suspectAfterMs later. */
  readonly time: number
  /** The claim's own signed time: a copy that is not newer is a replay and refreshes nothing. */
  readonly signedAt: number
}

export interface OutboxItem {
  readonly origin: ShopId
  readonly order: string
  readonly to: string
  readonly locale: 'zh-CN' | 'en'
  readonly keys: readonly string[]
  readonly attempts: number
  readonly nextAt: number
}

export interface FulfilmentHooks {
  /** Is `partner` alive (heartbeat recently)? A dead claimant's claim does not block others. */
  isAlive(partner: ShopId): boolean
  onDelivered(origin: ShopId, epoch: number, rows: readonly OrderRow[]): void
  onOutbox(): void
}

export const receiptKey = (origin: ShopId, order: string, fulfiller: ShopId) => `${origin}!${order}!${fulfiller}`

export class Fulfilment {
  private readonly takeovers = new Map<ShopId, Takeover>()
  private readonly claims = new Map<string, SeenClaim>()
  private readonly timers = new Map<ShopId, TimerHandle>()
  private readonly running = new Set<ShopId>()
  /** Origins woken while their step was running: they step again once it ends. */
  private readonly again = new Set<ShopId>()
  private readonly blocked = new Set<ShopId>()

  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly federation: Federation
      readonly store: Store
      readonly writer: FeedWriter
      readonly escrow: Escrow
      readonly books: Books
      readonly allotments: Allotments
      readonly transport: Transport
      readonly clock: Clock
      readonly logger: Logger
      readonly background: Background
      readonly emit: EventSink
      readonly hooks: FulfilmentHooks
    },
  ) {}

  isActive(origin: ShopId): boolean {
    const t = this.takeovers.get(origin)
    return t !== undefined && !t.stopped
  }

  /** We hold authority for `origin` at `epoch`: plan its pending orders, claim our share, start. */
  async start(origin: ShopId, epoch: number): Promise<boolean> {
    const existing = this.takeovers.get(origin)
    if (existing && existing.epoch === epoch && !existing.stopped) return true
    const owed = this.deps.books.owedToUsBy(origin)
    const limit = this.deps.federation.terms.settlement.creditLimit.minorUnits
    if (owed >= limit) {
      if (!this.blocked.has(origin)) this.deps.logger.warn({ origin, owed, limit }, 'credit limit reached: no new takeover for this origin until it settles')
      this.blocked.add(origin)
      return false
    }
    this.blocked.delete(origin)
    const me = this.deps.identity.id
    const timing = this.deps.federation.terms.timing
    const now = this.deps.clock.now()
    const plan = new Map<string, Planned>()
    const holders = new Map<string, ShopId[]>()
    // What we already reserved or delivered in this outage counts against its limits, also when
    // we restarted mid-outage: a crash must not hand us a fresh allowance.
    const done = { count: 0, value: 0, hourly: [] as { at: number; value: number }[] }
    for await (const [, row] of this.deps.store.range<OrderRow>('orders', prefixRange(origin))) {
      if (row.fulfiller === me && row.epoch === epoch && (row.state === 'reserved' || row.state === 'delivered')) {
        const value = this.valueOf(row)
        done.count++
        done.value += value
        done.hourly.push({ at: row.deliveredAt ?? now, value })
      }
      if (row.state !== 'escrowed' && row.state !== 'claimed') continue
      const r = row.record
      let candidates = holders.get(r.sku)
      if (!candidates) holders.set(r.sku, (candidates = this.deps.allotments.holdersOf(origin, r.sku)))
      const ranked = rankPartners(origin, r.order, candidates)
      const myRank = ranked.indexOf(me)
      if (myRank < 0) continue // we hold no keys of this sku: not ours to fulfil
      plan.set(r.order, { row, ranked, myRank, turnAt: Math.max(r.paidAt + timing.graceMs, now + myRank * timing.claimTimeoutMs) })
    }
    const waiting = [...plan.values()].sort((a, b) => a.turnAt - b.turnAt || a.row.record.paidAt - b.row.record.paidAt).map((p) => p.row.record.order)
    done.hourly.sort((x, y) => x.at - y.at)
    this.takeovers.set(origin, { origin, epoch, startedAt: now, plan, mine: [], waiting, promised: new Map(), count: done.count, valueMinorUnits: done.value, hourly: done.hourly, stopped: false })
    this.deps.logger.info({ origin, epoch, pending: plan.size }, 'taking over: fulfilling stranded orders')
    await this.resume(origin)
    this.wake(origin, 0)
    return true
  }

  /**
   * Orders the origin escrowed after our takeover began (its shop still sells while its platform
   * is down) are as stranded as the others: plan them the same way. Called once they are stored.
   */
  async planEscrowed(origin: ShopId, orders: readonly string[]): Promise<void> {
    const t = this.takeovers.get(origin)
    if (!t || t.stopped) return
    const me = this.deps.identity.id
    const timing = this.deps.federation.terms.timing
    const now = this.deps.clock.now()
    const rows = await this.deps.store.getMany<OrderRow>('orders', orders.map((o) => orderKey(origin, o)))
    let added = 0
    for (const row of rows) {
      if (!row || (row.state !== 'escrowed' && row.state !== 'claimed') || t.plan.has(row.record.order)) continue
      const r = row.record
      const ranked = rankPartners(origin, r.order, this.deps.allotments.holdersOf(origin, r.sku))
      const myRank = ranked.indexOf(me)
      if (myRank < 0) continue // we hold no keys of this sku: not ours to fulfil
      t.plan.set(r.order, { row, ranked, myRank, turnAt: Math.max(r.paidAt + timing.graceMs, now + myRank * timing.claimTimeoutMs) })
      t.waiting.push(r.order)
      added++
    }
    if (added > 0 && !t.stopped) this.wake(origin, 0)
  }

  /** Origins we would take over but for the credit limit (status and metrics show them). */
  isBlocked(origin: ShopId): boolean {
    return this.blocked.has(origin)
  }

  /** The origin handed back (or a newer epoch superseded ours): claim nothing more. */
  stop(origin: ShopId): void {
    const t = this.takeovers.get(origin)
    if (t) t.stopped = true
    const timer = this.timers.get(origin)
    if (timer) this.deps.clock.clearTimer(timer)
    this.timers.delete(origin)
  }

  stopAll(): void {
    for (const origin of [...this.takeovers.keys()]) this.stop(origin)
  }

  private wake(origin: ShopId, delayMs: number): void {
    const existing = this.timers.get(origin)
    if (existing) this.deps.clock.clearTimer(existing)
    this.timers.set(origin, this.deps.clock.setTimer(Math.max(0, delayMs), () => {
      this.timers.delete(origin)
      this.deps.background.run('fulfilment.step', () => this.step(origin))
    }))
  }

  /** An order's value against the terms' value limits (orders in another currency count 0). */
  private valueOf(row: OrderRow): number {
    const amount = row.record.amount
    return amount.currency === this.deps.federation.terms.settlement.currency ? amount.minorUnits : 0
  }

  /** After a crash: orders we reserved but did not receipt are finished with the same keys. */
  private async resume(origin: ShopId): Promise<void> {
    const me = this.deps.identity.id
    const reserved: OrderRow[] = []
    for await (const [, row] of this.deps.store.range<OrderRow>('orders', prefixRange(origin))) {
      if (row.state === 'reserved' && row.fulfiller === me) reserved.push(row)
    }
    if (reserved.length === 0) return
    // A reservation whose receipt we already wrote is finished: its row says `reserved` only because
    // a concurrent write overwrote `delivered` (e.g. the origin's own tombstone, whose apply batch
    // read the row before our receipt landed). Repair the row; a second receipt (new time, new
    // hash) would conflict with the booked one and stop the takeover, and the node at every start.
    const written = await this.deps.store.getMany<ReceiptRow>('receipts', reserved.map((row) => receiptKey(origin, row.record.order, me)))
    const repairs: StoreOp[] = []
    reserved.forEach((row, i) => {
      const done = written[i]
      if (done) repairs.push({ type: 'put', section: 'orders', key: orderKey(origin, row.record.order), value: { ...row, state: 'delivered', deliveredAt: done.receipt.time } satisfies OrderRow })
    })
    if (repairs.length > 0) await this.deps.store.write(repairs, { sync: true })
    const open = reserved.filter((_, i) => written[i] === undefined)
    if (open.length === 0) return
    this.deps.logger.warn({ origin, orders: open.length }, 'resuming reservations made before a restart')
    for (let i = 0; i < open.length; i += MAX_ORDERS_PER_FULFIL_BATCH) await this.writeReceipts(origin, open.slice(i, i + MAX_ORDERS_PER_FULFIL_BATCH))
  }

  private async step(origin: ShopId): Promise<void> {
    const t = this.takeovers.get(origin)
    if (!t || t.stopped) return
    if (this.running.has(origin)) {
      this.again.add(origin) // woken while a step runs (orders were planned): step again after it
      return
    }
    this.running.add(origin)
    try {
      const nextDueAt = await this.claimDue(t)
      const batch = t.mine.splice(0, MAX_ORDERS_PER_FULFIL_BATCH)
      if (batch.length > 0) await this.fulfil(t, batch)
      if (t.stopped) return
      if (t.mine.length > 0) this.wake(origin, 0)
      else if (nextDueAt !== null) this.wake(origin, nextDueAt - this.deps.clock.now())
    } catch (error) {
      this.deps.logger.error({ origin, err: String(error) }, 'fulfilment step failed; retrying')
      this.wake(origin, this.deps.federation.terms.timing.heartbeatMs)
    } finally {
      this.running.delete(origin)
      if (this.again.delete(origin) && !t.stopped) this.wake(origin, 0)
    }
  }

  /** Claims every waiting order whose turn has come and that no live partner claimed first. */
  private async claimDue(t: Takeover): Promise<number | null> {
    const now = this.deps.clock.now()
    const terms = this.deps.federation.terms
    let nextDueAt: number | null = null
    const due = (at: number) => void (nextDueAt = nextDueAt === null ? at : Math.min(nextDueAt, at))
    while (t.hourly.length > 0 && (t.hourly[0] as { at: number }).at <= now - HOUR_MS) t.hourly.shift()
    const hourValue = t.hourly.reduce((n, h) => n + h.value, 0)
    let claimingValue = 0
    const claiming: string[] = []
    const keep: string[] = []
    let limited = false
    for (const order of t.waiting) {
      const p = t.plan.get(order)
      if (!p) continue
      if (now < p.turnAt) {
        due(p.turnAt)
        keep.push(order)
        continue
      }
      const seen = this.claims.get(orderKey(t.origin, order))
      if (seen && seen.claimant !== this.deps.identity.id && (this.deps.hooks.isAlive(seen.claimant) || now - seen.time < terms.timing.suspectAfterMs)) {
        due(now + terms.timing.suspectAfterMs) // someone is on it; we step in only if they die
        keep.push(order)
        continue
      }
      const r = p.row.record
      const promised = t.promised.get(r.sku) ?? 0
      const value = this.valueOf(p.row)
      const claimedSoFar = t.count + claiming.length
      const limits = terms.limits
      if (claimedSoFar + 1 > limits.maxOrdersPerOutage || t.valueMinorUnits + value > limits.maxValuePerOutage.minorUnits || t.hourly.length + claiming.length + 1 > limits.maxOrdersPerHour || hourValue + claimingValue + value > limits.maxValuePerHour.minorUnits) {
        if (!limited) this.deps.logger.warn({ origin: t.origin, claimed: t.count + claiming.length }, 'terms limit reached: not claiming further orders this outage/hour')
        limited = true
        due(now + terms.timing.heartbeatMs * 4)
        keep.push(order)
        continue
      }
      if (this.deps.allotments.freeCount(t.origin, r.sku) - promised < r.qty) {
        keep.push(order) // out of keys: a lower-ranked partner will step in
        continue
      }
      t.promised.set(r.sku, promised + r.qty)
      t.valueMinorUnits += value
      claimingValue += value
      claiming.push(order)
    }
    t.waiting = keep
    if (claiming.length > 0) await this.claim(t, claiming)
    return nextDueAt
  }

  private async claim(t: Takeover, orders: readonly string[]): Promise<void> {
    const me = this.deps.identity.id
    const fed = this.deps.federation
    const now = this.deps.clock.now()
    const claims: Signed<Claim>[] = []
    for (let i = 0; i < orders.length; i += MAX_ORDERS_PER_CLAIM) {
      claims.push(signDocument('claim', { claimant: me, origin: t.origin, orders: orders.slice(i, i + MAX_ORDERS_PER_CLAIM), terms: fed.termsHash, epoch: t.epoch, time: now }, this.deps.identity))
    }
    // Sent first, written alongside: co-partners must hear of a claim before its claimant's turn ends.
    for (const claim of claims) for (const partner of fed.partners) if (partner !== t.origin) this.deps.transport.send(partner, 'control', { type: 'claim', claim })
    await this.deps.writer.append(claims.map((claim): FeedRecord => ({ type: 'claim', claim })), [])
    for (const order of orders) this.claims.set(orderKey(t.origin, order), { claimant: me, time: now, signedAt: now })
    t.mine.push(...orders)
    this.deps.emit(now, { kind: 'claim', origin: t.origin, orders: orders.length, claimant: me })
  }

  private async fulfil(t: Takeover, orders: readonly string[]): Promise<void> {
    const me = this.deps.identity.id
    const now = this.deps.clock.now()
    const current = await this.deps.store.getMany<OrderRow>('orders', orders.map((o) => orderKey(t.origin, o)))
    const ready: { row: OrderRow; keys: KeyRow[] }[] = []
    current.forEach((row, i) => {
      const planned = t.plan.get(orders[i] as string)
      const sku = planned?.row.record.sku
      if (sku !== undefined) t.promised.set(sku, Math.max(0, (t.promised.get(sku) ?? 0) - (planned?.row.record.qty ?? 0)))
      if (!row || (row.state !== 'escrowed' && row.state !== 'claimed')) return // delivered or cancelled meanwhile
      const keys = this.deps.allotments.take(t.origin, row.record.sku, row.record.qty)
      if (!keys) {
        this.deps.logger.warn({ origin: t.origin, order: row.record.order }, 'claimed an order but no keys are left for it')
        return
      }
      ready.push({ row, keys })
    })
    if (ready.length === 0) return
    const reserved = ready.map(({ row, keys }): OrderRow => ({ ...row, state: 'reserved', fulfiller: me, keyIds: keys.map((k) => k.keyId), epoch: t.epoch }))
    try {
      // The reservation commits keys to orders before anything leaves this node: synced.
      const ops: StoreOp[] = []
      ready.forEach(({ row, keys }, i) => {
        ops.push({ type: 'put', section: 'orders', key: orderKey(t.origin, row.record.order), value: reserved[i] })
        for (const key of keys) ops.push(this.deps.allotments.reservedRow(key, row.record.order, t.epoch))
        const email = row.record.buyer.email
        if (email) {
          const item: OutboxItem = { origin: t.origin, order: row.record.order, to: email, locale: row.record.buyer.locale, keys: keys.map((k) => k.key), attempts: 0, nextAt: now }
          ops.push({ type: 'put', section: 'outbox', key: orderKey(t.origin, row.record.order), value: item })
        }
      })
      await this.deps.store.write(ops, { sync: true })
    } catch (error) {
      for (const { keys } of ready) this.deps.allotments.untake(keys)
      throw error
    }
    t.count += ready.length
    for (const { row } of ready) t.hourly.push({ at: now, value: this.valueOf(row) })
    await this.writeReceipts(t.origin, reserved)
  }

  /** Receipts for reserved orders: the order and its keys end delivered, in one synced batch. */
  private async writeReceipts(origin: ShopId, reserved: readonly OrderRow[]): Promise<void> {
    const me = this.deps.identity.id
    const now = this.deps.clock.now()
    const fed = this.deps.federation
    const keyRows = await this.keyRowsFor(origin, reserved)
    const receipts: Receipt[] = reserved.map((row, i) => {
      const keys = keyRows[i] as KeyRow[]
      return {
        type: 'receipt',
        origin,
        order: row.record.order,
        sku: row.record.sku,
        allotment: keys[0]?.allotment ?? 'none',
        keyIds: [...(row.keyIds ?? [])],
        channel: row.record.buyer.email ? 'email+claim-page' : 'claim-page',
        epoch: row.epoch ?? 0,
        time: now,
        amount: row.record.amount,
        unitValue: keys[0]?.unitValue ?? { minorUnits: 0, currency: fed.terms.settlement.currency },
        terms: fed.termsHash,
      }
    })
    const delivered = reserved.map((row): OrderRow => ({ ...row, state: 'delivered', deliveredAt: now }))
    const hashes = receipts.map((r) => hashOf(r))
    const bookOps = await this.deps.books.bookReceipts(receipts, me, new Map(), hashes)
    await this.deps.writer.append(receipts, [], () => {
      const ops: StoreOp[] = []
      const counts = this.deps.escrow.countsOf(origin)
      receipts.forEach((receipt, i) => {
        ops.push({ type: 'put', section: 'orders', key: orderKey(origin, receipt.order), value: delivered[i] })
        for (const key of keyRows[i] as KeyRow[]) ops.push(this.deps.allotments.deliveredRow(key))
        ops.push({ type: 'put', section: 'receipts', key: receiptKey(origin, receipt.order, me), value: { receipt, hash: hashes[i] as string, fulfiller: me, ackedAt: null } satisfies ReceiptRow })
        ops.push(this.deps.allotments.bumpOp(origin, receipt.sku, me, 'delivered', receipt.keyIds.length))
        counts.pending--
        counts.delivered++
      })
      ops.push(this.deps.escrow.countsOp(origin))
      ops.push(...bookOps)
      return ops
    })
    for (const row of delivered) this.deps.emit(now, { kind: 'delivered', origin, order: row.record.order, fulfiller: me, keyIds: [...(row.keyIds ?? [])], epoch: row.epoch ?? 0 })
    this.deps.hooks.onDelivered(origin, reserved[0]?.epoch ?? 0, delivered)
    this.deps.hooks.onOutbox()
  }

  private async keyRowsFor(origin: ShopId, rows: readonly OrderRow[]): Promise<KeyRow[][]> {
    const ids = rows.flatMap((r) => r.keyIds ?? [])
    const found = await this.deps.store.getMany<KeyRow>('keys', ids.map((id) => `${origin}!${id}`))
    const byId = new Map(found.filter((k): k is KeyRow => k !== undefined).map((k) => [k.keyId, k]))
    return rows.map((r) => (r.keyIds ?? []).map((id) => byId.get(id)).filter((k): k is KeyRow => k !== undefined))
  }

  // ---- claims and receipts from co-partners ----

  onClaim(from: ShopId, raw: unknown, currentEpoch: (origin: ShopId) => number): void {
    const verified = verifyDocument('claim', raw)
    if (!verified.ok || verified.value.body.claimant !== from) {
      this.deps.logger.warn({ from, reason: verified.ok ? 'claimant is not the sender' : verified.error.message }, 'rejected claim')
      return
    }
    const claim = verified.value.body
    if (claim.terms !== this.deps.federation.termsHash || claim.epoch !== currentEpoch(claim.origin)) return // stale epoch: refused
    this.noteClaim(claim)
  }

  /**
   * A co-partner's claim. Orders we have not claimed are left to it; where we claimed too, the
   * better-ranked claimant keeps the order and the other backs off (if it has not reserved yet).
   */
  noteClaim(claim: Claim): void {
    const me = this.deps.identity.id
    const t = this.takeovers.get(claim.origin)
    const now = this.deps.clock.now()
    const backOff = new Set<string>()
    for (const order of claim.orders) {
      const key = orderKey(claim.origin, order)
      const seen = this.claims.get(key)
      if (seen?.claimant === claim.claimant && seen.signedAt >= claim.time) continue // a replay
      if (seen?.claimant === me && t) {
        const planned = t.plan.get(order)
        const theirs = planned?.ranked.indexOf(claim.claimant) ?? -1
        if (planned && theirs >= 0 && theirs < planned.myRank) backOff.add(order)
        else continue // we rank better: we keep it
      }
      this.claims.set(key, { claimant: claim.claimant, time: now, signedAt: claim.time })
    }
    if (t && backOff.size > 0) {
      const before = t.mine.length
      t.mine = t.mine.filter((o) => !backOff.has(o))
      for (const order of backOff) {
        const r = t.plan.get(order)?.row.record
        if (r) t.promised.set(r.sku, Math.max(0, (t.promised.get(r.sku) ?? 0) - r.qty))
      }
      if (before !== t.mine.length) this.deps.logger.info({ origin: claim.origin, orders: before - t.mine.length, to: claim.claimant }, 'backed off: a better-ranked partner claimed the same orders')
    }
  }
}
