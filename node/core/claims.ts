// Claims by co-partners during a takeover (docs/design.md §6 "Which partner fulfils"), from control
// messages and from their feeds alike. A claim is a partner's signed word that it will fulfil some
// orders; it counts here only if:
//  - it is for the takeover we are in: the origin's epoch we adopted authority for, our terms;
//  - it is not dated ahead of its arrival (clock skew and delay aside);
//  - for each order: we hold the order pending, and the claimant is a candidate for it (the
//    origin consigned it keys of the order's sku and it has not given them all back or used them).
// A claim holds an order only against partners ranked after the claimant (rendezvous rank), only
// while the claimant is alive, and for claimTtlMs from when we first saw it; a claimant's later
// claims for the same order in the same epoch extend nothing. Anything else is refused and listed
// for the operator. Memory: one entry per (order we hold pending, candidate), reset per takeover.
import { type Claim, claimTtlMs, rankPartners, type ShopId, type Signed, verifyDocument } from '../../protocol/index.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import type { Clock, Logger } from './ports.js'
import type { State } from './state/index.js'
import { Tx } from './state/tx.js'

export interface SeenClaim {
  readonly claimant: ShopId
  /** The claim's own signed time. */
  readonly signedAt: number
  /** When we first saw this claimant claim this order in this epoch (our clock). */
  readonly seenAt: number
  readonly expiresAt: number
}

interface EpochClaims {
  readonly epoch: number
  /** order → claimant → its claim. */
  readonly orders: Map<string, Map<ShopId, SeenClaim>>
}

export interface ClaimBookDeps {
  readonly me: ShopId
  readonly federation: Federation
  readonly state: State
  readonly clock: Clock
  readonly logger: Logger
  readonly emit: EventSink
  /** Is `partner` alive (heartbeat recently)? A dead claimant's claim stops holding orders. */
  readonly isAlive: (partner: ShopId) => boolean
  /** The epoch of `origin` we hold authority for and act in now (certified or taken over), or null. */
  readonly takeoverEpoch: (origin: ShopId) => number | null
}

export class ClaimBook {
  private readonly byOrigin = new Map<ShopId, EpochClaims>()

  constructor(private readonly deps: ClaimBookDeps) {}

  private get ttlMs(): number {
    return claimTtlMs(this.deps.federation.terms.timing)
  }

  /** Claims of earlier takeovers of `origin` are forgotten. */
  reset(origin: ShopId, epoch: number): void {
    if (this.byOrigin.get(origin)?.epoch !== epoch) this.byOrigin.set(origin, { epoch, orders: new Map() })
  }

  forget(origin: ShopId): void {
    this.byOrigin.delete(origin)
  }

  /** Candidates for `origin`'s order of `sku`, best first: the same ranking on every node. */
  ranking(origin: ShopId, order: string, sku: string): ShopId[] {
    const everyone = [...this.deps.federation.partners, this.deps.me]
    return rankPartners(origin, order, this.deps.state.keys.holdersOf(origin, sku, everyone))
  }

  /** The live claim that holds `order` against us (rank `myRank` in `ranked`), if any. */
  holding(origin: ShopId, order: string, ranked: readonly ShopId[], myRank: number, now: number): SeenClaim | null {
    const claims = this.byOrigin.get(origin)?.orders.get(order)
    if (!claims) return null
    const suspectAfterMs = this.deps.federation.terms.timing.suspectAfterMs
    let best: SeenClaim | null = null
    for (const seen of claims.values()) {
      if (seen.claimant === this.deps.me) continue
      const rank = ranked.indexOf(seen.claimant)
      if (rank < 0 || rank >= myRank || now >= seen.expiresAt) continue
      if (!this.deps.isAlive(seen.claimant) && now - seen.seenAt >= suspectAfterMs) continue
      if (!best || rank < ranked.indexOf(best.claimant)) best = seen
    }
    return best
  }

