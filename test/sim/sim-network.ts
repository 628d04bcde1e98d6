// A simulated partner network: every message is serialised and re-parsed with its wire schema
// (as node/p2p does), then delivered after a seeded delay on the virtual clock. Links can be cut.
import { ControlMessage, FeedMessage, type ShopId } from '../../protocol/index.js'
import type { InboundHandler, Transport } from '../../node/core/ports.js'
import type { Prng } from './prng.js'
import type { SimClock } from './sim-clock.js'

export interface NetworkFaults {
  minDelayMs: number
  maxDelayMs: number
  lossRate: number
  /** Chance that a delivered message is delivered a second time later (replay). */
  duplicateRate?: number
}

export class SimNetwork {
  private readonly handlers = new Map<ShopId, InboundHandler>()
  /** A crashed engine's leftover work must not reach the network: sends carry their incarnation. */
  private readonly incarnation = new Map<ShopId, number>()

  /** Called when a shop restarts: messages from its previous engine are dropped from now on. */
  reincarnate(me: ShopId): void {
    this.incarnation.set(me, (this.incarnation.get(me) ?? 0) + 1)
  }
  private readonly down = new Set<string>()
  /** When set, a message it answers false for is lost (one-directional faults, hostile senders). */
  intercept: ((from: ShopId, to: ShopId, protocol: 'feed' | 'control', message: unknown) => boolean) | null = null
  /** When set, sees every message as it is delivered (the simulator's adversary records what it hears). */
  observe: ((from: ShopId, to: ShopId, protocol: 'feed' | 'control', message: FeedMessage | ControlMessage) => void) | null = null
  delivered = 0
  dropped = 0

  constructor(
    private readonly clock: SimClock,
    private readonly prng: Prng,
    public faults: NetworkFaults = { minDelayMs: 1, maxDelayMs: 20, lossRate: 0 },
  ) {}

  private link(a: ShopId, b: ShopId): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`
  }

  cut(a: ShopId, b: ShopId): void {
    this.down.add(this.link(a, b))
  }

  heal(a: ShopId, b: ShopId): void {
    this.down.delete(this.link(a, b))
    this.handlers.get(a)?.onPeerConnected(b)
    this.handlers.get(b)?.onPeerConnected(a)
  }

  connected(a: ShopId, b: ShopId): boolean {
    return this.handlers.has(a) && this.handlers.has(b) && !this.down.has(this.link(a, b))
  }

  transportFor(me: ShopId): Transport {
    const mine = this.incarnation.get(me) ?? 0
    const current = () => (this.incarnation.get(me) ?? 0) === mine
    return {
      send: (peer: ShopId, protocol: 'feed' | 'control', message: unknown): boolean => current() && this.deliver(me, peer, protocol, message),
      isConnected: (peer: ShopId) => current() && this.connected(me, peer),
      setHandler: (handler: InboundHandler) => {
        if (current()) this.handlers.set(me, handler)
      },
    } as Transport
  }

  /**
   * Sends as `from` whatever its engine is doing (a hostile operator beside its node, or a
   * modified node): the link must be up; loss, delay and replay apply as to any message.
   */
  sendAs(from: ShopId, to: ShopId, protocol: 'feed' | 'control', message: unknown): boolean {
    return this.deliver(from, to, protocol, message)
  }

  private deliver(from: ShopId, to: ShopId, protocol: 'feed' | 'control', message: unknown): boolean {
    if (!this.connected(from, to)) return false
    if (this.intercept && !this.intercept(from, to, protocol, message)) return true
    const wire = JSON.stringify(message)
    if (this.prng.chance(this.faults.lossRate)) {
      this.dropped++
      return true
    }
    const copies = this.prng.chance(this.faults.duplicateRate ?? 0) ? 2 : 1
    for (let copy = 0; copy < copies; copy++) this.schedule(from, to, protocol, wire)
    return true
  }

  private schedule(from: ShopId, to: ShopId, protocol: 'feed' | 'control', wire: string): void {
    const delayMs = this.prng.int(this.faults.minDelayMs, this.faults.maxDelayMs)
    this.clock.setTimer(delayMs, () => {
      const handler = this.handlers.get(to)
      if (!handler || !this.connected(from, to)) return
      const json: unknown = JSON.parse(wire)
      this.delivered++
      if (protocol === 'feed') {
        const message = FeedMessage.parse(json)
        this.observe?.(from, to, protocol, message)
        handler.onFeedMessage(from, message)
      } else {
        const message = ControlMessage.parse(json)
        this.observe?.(from, to, protocol, message)
        handler.onControlMessage(from, message)
      }
    })
  }
}
