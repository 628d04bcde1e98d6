// Wrong secrets per order. A query secret may be a password the buyer chose at checkout (dujiaoka's
// search_pwd), often short; the per-address rate limit does not stop guesses spread over many
// addresses. So an order that drew too many wrong secrets is closed to claims for a while. The
// cost is that a stranger can close a buyer's order the same way: the buyer waits, and has the
// keys by email meanwhile.
import { LRUCache } from 'lru-cache'

/** Wrong secrets one order may draw inside FAILED_CLAIM_WINDOW_MS. */
export const MAX_FAILED_CLAIMS_PER_ORDER = 10
export const FAILED_CLAIM_WINDOW_MS = 15 * 60_000
/** Orders remembered; the least recently failed are forgotten first. */
export const CLAIM_GUARD_TRACKED_ORDERS = 100_000

interface Failures {
  count: number
  firstAtMs: number
}

export class ClaimGuard {
  private readonly failures: LRUCache<string, Failures>

  constructor(
    private readonly clock: () => number,
    private readonly maxFailures = MAX_FAILED_CLAIMS_PER_ORDER,
    private readonly windowMs = FAILED_CLAIM_WINDOW_MS,
    capacity = CLAIM_GUARD_TRACKED_ORDERS,
  ) {
    // The cache's TTL lets it drop orders whose window ended; the window itself is decided below
    // from firstAtMs, because the cache counts an entry stale only after (not at) its TTL and
    // takes a start time of 0 for "no TTL", which a test clock may well read.
    this.failures = new LRUCache({
      max: capacity,
      ttl: windowMs,
      // The window runs from the first failure, not the latest.
      noUpdateTTL: true,
      perf: { now: clock },
      // No cached reading of the clock: a test clock jumps between two calls in the same tick.
      ttlResolution: 0,
    })
  }

  /** Seconds until this order takes claims again, or 0 if it takes them now. */
  closedForSeconds(shop: string, order: string): number {
    const entry = this.current(keyOf(shop, order))
    if (entry === undefined || entry.count < this.maxFailures) return 0
    return Math.max(1, Math.ceil((entry.firstAtMs + this.windowMs - this.clock()) / 1_000))
  }

  recordFailure(shop: string, order: string): void {
    const key = keyOf(shop, order)
    const entry = this.current(key)
    // set() makes the order the most recently failed, so the least recently failed go first.
    if (entry === undefined) this.failures.set(key, { count: 1, firstAtMs: this.clock() })
    else this.failures.set(key, { count: entry.count + 1, firstAtMs: entry.firstAtMs })
  }

  get size(): number {
    return this.failures.size
  }

  /** The order's failures in its current window; peek, so a check does not count as a failure's recency. */
  private current(key: string): Failures | undefined {
    const entry = this.failures.peek(key)
    if (entry !== undefined && this.clock() - entry.firstAtMs >= this.windowMs) {
      this.failures.delete(key)
      return undefined
    }
    return entry
  }
}

const keyOf = (shop: string, order: string) => `${shop}\n${order}`