  /**
   * Checks a signed claim from `from` (a control message, or a record of its feed entry `seq`) and
   * notes the orders it may hold. Resolves with those orders, or null when it was refused.
   */
  async take(from: ShopId, raw: Signed<Claim> | unknown, seq: number | null): Promise<{ origin: ShopId; orders: Map<string, SeenClaim> } | null> {
    const verified = verifyDocument('claim', raw)
    if (!verified.ok || verified.value.body.claimant !== from) {
      // Not the sender's own signed word (forwarded, or not verifiable): nothing to hold it to.
      this.deps.logger.warn({ from, reason: verified.ok ? 'the claimant is not the sender' : verified.error.message }, 'claim ignored')
      return null
    }
    const claim = verified.value.body
    const now = this.deps.clock.now()
    const { maxClockSkewMs, maxMessageDelayMs } = this.deps.federation.terms.timing
    if (claim.origin === this.deps.me) return null // claims about our own orders concern only our partners
    if (!this.deps.federation.isPartner(claim.origin)) return this.refuse(from, null, claim.epoch, seq, 'claims orders of a shop that is not a party')
    if (claim.terms !== this.deps.federation.termsHash) return this.refuse(from, claim.origin, claim.epoch, seq, 'claims under other terms than those in force')
    if (!this.deps.state.authorities.get(claim.origin, claim.epoch))
      return this.refuse(from, claim.origin, claim.epoch, seq, `no adopted authority for epoch ${claim.epoch} of this origin`)
    // A takeover we were in and left (handed back), or have not begun: a replay or a late copy, holding nothing.
    if (this.deps.takeoverEpoch(claim.origin) !== claim.epoch) return null
    if (claim.time > now + maxClockSkewMs + maxMessageDelayMs) return this.refuse(from, claim.origin, claim.epoch, seq, `dated ${claim.time - now} ms ahead`)
    // An old claim still counts, for claimTtlMs from now: it is most likely one we read late (its
    // claimant's receipts follow it in the same feed, after a restart of ours). Its first sighting
    // fixes its expiry, so repeating it extends nothing.
    this.reset(claim.origin, claim.epoch)
    const book = this.byOrigin.get(claim.origin) as EpochClaims
    const rows = await this.deps.state.orders.getMany(claim.origin, claim.orders)
    const noted = new Map<string, SeenClaim>()
    let notCandidate = 0
    rows.forEach((row, i) => {
      const order = claim.orders[i] as string
      if (!row || row.state !== 'escrowed') return // unknown to us, or no longer pending: it holds nothing
      if (!this.ranking(claim.origin, order, row.record.sku).includes(from) || this.deps.state.keys.outstanding(claim.origin, row.record.sku, from) <= 0) {
        notCandidate++
        return
      }
      let claims = book.orders.get(order)
      if (!claims) book.orders.set(order, (claims = new Map()))
      const had = claims.get(from)
      if (had) {
        noted.set(order, had) // not extended: the first claim of this claimant for this order stands
        return
      }
      const seen: SeenClaim = { claimant: from, signedAt: claim.time, seenAt: now, expiresAt: now + this.ttlMs }
      claims.set(from, seen)
      noted.set(order, seen)
    })
    if (notCandidate > 0)
      await this.refuse(from, claim.origin, claim.epoch, seq, `the claimant holds no keys for ${notCandidate} of the ${claim.orders.length} orders it claims`)
    if (noted.size > 0) this.deps.emit(now, { kind: 'claim', origin: claim.origin, orders: noted.size, claimant: from })
    return { origin: claim.origin, orders: noted }
  }

  /** Claims held in memory, against the bound: one per order we hold of that origin and candidate. */
  footprint(): { name: string; size: number; limit: number }[] {
    let size = 0
    let limit = 0
    const candidates = this.deps.federation.partners.length + 1
    for (const [origin, book] of this.byOrigin) {
      for (const claims of book.orders.values()) size += claims.size
      const c = this.deps.state.orders.countsOf(origin)
      limit += (c.pending + c.delivered + c.cancelled) * candidates
    }
    return [{ name: 'claims tracked', size, limit }]
  }

  /** Our own claim, so co-partners' later claims are compared with it. */
  ours(origin: ShopId, orders: readonly string[], signedAt: number): void {
    const book = this.byOrigin.get(origin)
    if (!book) return
    const now = this.deps.clock.now()
    for (const order of orders) {
      let claims = book.orders.get(order)
      if (!claims) book.orders.set(order, (claims = new Map()))
      if (!claims.has(this.deps.me)) claims.set(this.deps.me, { claimant: this.deps.me, signedAt, seenAt: now, expiresAt: now + this.ttlMs })
    }
  }

  /** The order is no longer pending: its claims are of no further use. */
  settled(origin: ShopId, orders: readonly string[]): void {
    const book = this.byOrigin.get(origin)
    if (book) for (const order of orders) book.orders.delete(order)
  }

  private async refuse(from: ShopId, origin: ShopId | null, epoch: number | null, seq: number | null, reason: string): Promise<null> {
    const now = this.deps.clock.now()
    this.deps.logger.warn({ from, origin, epoch, reason }, 'claim refused')
    const tx = new Tx()
    this.deps.state.refusals.add(tx, { from, kind: 'claim', origin, order: null, epoch, seq, reason, at: now })
    // Unsynced: the claim itself is the evidence (in the sender's feed, or gone with the message).
    await this.deps.state.commit(tx, { sync: false })
    this.deps.emit(now, { kind: 'refused', from, what: 'claim', origin, order: null, epoch, reason })
    return null
  }
}
