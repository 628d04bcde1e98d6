// The origin's fence: the one owner of whether our shop may deliver escrowed orders. We keep leases
// from enough partners or fence ourselves (a quorum of them could otherwise certify us down and
// deliver the same orders); while partners hold a takeover of us we are fenced too. The decision is
// ours at once; the shop hears it through the adapter, retried every tick until it confirms.
import { type Identity, leaseQuorum, type ShopId, verifyDocument } from '../../protocol/index.js'
import type { EventSink } from './events.js'
import type { Federation } from './federation.js'
import type { Timers } from './lifecycle.js'
import type { Adapter, Clock, Logger, TimerHandle } from './ports.js'

export class Fence {
  /** Lease expiry (our clock) per grantor, for our current epoch. */
  private readonly leases = new Map<ShopId, number>()
  /** Our decision; null until the first evaluation after start. */
  private fenced: boolean | null = null
  /** What the adapter last confirmed. */
  private applied: boolean | null = null
  private lapseTimer: TimerHandle | null = null

  constructor(
    private readonly deps: {
      readonly identity: Identity
      readonly federation: Federation
      readonly clock: Clock
      readonly timers: Timers
      readonly logger: Logger
      readonly adapter: Adapter
      readonly emit: EventSink
      /** Our epoch now (the failover owns it): only leases for it count. */
      readonly epoch: () => number
      /** Partners hold a takeover of us, not handed back (the failover owns it). */
      readonly takenOver: () => boolean
    },
  ) {}

  isFenced(): boolean {
    return this.fenced !== false
  }

  /**
   * A partner's lease for us; a valid one may lift the fence. Returns why it was refused if it is
   * no lease from `from`; one for another epoch or other terms is ignored.
   */
  onLease(from: ShopId, raw: unknown): string | null {
    const verified = verifyDocument('lease', raw)
    if (!verified.ok || verified.value.body.grantor !== from) return verified.ok ? 'grantor is not the sender' : verified.error.message
    const lease = verified.value.body
    if (lease.origin !== this.deps.identity.id || lease.epoch !== this.deps.epoch() || lease.terms !== this.deps.federation.termsHash) return null
    this.leases.set(from, Math.max(this.leases.get(from) ?? 0, lease.untilMs))
    this.evaluate()
    return null
  }

  /** Valid leases we hold now. */
  leaseCount(): number {
    const now = this.deps.clock.now()
    return [...this.leases.values()].filter((until) => until > now).length
  }

  /** A new epoch begins after a handback: leases of the old one no longer count. */
  clearLeases(): void {
    this.leases.clear()
  }

  /** Fence when we are taken over, or when too few partners still grant us a lease. */
  evaluate(): void {
    const now = this.deps.clock.now()
    const needed = leaseQuorum(this.deps.federation.terms)
    const valid = [...this.leases.values()].filter((until) => until > now).sort((a, b) => b - a)
    const leased = needed === 0 || valid.length >= needed
    const fenced = this.deps.takenOver() || !leased
    this.deps.timers.cancel(this.lapseTimer)
    this.lapseTimer = null
    if (!fenced && needed > 0) {
      // Re-check exactly when the needed-th lease lapses, not a tick later.
      const lapseAt = valid[needed - 1] as number
      this.lapseTimer = this.deps.timers.set(lapseAt - now + 1, () => this.evaluate())
    }
    if (fenced !== this.fenced) {
      this.fenced = fenced
      this.deps.emit(now, { kind: 'fence', fenced })
      this.apply()
    }
  }

  /** Tells the shop what we decided, unless it already confirmed it (every tick until it does). */
  apply(): void {
    const want = this.fenced
    if (want === null || want === this.applied) return
    this.deps.adapter.setFenced(want).then(
      () => {
        this.applied = want
        this.deps.logger.info({ fenced: want }, want ? 'fenced: the shop stops delivering escrowed orders' : 'fence lifted: the shop delivers again')
      },
      (error: unknown) => this.deps.logger.warn({ fenced: want, err: String(error) }, 'could not reach the shop adapter to change the fence; retrying'),
    )
  }

  stop(): void {
    this.deps.timers.cancel(this.lapseTimer)
    this.lapseTimer = null
  }
}
