// The shop node's engine: starts and stops the parts the factory (assemble.ts) built, drives the
// heartbeat tick, routes partners' control messages, and answers the NodeApi: commands go to the
// part that owns them, reads to the views (admin-views.ts). Deterministic given its ports: no
// clock, randomness, network or disk but through them.
import {
  type AdapterOrder,
  type Authority,
  type ControlMessage,
  type DisputedLine,
  type FeedMessage,
  type PlatformHealth,
  type ShopId,
} from '../../protocol/index.js'
import type { ClaimForm } from './api-schemas.js'
import * as views from './admin-views.js'
import { assemble, type EngineParts } from './assemble.js'
import type { HealthSource } from './health-silence.js'
import type { EngineOptions } from './options.js'
import { HANDBACK_RETRY_EVERY_TICKS, STATEMENT_CHECK_EVERY_TICKS } from './limits.js'
import type { InboundHandler, TimerHandle } from './ports.js'
import type { NodeApi } from './api.js'

export type { EngineOptions }

export class Engine implements InboundHandler, NodeApi {
  private readonly parts: EngineParts
  private timer: TimerHandle | null = null
  private started = false
  private ticks = 0
  private readonly lastStatementAt = new Map<ShopId, number>()

  constructor(private readonly o: EngineOptions) {
    this.parts = assemble(o)
  }

  get federation() {
    return this.parts.federation
  }

  async start(): Promise<void> {
    const { parts } = this
    for (const part of parts.lifecycle) await part.start?.()
    this.o.transport.setHandler(this)
    this.started = true
    for (const p of parts.federation.partners) this.lastStatementAt.set(p, this.o.clock.now())
    parts.failover.evaluateFence()
    for (const { origin, epoch } of parts.failover.takeovers()) await parts.fulfilment.begin(origin, epoch)
    this.schedule()
    for (const p of parts.federation.partners) if (this.o.transport.isConnected(p)) this.onPeerConnected(p)
  }

  /**
   * Stops at once (no new work, no timers); resolves when work already in flight has settled and
   * every part has stopped, in reverse start order. No timer of the engine is left after it.
   */
  async stop(): Promise<void> {
    this.started = false
    this.parts.timers.cancel(this.timer)
    this.timer = null
    this.parts.timers.clear()
    for (const part of [...this.parts.lifecycle].reverse()) await part.stop?.()
    // Work that settled during the wait may have set timers of its own.
    this.parts.timers.clear()
  }

  /** Timers set and not yet fired (0 after stop). */
  pendingTimers(): number {
    return this.parts.timers.size
  }

  private schedule(): void {
    this.timer = this.parts.timers.set(this.parts.federation.terms.timing.heartbeatMs, () => {
      if (!this.started) return
      this.tick()
      this.schedule()
    })
  }

  private tick(): void {
    const { writer, federation, failover, replication, background, incidents, outbox } = this.parts
    this.ticks++
    const head = writer.state
    for (const partner of federation.partners) {
      this.o.transport.send(partner, 'control', { type: 'heartbeat', heartbeat: failover.heartbeatFor(partner, { seq: head.seq, hash: head.hash }) })
    }
    replication.tick()
    failover.tick()
    failover.applyFence()
    background.run('handback', () => this.maybeHandBack())
    this.retryBlockedTakeovers()
    if (this.ticks % STATEMENT_CHECK_EVERY_TICKS === 0) background.run('statements', () => this.maybeIssueStatements())
    background.run('outbox.drain', () => outbox.drain())
    incidents.sweep(this.o.clock.now(), failover.views(), failover.voteTtlMs)
    background.run('incidents.flush', () => incidents.flush())
  }

  // ---- handback at the origin ----

  /** Caught up: every partner heard from recently has no entries we lack. */
  private caughtUp(): boolean {
    const { liveness, replication, federation } = this.parts
    let fresh = 0
    for (const [partner, view] of liveness.all()) {
      if (view.lastHeartbeatAt === null || this.o.clock.now() - view.lastHeartbeatAt > federation.terms.timing.suspectAfterMs) continue
      if (replication.isQuarantined(partner)) continue // a forked feed can never catch up
      fresh++
      if (replication.headOf(partner).seq < view.advertisedSeq) return false
    }
    return fresh > 0
  }

