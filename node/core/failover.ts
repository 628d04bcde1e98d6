// Failure detection and authority (docs/design.md §6, invariants 4, 5 and 8), from both sides.
// As a partner: watch each origin's heartbeats, vote it down when it goes quiet or reports its
// platform down, certify with a quorum, take over after the takeover delay (or at once on the
// origin's own request), and grant leases only while we have not voted.
// As an origin: keep leases from enough partners or fence ourselves; ask partners to take over
// when our platform is down; learn our new epoch from the authority partners show us.
// Every authority acted on is adopted in state/authorities.ts in the same synced write that
// records the failover step: receipts, claims and fees for that epoch are judged against it.
import {
  assert,
  type Authority,
  buildCertificate,
  type DownVote,
  type FailoverView,
  failoverStep,
  type Heartbeat,
  healthSilenceMs,
  type Identity,
  INITIAL_VIEW,
  type PlatformHealth,
  type ShopId,
  type Signed,
  signDocument,
  type TakeoverRequest,
  verifyAuthority,
  verifyDocument,
} from '../../protocol/index.js'
import type { Background } from './background.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import { Fence } from './fence.js'
import { type HealthReport, type HealthSource, HealthSilence } from './health-silence.js'
import { Signal, type Startable, type Timers } from './lifecycle.js'
import type { Liveness } from './liveness.js'
import type { Adapter, Clock, Logger, Store, Transport } from './ports.js'
import { authorityEpoch, authorityOrigin, authorityStart } from './state/authorities.js'
import type { State } from './state/index.js'
import { Tx } from './state/tx.js'
import { MAX_CERTIFICATE_SHOWINGS_AFTER_HANDBACK, NEVER_HEARD_GRACE_FACTOR } from './limits.js'

/** Our failover view of one origin. What we hear from it is Liveness's (liveness.ts). */
export interface OriginWatch {
  view: FailoverView
  suspectSince: number | null
  /** Down-votes for epoch view.epoch + 1, ours included. */
  votes: Map<ShopId, Signed<DownVote>>
  votedAt: number | null
  certifiedAt: number | null
  takenOverAt: number | null
  authority: Authority | null
  /**
   * The origin asked for the epoch we hold by certificate with a request of its own: it may date
   * the epoch from its request and hold our earlier receipts. We show it our certificate (when
   * shown last), so it learns the epoch's earlier start (seed-3327).
   */
  certificateShownAt: number | null
  /** Showings outside the 'taken-over' phase, i.e. after the handback (bounded: MAX_CERTIFICATE_SHOWINGS_AFTER_HANDBACK). */
  shownAfterHandback: number
  originRequested: number | null
}

interface StoredWatch {
  view: FailoverView
  authority: Authority | null
  certifiedAt: number | null
  takenOverAt: number | null
}

const watchKey = (origin: ShopId) => `failover!${origin}`
const OWN_EPOCH = 'own-epoch'

