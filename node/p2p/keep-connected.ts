// Partners should stay connected whether or not anything is queued for them, so heartbeats and
// leases flow and peer:connect reaches the engine. One round per interval (never overlapping):
// dial each partner that is down and has addresses, and let the host prune what is no longer a
// partner. Dial failures are routine while a partner is down: logged once per outage.
import type { ShopId } from '../../protocol/index.js'
import type { Logger } from '../core/ports.js'

export interface KeepConnectedDeps {
  readonly intervalMs: number
  readonly logger: Logger
  partners(): readonly ShopId[]
  isConnected(peer: ShopId): boolean
  hasAddresses(peer: ShopId): boolean
  connect(peer: ShopId, signal: AbortSignal): Promise<unknown>
  /** Closes connections and queues of peers that are no longer partners. */
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
