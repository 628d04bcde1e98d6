// Partners should stay connected whether or not anything is queued for them, so heartbeats and
// leases flow and peer:connect reaches the engine. One round per interval (never overlapping):
// dial each partner that is down and has addresses, and let the host prune what is no longer a
// partner. Dial failures are routine while a partner is down: logged once per outage.
import { setMaxListeners } from 'node:events'
import { LIMITS, type ShopId } from '../../protocol/index.js'
import type { Logger } from '../core/ports.js'

/**
 * Abort listeners one dial hangs on the shared stop signal while it runs: the peer store's write
 * lock queue, the attempt's AbortSignal.any and libp2p's dial queue. All partners dial at once
 * after a start, so Node's default of 10 (a leak warning at the 11th) is reached with 4 partners
 * although nothing leaks (issue 17, item 7).
 */
const ABORT_LISTENERS_PER_DIAL = 4

export interface KeepConnectedDeps {
  readonly intervalMs: number
  readonly logger: Logger
  partners(): readonly ShopId[]
  isConnected(peer: ShopId): boolean
  hasAddresses(peer: ShopId): boolean
  connect(peer: ShopId, signal: AbortSignal): Promise<unknown>
  /** Follows the partner set: closes former partners' connections and queues, refreshes who may dial in. */
  prune(): void
}

export class KeepConnected {
  readonly #deps: KeepConnectedDeps
  readonly #stopping = new AbortController()
  readonly #dialling = new Map<ShopId, Promise<void>>()
  readonly #unreachable = new Set<ShopId>()
  #timer: NodeJS.Timeout | undefined

  constructor(deps: KeepConnectedDeps) {
    this.#deps = deps
    setMaxListeners(LIMITS.maxParties * ABORT_LISTENERS_PER_DIAL, this.#stopping.signal)
  }

  start(): void {
    this.#round()
  }

  async stop(): Promise<void> {
    this.#stopping.abort()
    clearTimeout(this.#timer)
    this.#timer = undefined
    await Promise.allSettled([...this.#dialling.values()])
  }

  #round(): void {
    if (this.#stopping.signal.aborted) return
    try {
      this.#deps.prune()
      for (const peer of this.#deps.partners()) {
        if (this.#dialling.has(peer) || this.#deps.isConnected(peer) || !this.#deps.hasAddresses(peer)) continue
        this.#dialling.set(peer, this.#dial(peer))
      }
    } catch (err) {
      this.#deps.logger.error({ err }, 'p2p: keep-connected round failed')
    }
    this.#timer = setTimeout(() => this.#round(), this.#deps.intervalMs)
  }

  async #dial(peer: ShopId): Promise<void> {
    try {
      await this.#deps.connect(peer, this.#stopping.signal)
      this.#unreachable.delete(peer)
    } catch (err) {
      if (this.#stopping.signal.aborted) return
      const fields = { peer, reason: err instanceof Error ? err.message : String(err) }
      if (this.#unreachable.has(peer)) {
        this.#deps.logger.debug(fields, 'p2p: partner still unreachable')
      } else {
        this.#unreachable.add(peer)
        this.#deps.logger.info(fields, 'p2p: partner unreachable, will keep dialling')
      }
    } finally {
      this.#dialling.delete(peer)
    }
  }
}