export class Failover implements Startable {
  private readonly watches = new Map<ShopId, OriginWatch>()
  /** We became responsible for fulfilling `origin`'s orders at `epoch` (durably). */
  readonly takenOver = new Signal<[origin: ShopId, epoch: number, authority: Authority]>()
  /** Whether our shop may deliver: decided by leases and our own takeover. */
  private readonly fence: Fence
  private ownEpoch = 0
  /** Our authority for the current epoch when we were taken over and have not handed back. */
  private ownTakeover: Authority | null = null
  /** What heartbeats say: 'down' only once our takeover request is durable and adopted. */
  private platform: PlatformHealth = 'unknown'
  /**
   * The newest report, set as it arrives: while a 'down' report's request is being written,
   * `platform` still says 'up' and our takeover is already adopted; the handback must wait for
   * this, not `platform` (byz-301: the origin handed an epoch back the moment it asked for it).
   */
  private newestReport: PlatformHealth = 'unknown'
  /** Signed time of the newest down-vote taken per origin!voter, kept when votes are cleared. */
  private readonly newestVote = new Map<string, number>()
  private startedAt = 0
  /** When our previous tick ran. */
  private lastTickAt: number | null = null
  /**
   * When we last came back from not running (a gap between ticks over the suspect window:
   * SIGSTOP, a suspended VM, a starved event loop). Partners' silence before it says nothing: their
   * heartbeats may still be queued in our sockets, and our timers ran before our reads did.
   */
  private resumedAt = Number.NEGATIVE_INFINITY
  /** The adapter's health reports, and what their end means (health-silence.ts). */
  private health = new HealthSilence(0)
  /** Earlier revisions authority may still be under (D97): a takeover certified just before one took force. */
  private readonly earlier = (hash: string) => this.deps.federation.termsFor(hash)

  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly federation: Federation
      readonly store: Store
      readonly state: State
      readonly transport: Transport
      readonly clock: Clock
      readonly timers: Timers
      readonly logger: Logger
      readonly background: Background
      readonly emit: EventSink
      readonly liveness: Liveness
      readonly adapter: Adapter
    },
  ) {
    const { identity, federation, clock, timers, logger, adapter, emit } = deps
    this.fence = new Fence({
      identity,
      federation,
      clock,
      timers,
      logger,
      adapter,
      emit,
      epoch: () => this.ownEpoch,
      takenOver: () => this.ownTakeover !== null,
    })
  }

  private get timing() {
    return this.deps.federation.terms.timing
  }

  async start(): Promise<void> {
    this.startedAt = this.deps.clock.now()
    this.health = new HealthSilence(this.startedAt)
    const own = await this.deps.store.get<{ epoch: number; takeover: Authority | null }>('meta', OWN_EPOCH)
    this.ownEpoch = own?.epoch ?? 0
    this.ownTakeover = own?.takeover ?? null
    for (const origin of this.deps.federation.partners) {
      const stored = await this.deps.store.get<StoredWatch>('meta', watchKey(origin))
      this.watches.set(origin, {
        view: stored?.view ?? INITIAL_VIEW,
        suspectSince: null,
        votes: new Map(),
        votedAt: null,
        certifiedAt: stored?.certifiedAt ?? null,
        takenOverAt: stored?.takenOverAt ?? null,
        authority: stored?.authority ?? null,
        certificateShownAt: null,
        shownAfterHandback: 0,
        originRequested: null,
      })
    }
  }

  epoch(): number {
    return this.ownEpoch
  }

  takenOverAuthority(): Authority | null {
    return this.ownTakeover
  }

  platformHealth(): PlatformHealth {
    return this.platform
  }

  /** The shop is up by its newest report, and no takeover request of ours is being written. */
  mayHandBack(): boolean {
    return this.platform === 'up' && this.newestReport === 'up'
  }

  isFenced(): boolean {
    return this.fence.isFenced()
  }

  /** Tells the shop the fence we decided, until its adapter confirms (every tick). */
  applyFence(): void {
    this.fence.apply()
  }

  /** Our view of each origin, read-only: the failover alone steps it. */
  views(): ReadonlyMap<ShopId, Readonly<OriginWatch>> {
    return this.watches
  }

  /** Origins we hold a takeover of now, with its epoch. */
  takeovers(): { origin: ShopId; epoch: number }[] {
    return [...this.watches].filter(([, w]) => w.view.phase === 'taken-over').map(([origin, w]) => ({ origin, epoch: w.view.epoch }))
  }

  /** The epoch of `origin` we hold authority for and act in now, or null (claims are judged by it). */
  takeoverEpoch(origin: ShopId): number | null {
    const view = this.watches.get(origin)?.view
    return view && (view.phase === 'certified' || view.phase === 'taken-over') ? view.epoch : null
  }

  private async persistWatch(origin: ShopId, w: OriginWatch, adopt: Authority | null = null): Promise<void> {
    const value: StoredWatch = { view: w.view, authority: w.authority, certifiedAt: w.certifiedAt, takenOverAt: w.takenOverAt }
    // Authority must be durable before we act on it (a restart must not forget a takeover).
    const tx = new Tx()
    tx.put('meta', watchKey(origin), value)
    if (adopt) this.deps.state.authorities.adopt(tx, adopt, this.deps.clock.now())
    await this.deps.state.commit(tx)
  }

  // ---- the periodic step ----

  tick(): void {
    const now = this.deps.clock.now()
    if (this.lastTickAt !== null && now - this.lastTickAt > this.timing.suspectAfterMs) {
      this.resumedAt = now
      this.health.resumed(now)
      this.deps.logger.warn(
        { stalledMs: now - this.lastTickAt },
        'this node did not run for longer than the suspect window (paused, suspended or starved): partners are judged afresh from now, not by the silence it missed',
      )
    }
    this.lastTickAt = now
    if (this.health.check(now, this.timing)) {
      this.platform = 'unknown'
      const silentMs = healthSilenceMs(this.timing)
      this.deps.logger.warn(
        { silentMs, lastReport: this.health.lastReport },
        'no health report from the shop for longer than the terms allow: platform unknown. Partners do not take over on silence alone (adapters/README.md, "Silence"). If the shop is stopped, run `standin platform down` and partners deliver its paid orders; if it runs, check its adapter',
      )
      this.deps.emit(now, { kind: 'platform-silent', silentMs })
    }
    for (const [origin, w] of this.watches) this.watchTick(origin, w, now)
    this.evaluateFence()
  }

  private watchTick(origin: ShopId, w: OriginWatch, now: number): void {
    const phase = w.view.phase
    if (phase === 'certified') {
      if (w.certifiedAt !== null && now - w.certifiedAt >= this.timing.takeoverDelayMs) this.takeOver(origin, w, 'takeover-delay-elapsed')
      return
    }
    if (phase === 'taken-over') return
    // A partner we have not heard from since we started gets a longer grace: it may simply be
    // starting more slowly than we did, and suspecting it would only make noise (or, if all of
    // its partners started early, a needless takeover).
    // Back from a pause, we wait a whole suspect window before we call anyone quiet: what they sent
    // meanwhile is read after this tick (re-baselining what we heard; issue 17).
    const rested = now - this.resumedAt > this.timing.suspectAfterMs
    const quietSince = this.deps.liveness.quietSince(origin)
    const quiet =
      rested &&
      (quietSince === null ? now - this.startedAt > this.timing.suspectAfterMs * NEVER_HEARD_GRACE_FACTOR : now - quietSince > this.timing.suspectAfterMs)
    const down = this.deps.liveness.view(origin).platform === 'down'
    if (!quiet && !down) {
      if (phase === 'suspect') this.step(origin, w, { type: 'heartbeat-ok' })
      w.suspectSince = null
      w.votes.clear()
      w.votedAt = null
      return
    }
    if (phase !== 'suspect') {
      this.step(origin, w, { type: 'suspect' })
      w.suspectSince = now
      this.deps.emit(now, {
        kind: 'suspect',
        origin,
        epoch: w.view.epoch + 1,
        reason: down ? 'platform-down' : 'heartbeat-timeout',
        lastHeartbeatAt: quietSince,
      })
    }
    const vote = signDocument(
      'down-vote',
      {
        voter: this.deps.identity.id,
        origin,
        terms: this.deps.federation.termsHash,
        epoch: w.view.epoch + 1,
        time: now,
        reason: down ? 'platform-down' : 'heartbeat-timeout',
      },
      this.deps.identity,
    )
    if (w.votedAt === null) this.deps.emit(now, { kind: 'vote', origin, voter: this.deps.identity.id, epoch: vote.body.epoch })
    w.votedAt ??= now
    w.votes.set(this.deps.identity.id, vote)
    // Re-sent every tick while suspect: votes are small and the network may lose them.
    for (const partner of this.deps.federation.partners) if (partner !== origin) this.deps.transport.send(partner, 'control', { type: 'down-vote', vote })
    this.deps.background.run('failover.certify', () => this.tryCertify(origin, w))
  }

  private step(origin: ShopId, w: OriginWatch, event: Parameters<typeof failoverStep>[1]): boolean {
    const next = failoverStep(w.view, event)
    if (!next.ok) {
      this.deps.logger.debug({ origin, event: event.type, reason: next.error.message }, 'failover step refused')
      return false
    }
    // Epochs only rise: an authority once adopted is never undone by a later step.
    assert(next.value.epoch >= w.view.epoch, `failover of ${origin}: epoch ${w.view.epoch} → ${next.value.epoch}`)
    w.view = next.value
    return true
  }

  /** Votes older than this no longer count: an origin that recovered must not be certified later. */
  get voteTtlMs(): number {
    return this.timing.suspectAfterMs + this.timing.takeoverDelayMs
  }

  private async tryCertify(origin: ShopId, w: OriginWatch): Promise<void> {
    if (w.view.phase !== 'suspect') return
    const now = this.deps.clock.now()
    const fresh = [...w.votes.values()].filter((v) => now - v.body.time <= this.voteTtlMs)
    const cert = buildCertificate(this.deps.federation.terms, origin, w.view.epoch + 1, fresh, this.deps.federation.revoked())
    if (!cert.ok) return
    const authority: Authority = { kind: 'certificate', certificate: cert.value }
    await this.certify(origin, w, authority, cert.value.epoch)
    for (const partner of this.deps.federation.partners)
      if (partner !== origin) this.deps.transport.send(partner, 'control', { type: 'certificate', certificate: cert.value })
  }

  private async certify(origin: ShopId, w: OriginWatch, authority: Authority, epoch: number): Promise<void> {
    if (!this.step(origin, w, { type: 'certificate', epoch })) return
    const now = this.deps.clock.now()
    w.authority = authority
    w.certifiedAt = now
    w.votes.clear()
    await this.persistWatch(origin, w, authority)
    this.deps.emit(now, {
      kind: 'certified',
      origin,
      epoch,
      voters: authority.kind === 'certificate' ? authority.certificate.votes.map((v) => ({ voter: v.body.voter, time: v.body.time })) : [],
    })
    // Act the moment the delay has passed, not at the next heartbeat tick.
    this.deps.timers.set(this.timing.takeoverDelayMs, () => {
      if (w.view.phase === 'certified' && w.view.epoch === epoch) this.takeOver(origin, w, 'takeover-delay-elapsed')
    })
  }

  private takeOver(origin: ShopId, w: OriginWatch, how: 'takeover-delay-elapsed' | 'takeover-request', epoch?: number): void {
    const event = how === 'takeover-request' ? { type: how, epoch: epoch as number } : { type: how }
    if (!this.step(origin, w, event as Parameters<typeof failoverStep>[1])) return
    const now = this.deps.clock.now()
    w.takenOverAt = now
    const authority = w.authority as Authority
    const epochTaken = w.view.epoch
    this.deps.background.run('failover.take-over', () =>
      this.persistWatch(origin, w, authority).then(() => {
        // A handback may have arrived while the takeover was being written: then it is already over
        // and must not start fulfilment (found by the simulator, seed-4).
        if (w.view.phase !== 'taken-over' || w.view.epoch !== epochTaken) return
        this.deps.emit(now, { kind: 'taken-over', origin, epoch: epochTaken })
        this.takenOver.emit(origin, epochTaken, authority)
      }),
    )
  }

  // ---- messages from partners ----

  /** A new heartbeat from `from` (Liveness took it): answer with a lease or show it its epoch. */
  onHeartbeat(from: ShopId, hb: Heartbeat): void {
    const w = this.watches.get(from)
    if (!w) return
    const now = this.deps.clock.now()
    if (w.view.epoch > hb.epoch && w.authority) {
      // The origin is behind: show it the authority for its new epoch instead of a lease.
      this.sendAuthority(from, w.authority)
      return
    }
    // If the origin asked for the epoch itself, it hears our certificate again now and then (the
    // first showing may have been lost): until it hands back, and a bounded number of times after,
    // since it may hand back before any showing reached it and then hold our receipts dated before
    // its request for good (byz-359).
    if (hb.epoch === w.view.epoch && w.originRequested === w.view.epoch) {
      const due = w.certificateShownAt === null || now - w.certificateShownAt >= this.timing.suspectAfterMs
      if (due && w.view.phase === 'taken-over') this.showCertificate(from, w)
      else if (due && w.shownAfterHandback < MAX_CERTIFICATE_SHOWINGS_AFTER_HANDBACK) {
        w.shownAfterHandback++
        this.showCertificate(from, w)
      }
    }
    if (w.view.phase === 'handed-back' && hb.platform !== 'down') this.step(from, w, { type: 'heartbeat-ok' })
    if (w.votedAt !== null || w.view.phase === 'certified' || w.view.phase === 'taken-over') return
    const lease = signDocument(
      'lease',
      {
        grantor: this.deps.identity.id,
        origin: from,
        terms: this.deps.federation.termsHash,
        epoch: hb.epoch,
        time: now,
        untilMs: hb.time + this.timing.leaseTtlMs,
      },
      this.deps.identity,
    )
    this.deps.transport.send(from, 'control', { type: 'lease', lease })
  }

  private showCertificate(origin: ShopId, w: OriginWatch): void {
    if (w.authority?.kind !== 'certificate') return
    w.certificateShownAt = this.deps.clock.now()
    this.sendAuthority(origin, w.authority)
  }

  private sendAuthority(to: ShopId, authority: Authority): void {
    if (authority.kind === 'certificate') this.deps.transport.send(to, 'control', { type: 'certificate', certificate: authority.certificate })
    else this.deps.transport.send(to, 'control', { type: 'takeover.request', request: authority.request })
  }

  onVote(from: ShopId, raw: unknown): void {
    const verified = verifyDocument('down-vote', raw)
    if (!verified.ok || verified.value.body.voter !== from)
      return this.reject(from, 'down-vote', verified.ok ? 'voter is not the sender' : verified.error.message)
    const vote = verified.value
    const w = this.watches.get(vote.body.origin)
    if (!w || vote.body.terms !== this.deps.federation.termsHash || vote.body.epoch !== w.view.epoch + 1) return
    // A replayed vote (not newer than the newest we took from this voter about this origin) or one
    // too old to count in a certificate changes nothing: no second count, no event, no incident.
    const newestKey = `${vote.body.origin}!${from}`
    if (vote.body.time <= (this.newestVote.get(newestKey) ?? -1) || this.deps.clock.now() - vote.body.time > this.voteTtlMs) return
    this.newestVote.set(newestKey, vote.body.time)
    w.votes.set(from, vote)
    this.deps.emit(this.deps.clock.now(), { kind: 'vote', origin: vote.body.origin, voter: from, epoch: vote.body.epoch })
    if (w.view.phase === 'suspect') this.deps.background.run('failover.certify', () => this.tryCertify(vote.body.origin, w))
  }

  /** A certificate or takeover request, about one of our partners or about us. */
  onAuthority(from: ShopId, authority: Authority): void {
    const origin = authority.kind === 'certificate' ? authority.certificate.origin : authority.request.body.origin
    if (origin === this.deps.identity.id) return this.onAuthorityAboutUs(from, authority)
    const w = this.watches.get(origin)
    if (!w) return
    const checked = verifyAuthority(authority, this.deps.federation.terms, w.view.epoch, this.deps.federation.revoked(), this.earlier)
    if (!checked.ok) {
      if (checked.error.code !== 'stale') this.reject(from, authority.kind, checked.error.message)
      // An epoch we are past may still have had this authority, earlier than the one we adopted:
      // receipts dated between the two are then authorised (registry only, nothing to act on).
      else if (authority.kind === 'request' || this.freshEnough(authority.certificate.votes)) this.evidence(authority)
      if (authority.kind === 'request' && authorityEpoch(authority) === w.view.epoch && w.authority?.kind === 'certificate') {
        if (w.originRequested !== w.view.epoch) w.shownAfterHandback = 0
        w.originRequested = w.view.epoch
        this.showCertificate(origin, w)
      }
      return
    }
    if (authority.kind === 'certificate' && !this.freshEnough(authority.certificate.votes)) {
      return this.reject(from, 'certificate', 'fewer than a quorum of its votes are recent: old votes cannot authorise a takeover now')
    }
    if (authority.kind === 'request') {
      if (w.view.phase === 'certified' || w.view.phase === 'taken-over') return
      w.authority = authority
      this.takeOver(origin, w, 'takeover-request', checked.value.epoch)
      return
    }
    this.deps.background.run('failover.certify', () => this.certify(origin, w, authority, checked.value.epoch))
  }

  /**
   * A certificate we did not build only authorises a takeover if a quorum of its votes are as
   * fresh as ones we would count ourselves (plus the time it may have travelled): otherwise
   * colluders below the quorum could complete it with an honest partner's vote from an earlier,
   * passing suspicion. (The origin itself still adopts any valid certificate about it: fencing is
   * the safe side, and after a restart it must learn a takeover it slept through.)
   */
  private freshEnough(votes: readonly Signed<DownVote>[]): boolean {
    const now = this.deps.clock.now()
    const maxAge = this.voteTtlMs + this.timing.maxClockSkewMs + this.timing.maxMessageDelayMs
    return votes.filter((v) => now - v.body.time <= maxAge).length >= this.deps.federation.terms.quorum && !this.fromTheFuture(votes)
  }

  /** A vote dated further ahead than clocks and the network allow is a lie (and would skew the epoch's start). */
  private fromTheFuture(votes: readonly Signed<DownVote>[]): boolean {
    const limit = this.deps.clock.now() + this.timing.maxClockSkewMs + this.timing.maxMessageDelayMs
    return votes.some((v) => v.body.time > limit)
  }

  /**
   * A certificate about us, from a partner. We adopt any valid one: a partner may have acted on it
   * (delivered our orders with our keys) while we could not hear it, and those deliveries must be
   * taken here, the epoch handed back, the books kept in step. But if a quorum of partners still
   * grant us leases and its votes are stale, we were demonstrably reachable: colluders may have
   * completed it with an honest partner's old vote. Then the epoch is adopted as `contested`: the
   * deliveries under it are facts, their fees are booked disputed ('contested-takeover'), and we
   * hand back as soon as we are caught up.
   */
  private onAuthorityAboutUs(from: ShopId, authority: Authority): void {
    const checked = verifyAuthority(authority, this.deps.federation.terms, this.ownEpoch, this.deps.federation.revoked(), this.earlier)
    if (authority.kind === 'certificate' && this.fromTheFuture(authority.certificate.votes))
      return this.reject(from, 'certificate', 'a vote is dated ahead of now: not adopted')
    if (!checked.ok) {
      if (checked.error.code !== 'stale') this.reject(from, authority.kind, checked.error.message)
      else this.evidence(authority)
      return
    }
    const contested =
      authority.kind === 'certificate' &&
      !this.freshEnough(authority.certificate.votes) &&
      this.fence.leaseCount() >= this.deps.federation.terms.quorum &&
      this.ownTakeover === null
    if (contested)
      this.deps.logger.warn(
        { from, epoch: checked.value.epoch },
        'a stale certificate about us while a quorum of partners grant us leases: adopted as contested (fees under it disputed)',
      )
    this.deps.background.run('failover.adopt-epoch', () => this.adoptEpoch(checked.value.epoch, authority, contested))
  }

  /**
   * Another valid authority for an epoch we adopted already: the registry keeps the earliest start
   * (it never learns a new epoch this way: adopting one is the failover's decision).
   */
  private evidence(authority: Authority): void {
    if (!verifyAuthority(authority, this.deps.federation.terms, 0, this.deps.federation.revoked(), this.earlier).ok) return
    const known = this.deps.state.authorities.get(authorityOrigin(authority), authorityEpoch(authority))
    if (!known || known.startsAt <= authorityStart(authority)) return
    const tx = new Tx()
    this.deps.state.authorities.adopt(tx, authority, this.deps.clock.now())
    this.deps.background.run('failover.evidence', () => this.deps.state.commit(tx))
  }

  private async adoptEpoch(epoch: number, authority: Authority, contested = false): Promise<void> {
    if (epoch <= this.ownEpoch) return
    assert(
      authorityOrigin(authority) === this.deps.identity.id && authorityEpoch(authority) === epoch,
      `adopting epoch ${epoch} on an authority for another origin or epoch`,
    )
    this.ownEpoch = epoch
    this.ownTakeover = authority
    const tx = new Tx()
    tx.put('meta', OWN_EPOCH, { epoch, takeover: authority })
    this.deps.state.authorities.adopt(tx, authority, this.deps.clock.now(), contested)
    await this.deps.state.commit(tx)
    this.deps.logger.warn({ epoch, kind: authority.kind }, 'partners took over our orders; fenced until handback')
    const voters = authority.kind === 'certificate' ? authority.certificate.votes.map((v) => ({ voter: v.body.voter, time: v.body.time })) : []
    const { pending } = this.deps.state.orders.countsOf(this.deps.identity.id)
    this.deps.emit(this.deps.clock.now(), { kind: 'own-takeover', epoch, how: authority.kind, voters, pending })
    this.evaluateFence()
  }

  /**
   * A takeover request in its origin's own feed: the origin's signed word, so the epoch is adopted
   * with the entry (receipts of that epoch are judged by it, also long after); acting on it is
   * the same as for the control message.
   */
  requestInFeed(tx: Tx, author: ShopId, raw: Signed<TakeoverRequest>): void {
    const checked = verifyAuthority({ kind: 'request', request: raw }, this.deps.federation.terms, 0, this.deps.federation.revoked(), this.earlier)
    if (!checked.ok || checked.value.origin !== author) {
      this.deps.logger.warn({ author, reason: checked.ok ? 'a request for another origin' : checked.error.message }, 'takeover request in a feed refused')
      return
    }
    const authority: Authority = { kind: 'request', request: raw }
    this.deps.state.authorities.adopt(tx, authority, this.deps.clock.now())
    tx.afterCommit(() => this.onAuthority(author, authority))
  }

  onLease(from: ShopId, raw: unknown): void {
    const refused = this.fence.onLease(from, raw)
    if (refused !== null) this.reject(from, 'lease', refused)
  }

  private reject(from: ShopId, what: string, reason: string): void {
    this.deps.logger.warn({ from, what, reason }, 'rejected control message')
    this.deps.emit(this.deps.clock.now(), { kind: 'message-rejected', from, code: what, reason })
  }

  /** The origin's handback for `epoch` appeared in its feed: our takeover of it is over. Returns whether it ended one. */
  applyHandback(origin: ShopId, epoch: number): boolean {
    const w = this.watches.get(origin)
    if (!w || !this.step(origin, w, { type: 'handback', epoch })) return false
    this.deps.liveness.handedBack(origin, this.deps.clock.now())
    w.votes.clear()
    w.votedAt = null
    this.deps.background.run('failover.handback', () => this.persistWatch(origin, w))
    return true
  }

  // ---- origin side ----

  heartbeatFor(partner: ShopId, head: { seq: number; hash: string | null }): Signed<Heartbeat> {
    return signDocument(
      'heartbeat',
      {
        from: this.deps.identity.id,
        to: partner,
        terms: this.deps.federation.termsHash,
        epoch: this.ownEpoch,
        time: this.deps.clock.now(),
        platform: this.platform,
        head,
      },
      this.deps.identity,
    )
  }

  /** What the adapter (or the operator) last reported, and whether the adapter has gone silent. */
  healthReporting(): { lastReport: HealthReport | null; silent: boolean } {
    return { lastReport: this.health.lastReport, silent: this.health.isSilent }
  }

  /** The adapter (or the operator) reports the shop platform's health; down → ask partners to take over. */
  async setPlatform(platform: PlatformHealth, onRequest: (authority: Authority) => Promise<void>, source: HealthSource = 'adapter'): Promise<void> {
    if (this.health.reported({ platform, source, at: this.deps.clock.now() })) this.deps.logger.info({ platform, source }, 'health reports resumed')
    this.newestReport = platform
    if (platform !== 'down' || this.ownTakeover) {
      this.platform = platform
      return
    }
    const request = signDocument(
      'takeover-request',
      {
        origin: this.deps.identity.id,
        terms: this.deps.federation.termsHash,
        epoch: this.ownEpoch + 1,
        time: this.deps.clock.now(),
        reason: 'the shop platform reported itself down',
      },
      this.deps.identity,
    )
    const authority: Authority = { kind: 'request', request }
    await onRequest(authority) // durable in our feed before anyone acts on it
    await this.adoptEpoch(request.body.epoch, authority)
    for (const partner of this.deps.federation.partners) this.deps.transport.send(partner, 'control', { type: 'takeover.request', request })
    // Only now may heartbeats say "down": partners hear our request before they could start voting.
    // A newer report that came while the request was written stands.
    if (this.newestReport === platform) this.platform = platform
  }

  /**
   * Our own handback, taken back after a restore (own-records.ts): that epoch was ours and is over,
   * so our epoch is at least it (a restored node never asks for an epoch its partners closed).
   * False when we are taken over now: then the epoch is the failover's to settle.
   */
  handbackTakenBack(tx: Tx, epoch: number): boolean {
    if (this.ownTakeover !== null) return false
    if (epoch <= this.ownEpoch) return true
    tx.put('meta', OWN_EPOCH, { epoch, takeover: null })
    tx.afterCommit(() => {
      if (this.ownTakeover === null && epoch > this.ownEpoch) this.ownEpoch = epoch
    })
    return true
  }

  /** After a handback our takeover is over: deliver again once leases allow. */
  async handedBack(): Promise<void> {
    this.ownTakeover = null
    const tx = new Tx()
    tx.put('meta', OWN_EPOCH, { epoch: this.ownEpoch, takeover: null })
    this.deps.state.authorities.ended(tx, this.deps.identity.id, this.ownEpoch, this.deps.clock.now())
    await this.deps.state.commit(tx)
    this.fence.clearLeases()
    this.evaluateFence()
  }

  /** Fence when we are taken over, or when too few partners still grant us a lease. */
  evaluateFence(): void {
    this.fence.evaluate()
  }

  stop(): void {
    this.fence.stop()
  }
}