  private async maybeHandBack(): Promise<void> {
    const { failover, handback } = this.parts
    const authority = failover.takenOverAuthority()
    if (authority) {
      if (!failover.mayHandBack() || !this.caughtUp()) return
      if (await handback.run(failover.epoch(), failover.epoch())) await failover.handedBack()
    } else if (this.ticks % HANDBACK_RETRY_EVERY_TICKS === 0) {
      await handback.run(null, failover.epoch())
    }
  }

  /** A takeover refused for the credit limit starts once the origin has settled. */
  private retryBlockedTakeovers(): void {
    const { failover, fulfilment, background } = this.parts
    for (const { origin, epoch } of failover.takeovers()) {
      if (fulfilment.isBlocked(origin)) background.run('fulfilment.start', () => fulfilment.begin(origin, epoch))
    }
  }

  /** States what each partner owes us once a period has passed, or sooner above the threshold. */
  private async maybeIssueStatements(): Promise<void> {
    const { federation, state, settlement } = this.parts
    const { periodMs, settleThreshold } = federation.terms.settlement
    const now = this.o.clock.now()
    for (const partner of federation.partners) {
      const last = this.lastStatementAt.get(partner) ?? 0
      if (now - last < periodMs && state.books.owedToUsBy(partner) < settleThreshold.minorUnits) continue
      try {
        if (await settlement.issue(partner)) this.lastStatementAt.set(partner, now)
        else if (!this.lastStatementAt.has(partner)) this.lastStatementAt.set(partner, now)
      } catch (error) {
        this.o.logger.warn({ partner, err: String(error) }, 'could not issue a statement')
      }
    }
  }

  // ---- InboundHandler ----

  onFeedMessage(from: ShopId, message: FeedMessage): Promise<void> {
    if (!this.started || !this.parts.federation.isPartner(from)) return Promise.resolve()
    return this.parts.replication.onMessage(from, message)
  }

  /** Control messages are small and taken at once (their work is bounded in peer-work.ts). */
  onControlMessage(from: ShopId, message: ControlMessage): Promise<void> {
    if (!this.started || !this.parts.federation.isPartner(from)) return Promise.resolve()
    const { failover, work, fulfilment } = this.parts
    switch (message.type) {
      case 'heartbeat':
        this.onHeartbeat(from, message.heartbeat)
        break
      case 'lease':
        failover.onLease(from, message.lease)
        break
      case 'down-vote':
        failover.onVote(from, message.vote)
        break
      case 'certificate':
        failover.onAuthority(from, { kind: 'certificate', certificate: message.certificate } satisfies Authority)
        break
      case 'takeover.request':
        failover.onAuthority(from, { kind: 'request', request: message.request } satisfies Authority)
        break
      case 'claim':
        work.task(from, 'claims.take', () => fulfilment.takeClaim(from, message.claim, null))
        break
      case 'drill.request':
        this.parts.drills.onRequest(from, message.request)
        break
      case 'drill.report':
        this.parts.drills.onReport(from, message.report)
        break
      case 'terms.agreement':
        // Terms are the node's, not the engine's: the node's exchange (node/terms/exchange.ts)
        // takes these before the engine sees its messages, and a new agreement in force starts a
        // new engine. Nothing to do here.
        break
    }
    return Promise.resolve()
  }

  private onHeartbeat(from: ShopId, raw: unknown): void {
    const { liveness, failover, replication } = this.parts
    const hb = liveness.onHeartbeat(from, raw)
    if (!hb) return
    failover.onHeartbeat(from, hb)
    replication.onPartnerHead(from, hb.head.seq)
  }

  onPeerConnected(peer: ShopId): void {
    if (this.started && this.parts.federation.isPartner(peer)) this.parts.replication.onConnected(peer)
  }

  onPeerDisconnected(_peer: ShopId): void {}

