// The shop node's engine: wires our feed, escrow, replication and heartbeats together behind the
// ports, and answers the NodeApi the http layer calls. Deterministic given its ports.
import {
  type AdapterOrder,
  type ClaimForm,
  type ClaimResult,
  type ShopStatusView,
  type Agreement,
  type BoxKeyPair,
  type ControlMessage,
  type FeedHeadView,
  type FeedMessage,
  type Identity,
  type IdentityReply,
  type PartnerStatus,
  type PlatformHealth,
  type ShopCard,
  type ShopId,
  type Signed,
  signDocument,
  toBase64url,
  verifyDocument,
} from '../../protocol/index.js'
import { type NodeApi } from './api.js'
import { Escrow, type OrderRow } from './escrow.js'
import type { EventSink } from './events.js'
import { Federation } from './federation.js'
import { FeedWriter } from './feed-writer.js'
import { orderKey, prefixRange } from './keys.js'
import type { Clock, InboundHandler, Logger, Rng, Store, TimerHandle, Transport } from './ports.js'
import { Replication } from './replication.js'

export interface EngineOptions {
  readonly identity: Identity
  readonly box: BoxKeyPair
  readonly name: string
  readonly addrs: () => string[]
  readonly agreement: Agreement
  readonly cards: readonly Signed<ShopCard>[]
  readonly clock: Clock
  readonly rng: Rng
  readonly store: Store
  readonly transport: Transport
  readonly logger: Logger
  readonly emit?: EventSink
}

interface PeerView {
  lastHeartbeatAt: number | null
  platform: PlatformHealth
}

export class Engine implements NodeApi, InboundHandler {
  readonly federation: Federation
  private readonly writer: FeedWriter
  private readonly escrowBook: Escrow
  private readonly replication: Replication
  private readonly peers = new Map<ShopId, PeerView>()
  private platform: PlatformHealth = 'unknown'
  private timer: TimerHandle | null = null
  private started = false

  constructor(private readonly o: EngineOptions) {
    const me = o.identity.id
    this.federation = new Federation(me, o.box.publicKey, o.agreement, o.cards)
    const emit: EventSink = o.emit ?? (() => undefined)
    this.writer = new FeedWriter({
      identity: o.identity,
      box: o.box,
      store: o.store,
      clock: o.clock,
      rng: o.rng,
      termsHash: () => this.federation.termsHash,
      recipients: () => this.federation.recipients(),
      onAppended: (entries) => {
        const last = entries.at(-1)
        if (last) emit(o.clock.now(), { kind: 'own-append', seq: last.body.seq, records: entries.reduce((n, e) => n + e.body.records.length + (e.body.sealed ? 1 : 0), 0) })
        this.replication.onOwnAppended(entries)
      },
    })
    this.escrowBook = new Escrow(me, o.store, this.writer)
    this.replication = new Replication({
      identity: o.identity,
      box: o.box,
      store: o.store,
      transport: o.transport,
      clock: o.clock,
      logger: o.logger,
      emit,
      escrow: this.escrowBook,
      partners: () => this.federation.partners,
      knownTerms: (hash) => this.federation.knowsTerms(hash),
      ownHead: () => this.writer.state,
    })
    for (const p of this.federation.partners) this.peers.set(p, { lastHeartbeatAt: null, platform: 'unknown' })
  }

  async start(): Promise<void> {
    await this.writer.load()
    await this.escrowBook.load([this.o.identity.id, ...this.federation.partners])
    await this.replication.load()
    this.o.transport.setHandler(this)
    this.started = true
    this.schedule()
    for (const p of this.federation.partners) if (this.o.transport.isConnected(p)) this.onPeerConnected(p)
  }

  stop(): void {
    this.started = false
    if (this.timer) this.o.clock.clearTimer(this.timer)
    this.timer = null
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimer(this.federation.terms.timing.heartbeatMs, () => {
      if (!this.started) return
      this.tick()
      this.schedule()
    })
  }

  private tick(): void {
    const me = this.o.identity.id
    const head = this.writer.state
    for (const partner of this.federation.partners) {
      const heartbeat = signDocument('heartbeat', {
        from: me,
        to: partner,
        terms: this.federation.termsHash,
        epoch: 0,
        time: this.o.clock.now(),
        platform: this.platform,
        head: { seq: head.seq, hash: head.hash },
      }, this.o.identity)
      this.o.transport.send(partner, 'control', { type: 'heartbeat', heartbeat })
    }
    this.replication.tick()
  }

  // ---- InboundHandler ----

  onFeedMessage(from: ShopId, message: FeedMessage): void {
    if (!this.started || !this.federation.isPartner(from)) return
    this.replication.onMessage(from, message)
  }

