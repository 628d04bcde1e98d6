// The shop node's engine: wires our feed, escrow, replication, allotments, failover, fulfilment,
// handback and incidents together behind the ports, and answers the NodeApi. Deterministic given
// its ports: no clock, randomness, network or disk but through them.
import {
  type AdapterOrder,
  type Authority,
  type ControlMessage,
  type FeedMessage,
  type PlatformHealth,
  type ShopId,
  verifyDocument,
} from '../../protocol/index.js'
import { AdminViews } from './admin-views.js'
import { assemble, type EngineRef, type PeerView } from './assemble.js'
import type { HealthSource } from './health-silence.js'
import type { EngineOptions } from './options.js'
import type { InboundHandler, TimerHandle } from './ports.js'

export type { EngineOptions }

export class Engine extends AdminViews implements InboundHandler {
  private timer: TimerHandle | null = null
  private started = false
  private wantFenced: boolean | null = null
  private appliedFenced: boolean | null = null
  private ticks = 0
  /** Signed time of the newest heartbeat taken from each partner (replays are not newer). */
  private readonly newestHeartbeat = new Map<ShopId, number>()

  constructor(o: EngineOptions, ref: EngineRef = { engine: null }) {
    super(assemble(o, ref))
    ref.engine = this
  }

  async start(): Promise<void> {
    await this.writer.load()
    await this.state.load()
    await this.replication.load()
    await this.failover.load()
    await this.incidentBook.load()
    this.o.transport.setHandler(this)
    this.background.start()
    this.started = true
    for (const p of this.federation.partners) this.lastStatementAt.set(p, this.o.clock.now())
    this.failover.evaluateFence()
    for (const [origin, w] of this.failover.watches) if (w.view.phase === 'taken-over') await this.fulfilment.start(origin, w.view.epoch)
    this.schedule()
    for (const p of this.federation.partners) if (this.o.transport.isConnected(p)) this.onPeerConnected(p)
  }

  /** Stops at once (no new work, no timers); resolves when work already in flight has settled. */
  stop(): Promise<void> {
    this.started = false
    if (this.timer) this.o.clock.clearTimer(this.timer)
    this.timer = null
    this.failover.stop()
    this.fulfilment.stopAll()
    return this.background.stop()
  }

  private schedule(): void {
    this.timer = this.o.clock.setTimer(this.federation.terms.timing.heartbeatMs, () => {
      if (!this.started) return
      this.tick()
      this.schedule()
    })
  }

  private tick(): void {
    this.ticks++
    const head = this.writer.state
    for (const partner of this.federation.partners) {
      this.o.transport.send(partner, 'control', { type: 'heartbeat', heartbeat: this.failover.heartbeatFor(partner, { seq: head.seq, hash: head.hash }) })
    }
    this.replication.tick()
    this.failover.tick()
    this.applyFence()
    this.background.run('handback', () => this.maybeHandBack())
    this.retryBlockedTakeovers()
    if (this.ticks % 8 === 0) this.background.run('statements', () => this.maybeIssueStatements())
    this.background.run('outbox.drain', () => this.outbox.drain())
    this.incidentBook.sweep(this.o.clock.now(), this.failover.watches, this.failover.voteTtlMs)
    this.background.run('incidents.flush', () => this.incidentBook.flush())
  }

  // ---- fencing, takeover requests and handback at the origin ----

  setFence(fenced: boolean): void {
    this.wantFenced = fenced
    this.applyFence()
  }

  /** Tells the shop; retried every tick until the adapter confirms. */
  private applyFence(): void {
    const want = this.wantFenced
    if (want === null || want === this.appliedFenced) return
    this.o.adapter.setFenced(want).then(
      () => {
        this.appliedFenced = want
        this.o.logger.info({ fenced: want }, want ? 'fenced: the shop stops delivering escrowed orders' : 'fence lifted: the shop delivers again')
      },
      (error: unknown) => this.o.logger.warn({ fenced: want, err: String(error) }, 'could not reach the shop adapter to change the fence; retrying'),
    )
  }

  /** Caught up: every partner heard from recently has no entries we lack. */
  private caughtUp(): boolean {
    let fresh = 0
    for (const [partner, view] of this.peers) {
      if (view.lastHeartbeatAt === null || this.o.clock.now() - view.lastHeartbeatAt > this.federation.terms.timing.suspectAfterMs) continue
      if (this.replication.isQuarantined(partner)) continue // a forked feed can never catch up
      fresh++
      if (this.replication.headOf(partner).seq < view.advertisedSeq) return false
    }
    return fresh > 0
  }

  private async maybeHandBack(): Promise<void> {
    const authority = this.failover.takenOverAuthority()
    if (authority) {
      if (this.failover.platformHealth() !== 'up' || !this.caughtUp()) return
      if (await this.handback.run(this.failover.epoch(), this.failover.epoch())) await this.failover.handedBack()
    } else if (this.ticks % 8 === 0) {
      await this.handback.run(null, this.failover.epoch())
    }
  }

  /** A partner saw our handback (or we saw an origin's): its takeover is over. */
  onHandback(origin: ShopId, epoch: number): void {
    if (origin === this.o.identity.id) return
    const w = this.failover.watches.get(origin)
    if (!w) return
    const before = w.view
    this.failover.applyHandback(origin, epoch)
    if (before !== w.view) {
      this.fulfilment.stop(origin)
      this.o.emit?.(this.o.clock.now(), { kind: 'handback', origin, epoch, receipts: 0 })
    }
  }

