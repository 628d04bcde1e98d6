// What the database bridges (dujiaoka, acg-faka) run on: work repeated on an interval until closed,
// a failed round logged and retried at the next; and the health report, the probe's reading sent
// to the node when it changes or `repeatMs` has passed (so a restarted node learns it).
import type { Logger, NodeIngress } from '../contract.js'
import type { HealthProbe, HealthReading } from './health.js'

/** The message, with the network cause (ECONNREFUSED, …) that fetch hides behind "fetch failed". */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { cause?: { code?: unknown } } | null)?.cause?.code
  return typeof code === 'string' ? `${message} (${code})` : message
}

export class Repeater {
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly inflight = new Set<Promise<unknown>>()
  private stopped = false

  constructor(private readonly logger: Logger) {}

  get closed(): boolean {
    return this.stopped
  }

  /** Runs `work` now and again `intervalMs` after each round ends, until close(). */
  every(what: string, intervalMs: number, work: () => Promise<unknown>): void {
    const tick = () => {
      if (this.stopped) return
      const running = work()
        .catch((error: unknown) => this.logger.warn({ err: errorText(error) }, `${what} failed; retrying in ${intervalMs} ms`))
        .finally(() => {
          this.inflight.delete(running)
          if (this.stopped) return
          const timer = setTimeout(() => {
            this.timers.delete(timer)
            tick()
          }, intervalMs)
          this.timers.add(timer)
        })
      this.inflight.add(running)
    }
    tick()
  }

  /** Stops the rounds and waits for those running. */
  async close(): Promise<void> {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    await Promise.allSettled([...this.inflight])
  }
}

export class HealthReporter {
  private last: { platform: string; atMs: number } | null = null

  constructor(private readonly o: { readonly probe: HealthProbe; readonly node: NodeIngress; readonly repeatMs: number; readonly now: () => number }) {}

  /** Probes the shop and reports to the node when the reading changed or `repeatMs` passed. */
  async check(): Promise<HealthReading & { reported: boolean }> {
    const reading = await this.o.probe.check()
    const at = this.o.now()
    const due = this.last === null || this.last.platform !== reading.platform || at - this.last.atMs >= this.o.repeatMs
    if (!due) return { ...reading, reported: false }
    await this.o.node.reportHealth({ platform: reading.platform, detail: reading.detail })
    this.last = { platform: reading.platform, atMs: at }
    return { ...reading, reported: true }
  }
}