  /**
   * What the engine holds in memory for its partners, each with its named bound (the simulator
   * checks them after every step, whatever partners send).
   */
  footprint(): { name: string; size: number; limit: number }[] {
    const { work, fulfilment, state, federation } = this.parts
    return [...work.footprint(), ...fulfilment.footprint(), ...state.footprint(federation.partners.length)]
  }

  // ---- EscrowApi ----

  submitOrders(orders: readonly AdapterOrder[]) {
    return this.parts.escrowBook.submit(orders)
  }

  markDelivered(items: readonly { order: string; time: number }[]) {
    return this.parts.escrowBook.tombstone(items.map((i) => ({ kind: 'delivered' as const, order: i.order, time: i.time })))
  }

  markCancelled(items: readonly { order: string; reason: string }[]) {
    return this.parts.escrowBook.tombstone(items.map((i) => ({ kind: 'cancelled' as const, order: i.order, reason: i.reason })))
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
    return this.parts.failover.setPlatform(
      platform,
      async (authority) => {
        if (authority.kind === 'request') await this.parts.writer.append([{ type: 'takeover.request', request: authority.request }], [])
      },
      source,
    )
  }

  /** The platform's health as last reported, for the node to hand to the engine that replaces this one. */
  platformHealth(): PlatformHealth {
    return this.parts.failover.platformHealth()
  }

  ready(): boolean {
    return this.started
  }

  // ---- AdminApi: commands ----

  issueStatement(counterparty: ShopId, untilMs?: number) {
    return this.parts.settlement.issue(counterparty, untilMs)
  }

  async acceptStatement(ref: string, disputes: readonly DisputedLine[]) {
    return this.parts.settlement.accept((await views.findStatement(this.parts, ref)).hash, disputes)
  }

  async payStatement(ref: string, reference: string) {
    return this.parts.settlement.pay((await views.findStatement(this.parts, ref)).hash, reference)
  }

  async confirmStatement(ref: string) {
    return this.parts.settlement.confirm((await views.findStatement(this.parts, ref)).hash)
  }

  waitForAcks(seq: number, timeoutMs: number): Promise<boolean> {
    return this.parts.replication.waitForAcks(seq, timeoutMs)
  }

  verifyFeed(author: ShopId) {
    return this.parts.replication.verifyHeld(author)
  }

  consign(holder: ShopId, sku: string, count: number) {
    return this.parts.allotments.consign(holder, sku, count)
  }

  recall(holder: ShopId, allotment: string) {
    return this.parts.allotments.recall(holder, allotment)
  }

  revokePartner(partner: ShopId, reason: string) {
    return this.parts.revocations.revoke(partner, reason)
  }

  decideKeys(keyIds: readonly string[], decision: 'write-off' | 'bill' | 'reconsign') {
    return this.parts.allotments.decide(keyIds, decision)
  }

  // ---- AdminApi and PublicApi: reads ----

  balances = () => views.balances(this.parts)
  statements = () => views.statements(this.parts)
  findStatement = (ref: string) => views.findStatement(this.parts, ref)
  exportStatements = (format: 'csv' | 'json', ref?: string, fromMs?: number, toMs?: number) => views.exportStatements(this.parts, format, ref, fromMs, toMs)
  identity = () => views.identity(this.parts)
  partners = () => views.partners(this.parts)
  selfStatus = () => views.selfStatus(this.parts)
  escrow = () => views.escrow(this.parts)
  listEscrow = (origin: ShopId, after: string | undefined, limit: number) => views.listEscrow(this.parts, origin, after, limit)
  feeds = () => views.feeds(this.parts)
  incidents = () => views.incidents(this.parts)
  drill = (options: { partner?: ShopId; sku?: string }) => this.parts.drills.run(options)
  drills = () => this.parts.drills.history()
  refusals = () => views.refusals(this.parts)
  exposedKeys = () => views.exposedKeys(this.parts)
  holdings = () => views.holdings(this.parts)
  claim = (form: ClaimForm) => views.claim(this.parts, form)
  shopStatus = (shop: ShopId) => views.shopStatus(this.parts, shop)
}