  /** A takeover refused for the credit limit starts once the origin has settled. */
  private retryBlockedTakeovers(): void {
    for (const [origin, w] of this.failover.watches) {
      if (w.view.phase === 'taken-over' && this.fulfilment.isBlocked(origin)) this.background.run('fulfilment.start', () => this.fulfilment.start(origin, w.view.epoch))
    }
  }

  private lastStatementAt = new Map<ShopId, number>()

  /** States what each partner owes us once a period has passed, or sooner above the threshold. */
  private async maybeIssueStatements(): Promise<void> {
    const { periodMs, settleThreshold } = this.federation.terms.settlement
    const now = this.o.clock.now()
    for (const partner of this.federation.partners) {
      const last = this.lastStatementAt.get(partner) ?? 0
      if (now - last < periodMs && this.state.books.owedToUsBy(partner) < settleThreshold.minorUnits) continue
      try {
        if (await this.settlement.issue(partner)) this.lastStatementAt.set(partner, now)
        else if (!this.lastStatementAt.has(partner)) this.lastStatementAt.set(partner, now)
      } catch (error) {
        this.o.logger.warn({ partner, err: String(error) }, 'could not issue a statement')
      }
    }
  }

  // ---- InboundHandler ----

  onFeedMessage(from: ShopId, message: FeedMessage): Promise<void> {
    if (!this.started || !this.federation.isPartner(from)) return Promise.resolve()
    return this.replication.onMessage(from, message)
  }

  /** Control messages are small and taken at once (their work is bounded in peer-work.ts). */
  onControlMessage(from: ShopId, message: ControlMessage): Promise<void> {
    if (!this.started || !this.federation.isPartner(from)) return Promise.resolve()
    switch (message.type) {
      case 'heartbeat':
        this.onHeartbeat(from, message.heartbeat)
        break
      case 'lease':
        this.failover.onLease(from, message.lease)
        break
      case 'down-vote':
        this.failover.onVote(from, message.vote)
        break
      case 'certificate':
        this.failover.onAuthority(from, { kind: 'certificate', certificate: message.certificate } satisfies Authority)
        break
      case 'takeover.request':
        this.failover.onAuthority(from, { kind: 'request', request: message.request } satisfies Authority)
        break
      case 'claim':
        this.work.task(from, 'claims.take', () => this.fulfilment.takeClaim(from, message.claim, null))
        break
    }
    return Promise.resolve()
  }

  /**
   * What the engine holds in memory for its partners, each with its named bound (the simulator
   * checks them after every step, whatever partners send).
   */
  footprint(): { name: string; size: number; limit: number }[] {
    return [...this.work.footprint(), ...this.fulfilment.footprint(), ...this.state.footprint(this.federation.partners.length)]
  }

  private onHeartbeat(from: ShopId, raw: unknown): void {
    const verified = verifyDocument('heartbeat', raw)
    const hb = verified.ok ? verified.value.body : null
    if (!hb || hb.from !== from || hb.to !== this.o.identity.id || !this.federation.knowsTerms(hb.terms)) {
      this.o.logger.warn({ from, reason: verified.ok ? 'heartbeat not from this peer, not for us, or other terms' : verified.error.message }, 'rejected heartbeat')
      return
    }
    // Only a new heartbeat is a sign of life. A replayed or long-delayed copy (not newer than the
    // last one we took, or older than a partner would wait before suspecting, give or take the
    // clock skew the terms allow) changes nothing: it must not keep a dead origin alive, undo a
    // down-vote or be answered with a lease.
    const newest = this.newestHeartbeat.get(from)
    const { suspectAfterMs, maxClockSkewMs } = this.federation.terms.timing
    if ((newest !== undefined && hb.time <= newest) || this.o.clock.now() - hb.time > suspectAfterMs + maxClockSkewMs) {
      this.o.logger.debug({ from, time: hb.time, newest }, 'ignored a replayed or stale heartbeat')
      return
    }
    this.newestHeartbeat.set(from, hb.time)
    const view = this.peers.get(from) as PeerView
    view.lastHeartbeatAt = this.o.clock.now()
    view.platform = hb.platform
    view.advertisedSeq = hb.head.seq
    this.o.emit?.(this.o.clock.now(), { kind: 'heartbeat', from, platform: hb.platform })
    this.failover.onHeartbeat(from, hb)
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

  /** The adapter's report (`detail` is for its own logs; the node keeps only the platform). */
  reportPlatformHealth(platform: PlatformHealth): void {
    void this.setPlatform(platform, 'adapter').catch((error: unknown) => this.o.logger.error({ err: String(error) }, 'could not request a takeover'))
  }

  /** The operator's word on the platform (`standin platform`); resolves once a takeover request is durable. */
  async operatorReportsPlatform(platform: 'up' | 'down'): Promise<void> {
    this.o.logger.warn({ platform }, 'the operator reported the shop platform')
    await this.setPlatform(platform, 'operator')
  }

  private setPlatform(platform: PlatformHealth, source: HealthSource): Promise<void> {
    return this.failover.setPlatform(platform, async (authority) => {
      if (authority.kind === 'request') await this.writer.append([{ type: 'takeover.request', request: authority.request }], [])
    }, source)
  }

  ready(): boolean {
    return this.started
  }
}
