// Wrong secrets per order. A query secret may be a password the buyer chose at checkout (dujiaoka's
// search_pwd), often short; the per-address rate limit does not stop guesses spread over many
// addresses. So an order that drew too many wrong secrets is closed to claims for a while. The
// cost is that a stranger can close a buyer's order the same way: the buyer waits, and has the
// keys by email meanwhile.

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
  private readonly failures = new Map<string, Failures>()

  constructor(
    private readonly clock: () => number,
    private readonly maxFailures = MAX_FAILED_CLAIMS_PER_ORDER,
    private readonly windowMs = FAILED_CLAIM_WINDOW_MS,
    private readonly capacity = CLAIM_GUARD_TRACKED_ORDERS,
  ) {}

  /** Seconds until this order takes claims again, or 0 if it takes them now. */
  closedForSeconds(shop: string, order: string): number {
    const entry = this.current(shop, order)
    if (entry === undefined || entry.count < this.maxFailures) return 0
    return Math.max(1, Math.ceil((entry.firstAtMs + this.windowMs - this.clock()) / 1_000))
  }

  recordFailure(shop: string, order: string): void {
    const key = keyOf(shop, order)
    const entry = this.current(shop, order) ?? { count: 0, firstAtMs: this.clock() }
    entry.count++
    // Re-inserted, so insertion order is recency order and the oldest is evicted first.
    this.failures.delete(key)
    this.failures.set(key, entry)
    while (this.failures.size > this.capacity) {
      const oldest = this.failures.keys().next().value
      if (oldest === undefined) break
      this.failures.delete(oldest)
    }
  }

  get size(): number {
    return this.failures.size
  }

  private current(shop: string, order: string): Failures | undefined {
    const key = keyOf(shop, order)
    const entry = this.failures.get(key)
    if (entry !== undefined && this.clock() - entry.firstAtMs >= this.windowMs) {
      this.failures.delete(key)
      return undefined
    }
    return entry
  }
}

const keyOf = (shop: string, order: string) => `${shop}\n${order}`
