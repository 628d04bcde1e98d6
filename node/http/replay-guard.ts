// Remembers the signatures of accepted adapter requests until their timestamps leave the replay
// window, so a captured request cannot be sent again while it would still pass the clock check.
import { ADAPTER_REPLAY_WINDOW_MS } from '../../protocol/index.js'

/** Signatures remembered at most; an adapter batches up to 1,000 orders per request. */
export const MAX_SEEN_SIGNATURES = 100_000

export type ReplayVerdict = 'fresh' | 'replayed' | 'full'

export class ReplayGuard {
  // signature → the clock time after which its timestamp is stale (and so harmless to forget)
  private readonly seen = new Map<string, number>()

  constructor(
    private readonly clock: () => number,
    private readonly capacity = MAX_SEEN_SIGNATURES,
    private readonly windowMs = ADAPTER_REPLAY_WINDOW_MS,
  ) {}

  /** Records a verified signature; 'replayed' if it was accepted before, 'full' if it cannot be remembered. */
  admit(signature: string, timestampMs: number): ReplayVerdict {
    const now = this.clock()
    this.evictHead(now)
    if (this.seen.has(signature)) return 'replayed'
    if (this.seen.size >= this.capacity) {
      this.sweep(now)
      // Forgetting a live signature would reopen a replay hole, so refuse instead (fail closed).
      if (this.seen.size >= this.capacity) return 'full'
    }
    this.seen.set(signature, timestampMs + this.windowMs)
    return 'fresh'
  }

  get size(): number {
    return this.seen.size
  }

  // Insertion order is roughly expiry order, so the cheap check from the head frees most entries.
  private evictHead(now: number): void {
    for (const [signature, staleAfter] of this.seen) {
      if (staleAfter >= now) return
      this.seen.delete(signature)
    }
  }

  // Timestamps may be up to a window early or late, so an entry behind the head can expire first.
  private sweep(now: number): void {
    for (const [signature, staleAfter] of this.seen) {
      if (staleAfter < now) this.seen.delete(signature)
    }
  }
}
