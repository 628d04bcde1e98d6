// Partner fulfilment during a takeover (DESIGN.md §6): rendezvous-ranked claims, then
// reserve (synced) → receipt, in batches. A reserved key only ever ends delivered, to that order:
// after a crash we resume from the reservation and never pick a second key (invariant 1).
import {
  type Claim,
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
import type { Allotments, KeyRow } from './allotments.js'
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

interface Takeover {
  readonly origin: ShopId
  readonly epoch: number
  readonly startedAt: number
  queue: OrderRow[]
  count: number
  valueMinorUnits: number
  readonly hourly: number[]
  stopped: boolean
}

interface SeenClaim {
  readonly claimant: ShopId
  readonly rank: number
  readonly time: number
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

  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly federation: Federation
      readonly store: Store
      readonly writer: FeedWriter
      readonly escrow: Escrow
      readonly allotments: Allotments
      readonly transport: Transport
      readonly clock: Clock
      readonly logger: Logger
      readonly emit: EventSink
      readonly hooks: FulfilmentHooks
    },
  ) {}

  isActive(origin: ShopId): boolean {
    const t = this.takeovers.get(origin)
    return t !== undefined && !t.stopped
  }

  /** We hold authority for `origin` at `epoch`: load its pending orders and start. */
  async start(origin: ShopId, epoch: number): Promise<void> {
    const existing = this.takeovers.get(origin)
    if (existing && existing.epoch === epoch && !existing.stopped) return
    const queue: OrderRow[] = []
    for await (const [, row] of this.deps.store.range<OrderRow>('orders', prefixRange(origin))) {
      if (row.state === 'escrowed' || row.state === 'claimed') queue.push(row)
    }
    queue.sort((a, b) => a.record.paidAt - b.record.paidAt || (a.record.order < b.record.order ? -1 : 1))
    this.takeovers.set(origin, { origin, epoch, startedAt: this.deps.clock.now(), queue, count: 0, valueMinorUnits: 0, hourly: [], stopped: false })
    this.deps.logger.info({ origin, epoch, pending: queue.length }, 'taking over: fulfilling stranded orders')
    await this.resume(origin)
    this.wake(origin, 0)
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
      void this.step(origin)
    }))
  }

  /** After a crash: orders we reserved but did not receipt are finished with the same keys. */
  private async resume(origin: ShopId): Promise<void> {
    const me = this.deps.identity.id
    const reserved: OrderRow[] = []
    for await (const [, row] of this.deps.store.range<OrderRow>('orders', prefixRange(origin))) {
      if (row.state === 'reserved' && row.fulfiller === me) reserved.push(row)
    }
    if (reserved.length === 0) return
    this.deps.logger.warn({ origin, orders: reserved.length }, 'resuming reservations made before a restart')
    for (let i = 0; i < reserved.length; i += MAX_ORDERS_PER_FULFIL_BATCH) await this.writeReceipts(origin, reserved.slice(i, i + MAX_ORDERS_PER_FULFIL_BATCH))
  }

  private async step(origin: ShopId): Promise<void> {
    const t = this.takeovers.get(origin)
    if (!t || t.stopped || this.running.has(origin)) return
    this.running.add(origin)
    try {
      const { ready, nextDueAt } = await this.pick(t)
      if (ready.length > 0) await this.fulfil(t, ready)
      if (t.stopped) return
      if (ready.length > 0) this.wake(origin, 0)
      else if (nextDueAt !== null) this.wake(origin, nextDueAt - this.deps.clock.now())
    } catch (error) {
      this.deps.logger.error({ origin, err: String(error) }, 'fulfilment step failed; retrying')
      this.wake(origin, this.deps.federation.terms.timing.heartbeatMs)
    } finally {
      this.running.delete(origin)
    }
  }

  /** Orders due for us now, each with the keys taken for it (in memory until written). */
  private async pick(t: Takeover): Promise<{ ready: { row: OrderRow; keys: KeyRow[]; rank: number }[]; nextDueAt: number | null }> {
    const me = this.deps.identity.id
    const terms = this.deps.federation.terms
    const now = this.deps.clock.now()
    const current = await this.deps.store.getMany<OrderRow>('orders', t.queue.map((r) => orderKey(t.origin, r.record.order)))
    const ready: { row: OrderRow; keys: KeyRow[]; rank: number }[] = []
    const keep: OrderRow[] = []
    let nextDueAt: number | null = null
    const due = (at: number) => {
      nextDueAt = nextDueAt === null ? at : Math.min(nextDueAt, at)
    }
    while (t.hourly.length > 0 && (t.hourly[0] as number) <= now - HOUR_MS) t.hourly.shift()
    t.queue.forEach((queued, i) => {
      const row = current[i] ?? queued
      if (row.state !== 'escrowed' && row.state !== 'claimed') return // delivered or cancelled meanwhile
      if (ready.length >= MAX_ORDERS_PER_FULFIL_BATCH) return keep.push(row)
      const r = row.record
      const eligibleAt = r.paidAt + terms.timing.graceMs
      const ranked = rankPartners(t.origin, r.order, this.deps.allotments.holdersOf(t.origin, r.sku))
      const rank = ranked.indexOf(me)
      if (rank < 0) return // we hold no keys of this sku: not ours to fulfil
      const turnAt = Math.max(eligibleAt, t.startedAt + rank * terms.timing.claimTimeoutMs)
      if (now < turnAt) {
        due(turnAt)
        return keep.push(row)
      }
      const seen = this.claims.get(orderKey(t.origin, r.order))
      if (seen && seen.claimant !== me && (this.deps.hooks.isAlive(seen.claimant) || now - seen.time < terms.timing.suspectAfterMs)) {
        due(seen.time + terms.timing.suspectAfterMs)
        return keep.push(row) // someone is on it; we step in only if they die
      }
      const value = r.amount.currency === terms.settlement.currency ? r.amount.minorUnits : 0
      const limits = terms.limits
      if (t.count + ready.length + 1 > limits.maxOrdersPerOutage || t.valueMinorUnits + value > limits.maxValuePerOutage.minorUnits || t.hourly.length + ready.length + 1 > limits.maxOrdersPerHour) {
        this.deps.logger.warn({ origin: t.origin, order: r.order }, 'terms limit reached: not fulfilling further orders this outage/hour')
        due(now + terms.timing.heartbeatMs * 4)
        return keep.push(row)
      }
      const keys = this.deps.allotments.take(t.origin, r.sku, r.qty)
      if (!keys) return keep.push(row) // out of keys: a lower-ranked partner will step in
      ready.push({ row, keys, rank })
    })
    t.queue = keep
    return { ready, nextDueAt }
  }

  private async fulfil(t: Takeover, ready: { row: OrderRow; keys: KeyRow[]; rank: number }[]): Promise<void> {
    const me = this.deps.identity.id
    const now = this.deps.clock.now()
    const fed = this.deps.federation
    const claims: Signed<Claim>[] = ready.map(({ row, rank }) =>
      signDocument('claim', { claimant: me, origin: t.origin, order: row.record.order, terms: fed.termsHash, epoch: t.epoch, rank, time: now }, this.deps.identity),
    )
    const reserved = ready.map(({ row, keys }): OrderRow => ({ ...row, state: 'reserved', fulfiller: me, keyIds: keys.map((k) => k.keyId), epoch: t.epoch }))
    try {
      await this.deps.writer.append(claims.map((claim): FeedRecord => ({ type: 'claim', claim })), [], () => {
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
        return ops
      })
    } catch (error) {
      for (const { keys } of ready) this.deps.allotments.untake(keys)
      throw error
    }
    for (const [i, claim] of claims.entries()) {
      this.claims.set(orderKey(t.origin, claim.body.order), { claimant: me, rank: claim.body.rank, time: now })
      for (const partner of fed.partners) if (partner !== t.origin) this.deps.transport.send(partner, 'control', { type: 'claim', claim })
      this.deps.emit(now, { kind: 'claim', origin: t.origin, order: claim.body.order, claimant: me, rank: ready[i]?.rank ?? 0 })
    }
    t.count += ready.length
    for (const { row } of ready) {
      if (row.record.amount.currency === fed.terms.settlement.currency) t.valueMinorUnits += row.record.amount.minorUnits
      t.hourly.push(now)
    }
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
    await this.deps.writer.append(receipts, [], () => {
      const ops: StoreOp[] = []
      const counts = this.deps.escrow.countsOf(origin)
      receipts.forEach((receipt, i) => {
        ops.push({ type: 'put', section: 'orders', key: orderKey(origin, receipt.order), value: delivered[i] })
        for (const key of keyRows[i] as KeyRow[]) ops.push(this.deps.allotments.deliveredRow(key))
        ops.push({ type: 'put', section: 'receipts', key: receiptKey(origin, receipt.order, me), value: { receipt, hash: hashOf(receipt), fulfiller: me, ackedAt: null } satisfies ReceiptRow })
        ops.push(this.deps.allotments.bumpOp(origin, receipt.sku, me, 'delivered', receipt.keyIds.length))
        counts.pending--
        counts.delivered++
      })
      ops.push(this.deps.escrow.countsOp(origin))
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

  noteClaim(claim: Claim): void {
    const key = orderKey(claim.origin, claim.order)
    const seen = this.claims.get(key)
    if (!seen || claim.rank < seen.rank || (claim.rank === seen.rank && claim.claimant < seen.claimant)) {
      this.claims.set(key, { claimant: claim.claimant, rank: claim.rank, time: this.deps.clock.now() })
    }
  }
}
