// Buyers paying the three shops throughout the crash loop. Each purchase goes through a shop
// simulator, which escrows it at its node through the generic adapter before delivering it; the
// order counts as *acknowledged* when the adapter got a 2xx for it (the promise of docs/design.md §2, invariant 2).
import type { Prng } from '../sim/prng.js'
import { type Federation, shop, SKU } from '../integration/federation-env.js'
import { sleep } from './faults.js'

export interface Placed {
  readonly shop: string
  readonly order: string
  readonly acknowledged: boolean
}

/** Purchases in flight at once: a hanging node must not pile up unbounded requests. */
const MAX_IN_FLIGHT = 16

export class Buyers {
  readonly placed: Placed[] = []
  /** Purchases the shop refused (out of stock, …): not orders, counted for the summary. */
  refused = 0
  private everyMs: number | null = null
  private running = false
  private loop: Promise<void> | null = null
  private readonly inflight = new Set<Promise<void>>()
  private n = 0

  constructor(
    private readonly f: Federation,
    private readonly names: readonly string[],
    private readonly rng: Prng,
  ) {}

  /** One purchase every `everyMs` (jittered) at a random shop; null pauses. */
  setPace(everyMs: number | null): void {
    this.everyMs = everyMs
  }

  start(): void {
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        const pace = this.everyMs
        await sleep(pace === null ? 50 : this.rng.int(Math.ceil(pace / 2), Math.ceil(pace * 1.5)))
        if (!this.running || pace === null || this.inflight.size >= MAX_IN_FLIGHT) continue
        const p = this.buyOne().finally(() => this.inflight.delete(p))
        this.inflight.add(p)
      }
    })()
  }

  /** Stops buying and waits for purchases in flight (each bounded by the shop's node timeout). */
  async stop(): Promise<void> {
    this.running = false
    await this.loop
    await Promise.allSettled([...this.inflight])
  }

  private async buyOne(): Promise<void> {
    const name = this.names[this.rng.int(0, this.names.length - 1)] as string
    const n = this.n++
    try {
      const order = await shop(this.f, name).buy({ sku: SKU, qty: 1, email: `buyer${n}@example.com`, locale: n % 2 === 0 ? 'zh-CN' : 'en' })
      this.placed.push({ shop: name, order: order.order, acknowledged: order.escrow === 'escrowed' })
    } catch {
      this.refused++
    }
  }
}
