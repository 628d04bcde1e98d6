// Remembers the signatures of accepted adapter requests until their timestamps leave the replay
// window, so a captured request cannot be sent again while it would still pass the clock check.
// The rule is protocol (protocol/adapter-auth.ts); the memory is this receiver's own. The shop
// side keeps its own, as adapters/generic/callback-server.ts explains.
import { LRUCache } from 'lru-cache'
import { ADAPTER_REPLAY_WINDOW_MS } from '../../protocol/index.js'

/** Signatures remembered at most; an adapter batches up to 1,000 orders per request. */
export const MAX_SEEN_SIGNATURES = 100_000

export type ReplayVerdict = 'fresh' | 'replayed' | 'full'

export class ReplayGuard {
  private readonly seen: LRUCache<string, true>

  constructor(
    clock: () => number,
    private readonly capacity = MAX_SEEN_SIGNATURES,
    private readonly windowMs = ADAPTER_REPLAY_WINDOW_MS,
  ) {
    // An entry goes stale once the clock passes its timestamp plus the window (start + ttl). The
    // injected clock lets tests and the simulator move time; ttlResolution 0 reads it every time
    // instead of caching it on a real timer.
    this.seen = new LRUCache({ max: capacity, ttl: windowMs, ttlResolution: 0, perf: { now: clock } })
  }

  /** Records a verified signature; 'replayed' if it was accepted before, 'full' if it cannot be remembered. */
  admit(signature: string, timestampMs: number): ReplayVerdict {
    if (this.seen.has(signature)) return 'replayed'
    if (this.seen.size >= this.capacity) {
      this.seen.purgeStale()
      // The cache would evict its oldest live signature to make room, reopening a replay hole, so
      // refuse instead (fail closed).
      if (this.seen.size >= this.capacity) return 'full'
    }
    // lru-cache reads a start of 0 as none (never stale); no real timestamp is 0, but stay safe.
    this.seen.set(signature, true, { start: Math.max(1, timestampMs), ttl: this.windowMs })
    return 'fresh'
  }

  /** Signatures still inside their window. */
  get size(): number {
    this.seen.purgeStale()
    return this.seen.size
  }
}
