// Work the engine starts and does not await — a feed pump, a takeover step, a mail round — runs
// here. A bare floating promise that rejects kills the node (Node throws on an unhandled
// rejection): a store read failing, or the store closing under a pump at shutdown, must be a
// logged error instead (found by the simulator, seed-22561). And a clean stop needs to know what
// is still in flight, so the node closes its store only after that work settled.
import type { Logger } from './ports.js'

export class Background {
  private readonly running = new Set<Promise<void>>()
  private stopped = false

  constructor(private readonly logger: Logger) {}

  /** Starts `work` now, unless stopped. Never throws and never leaves a rejection unhandled. */
  run(task: string, work: () => Promise<unknown>): void {
    if (this.stopped) return
    let started: Promise<unknown>
    try {
      started = work()
    } catch (error) {
      started = Promise.reject(error)
    }
    const done: Promise<void> = started
      .then(
        () => undefined,
        (error: unknown) => {
          // After stop the store may close under work still in flight; that is expected.
          if (this.stopped) this.logger.debug({ task, err: String(error) }, 'background task ended by stop')
          else this.logger.error({ task, err: String(error) }, 'background task failed')
        },
      )
      .finally(() => this.running.delete(done))
    this.running.add(done)
  }

  /** Tasks started and not yet settled. */
  get inFlight(): number {
    return this.running.size
  }

  start(): void {
    this.stopped = false
  }

  /** Refuses new work; resolves once everything already in flight has settled. */
  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all([...this.running])
  }
}
