// What we hear from each partner: its heartbeats. The one owner of liveness: the failover judges
// suspicion from it, the claim book asks whether a claimant is alive, the handback asks whether
// we are caught up, the admin view shows it. Only a new, verified heartbeat is a sign of life.
import { type Heartbeat, type PlatformHealth, type ShopId, verifyDocument } from '../../protocol/index.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import type { Clock, Logger } from './ports.js'

export interface PeerView {
  /** When we took this partner's newest heartbeat (our clock), or null: not since we started. */
  readonly lastHeartbeatAt: number | null
  readonly platform: PlatformHealth
  /** The head of its own feed its newest heartbeat advertised. */
  readonly advertisedSeq: number
}

const NEVER_HEARD: PeerView = { lastHeartbeatAt: null, platform: 'unknown', advertisedSeq: 0 }

export class Liveness {
  private readonly peers = new Map<ShopId, PeerView>()
  /** Signed time of the newest heartbeat taken from each partner (replays are not newer). */
  private readonly newestHeartbeat = new Map<ShopId, number>()
  /** When a takeover of each origin was last handed back: its quiet is counted from then. */
  private readonly handedBackAt = new Map<ShopId, number>()

  constructor(
    private readonly deps: {
      readonly me: ShopId
      readonly federation: Federation
      readonly clock: Clock
      readonly logger: Logger
      /** The node's observers only (not the incident book): a heartbeat is no incident. */
      readonly observe?: EventSink | undefined
    },
  ) {
    for (const partner of deps.federation.partners) this.peers.set(partner, NEVER_HEARD)
  }

  /** Verifies a partner's heartbeat; returns it if it is news (a sign of life), null otherwise. */
  onHeartbeat(from: ShopId, raw: unknown): Heartbeat | null {
    const verified = verifyDocument('heartbeat', raw)
    const hb = verified.ok ? verified.value.body : null
    if (!hb || hb.from !== from || hb.to !== this.deps.me || !this.deps.federation.knowsTerms(hb.terms)) {
      this.deps.logger.warn(
        { from, reason: verified.ok ? 'heartbeat not from this peer, not for us, or other terms' : verified.error.message },
        'rejected heartbeat',
      )
      return null
    }
    // A replayed or long-delayed copy (not newer than the last one we took, or older than a partner
    // would wait before suspecting, give or take the clock skew the terms allow) changes nothing:
    // it must not keep a dead origin alive, undo a down-vote or be answered with a lease.
    const newest = this.newestHeartbeat.get(from)
    const { suspectAfterMs, maxClockSkewMs } = this.deps.federation.terms.timing
    const now = this.deps.clock.now()
    if ((newest !== undefined && hb.time <= newest) || now - hb.time > suspectAfterMs + maxClockSkewMs) {
      this.deps.logger.debug({ from, time: hb.time, newest }, 'ignored a replayed or stale heartbeat')
      return null
    }
    if (!this.peers.has(from)) throw new Error(`liveness: a heartbeat from ${from}, who is no partner, got past the partner check`)
    this.newestHeartbeat.set(from, hb.time)
    this.peers.set(from, { lastHeartbeatAt: now, platform: hb.platform, advertisedSeq: hb.head.seq })
    this.deps.observe?.(now, { kind: 'heartbeat', from, platform: hb.platform })
    return hb
  }

  view(partner: ShopId): PeerView {
    return this.peers.get(partner) ?? NEVER_HEARD
  }

  /** Partners and what we heard from them, in the terms' order. */
  all(): IterableIterator<[ShopId, PeerView]> {
    return this.peers.entries()
  }

  /** Heard from within the suspect window. */
  isAlive(partner: ShopId): boolean {
    const seen = this.peers.get(partner)?.lastHeartbeatAt
    return seen !== null && seen !== undefined && this.deps.clock.now() - seen <= this.deps.federation.terms.timing.suspectAfterMs
  }

  /**
   * Since when the failover counts an origin's silence: its newest heartbeat, or the handback of
   * our takeover of it if that came later (a handback is news from the origin too).
   */
  quietSince(origin: ShopId): number | null {
    const heard = this.view(origin).lastHeartbeatAt
    const handedBack = this.handedBackAt.get(origin)
    if (handedBack === undefined) return heard
    return heard === null ? handedBack : Math.max(heard, handedBack)
  }

  handedBack(origin: ShopId, at: number): void {
    this.handedBackAt.set(origin, at)
  }
}