  onControlMessage(from: ShopId, message: ControlMessage): void {
    if (!this.started || !this.federation.isPartner(from)) return
    if (message.type !== 'heartbeat') return // failover messages arrive with the failover issue
    const verified = verifyDocument('heartbeat', message.heartbeat)
    const hb = verified.ok ? verified.value.body : null
    if (!hb || hb.from !== from || hb.to !== this.o.identity.id || !this.federation.knowsTerms(hb.terms)) {
      this.o.logger.warn({ from, reason: verified.ok ? 'heartbeat not from this peer, not for us, or other terms' : verified.error.message }, 'rejected heartbeat')
      return
    }
    const view = this.peers.get(from) as PeerView
    view.lastHeartbeatAt = this.o.clock.now()
    view.platform = hb.platform
    this.o.emit?.(this.o.clock.now(), { kind: 'heartbeat', from, platform: hb.platform })
    if (hb.head.seq > this.replication.headOf(from).seq) this.o.transport.send(from, 'feed', { type: 'feed.get', author: from, afterSeq: this.replication.headOf(from).seq, limit: 256 })
  }

  onPeerConnected(peer: ShopId): void {
    if (this.started && this.federation.isPartner(peer)) this.replication.onConnected(peer)
  }

  onPeerDisconnected(_peer: ShopId): void {}

  // ---- EscrowApi ----

  submitOrders(orders: readonly AdapterOrder[]) {
    return this.escrowBook.submit(orders)
  }

  markDelivered(items: readonly { order: string; time: number }[]) {
    return this.escrowBook.tombstone(items.map((i) => ({ kind: 'delivered' as const, order: i.order, time: i.time })))
  }

  markCancelled(items: readonly { order: string; reason: string }[]) {
    return this.escrowBook.tombstone(items.map((i) => ({ kind: 'cancelled' as const, order: i.order, reason: i.reason })))
  }

  reportPlatformHealth(platform: PlatformHealth): void {
    this.platform = platform
  }

  // ---- AdminApi ----

  identity(): IdentityReply {
    return { id: this.o.identity.id, name: this.o.name, boxKey: toBase64url(this.o.box.publicKey), addrs: this.o.addrs(), terms: this.federation.termsHash }
  }

  partners(): PartnerStatus[] {
    return this.federation.partners.map((id) => {
      const view = this.peers.get(id) as PeerView
      const head = this.replication.headOf(id)
      return {
        id,
        name: this.federation.cardOf(id)?.name ?? id,
        connected: this.o.transport.isConnected(id),
        lastHeartbeatAt: view.lastHeartbeatAt,
        platform: view.platform,
        ackedSeq: this.replication.ackedBy(id),
        theirHead: { seq: head.seq, hash: head.hash },
        quarantined: this.replication.isQuarantined(id),
      }
    })
  }

  async escrow() {
    const origins = [this.o.identity.id, ...this.federation.partners]
    return {
      ownSeq: this.writer.state.seq,
      escrow: origins.map((origin) => ({ origin, ...this.escrowBook.countsOf(origin) })),
    }
  }

  async listEscrow(origin: ShopId, after: string | undefined, limit: number) {
    const range = prefixRange(origin)
    const orders = []
    for await (const [, row] of this.o.store.range<OrderRow>('orders', { ...range, gt: after ? orderKey(origin, after) : range.gt, limit })) {
      const r = row.record
      orders.push({ origin: row.origin, order: r.order, sku: r.sku, qty: r.qty, amount: r.amount, paidAt: r.paidAt, buyer: r.buyer, state: row.state, seq: row.seq })
    }
    return { orders, next: orders.length === limit ? (orders.at(-1)?.order ?? null) : null }
  }

  feeds(): FeedHeadView[] {
    const own = this.writer.state
    return [
      { author: own.author, seq: own.seq, hash: own.hash, verified: true },
      ...this.federation.partners.map((p) => {
        const head = this.replication.headOf(p)
        return { author: p, seq: head.seq, hash: head.hash, verified: !this.replication.isQuarantined(p) }
      }),
    ]
  }

  waitForAcks(seq: number, timeoutMs: number): Promise<boolean> {
    return this.replication.waitForAcks(seq, timeoutMs)
  }

  verifyFeed(author: ShopId) {
    return this.replication.verifyHeld(author)
  }

  async claim(_form: ClaimForm): Promise<ClaimResult> {
    return { status: 'not-found' } // fulfilment arrives with the failover issue
  }

  shopStatus(_shop: ShopId): ShopStatusView | undefined {
    return undefined
  }

  ready(): boolean {
    return this.started
  }
}
