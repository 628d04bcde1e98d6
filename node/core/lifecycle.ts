// The engine's parts share one life cycle, as js-libp2p's components do: the factory
// (assemble.ts) lists them in dependency order, `start` runs down the list, `stop` runs back up it.
// Parts talk to each other through typed signals the factory connects, never through the engine,
// so no part holds a pointer back up to what built it.
import type { Clock, TimerHandle } from './ports.js'

/** A part with something to load at start or to release at stop. */
export interface Startable {
  /** Loads what the part keeps in the store; the parts before it in the list have started. */
  start?(): Promise<void> | void
  /** Releases timers and work in flight; the parts after it in the list have stopped. */
  stop?(): Promise<void> | void
}

/**
 * One kind of news a part announces (a feed entry appended, an origin taken over). The factory
 * connects listeners once; a part that emits never knows who listens. Listeners run synchronously
 * in the order they were connected, so the simulator replays the same order from a seed.
 */
export class Signal<A extends unknown[]> {
  private readonly listeners: ((...args: A) => void)[] = []

  on(listener: (...args: A) => void): void {
    this.listeners.push(listener)
  }

  emit(...args: A): void {
    for (const listener of this.listeners) listener(...args)
  }
}

/**
 * Timers of one part, tracked so that `clear` at stop leaves none behind (a timer that fires after
 * stop would act on a closed store). A fired timer forgets itself.
 */
export class Timers {
  private readonly pending = new Set<TimerHandle>()

  constructor(private readonly clock: Clock) {}

  set(ms: number, fn: () => void): TimerHandle {
    const handle: TimerHandle = this.clock.setTimer(ms, () => {
      this.pending.delete(handle)
      fn()
    })
    this.pending.add(handle)
    return handle
  }

  cancel(handle: TimerHandle | null): void {
    if (handle === null) return
    this.clock.clearTimer(handle)
    this.pending.delete(handle)
  }

  /** Timers set and not yet fired or cancelled. */
  get size(): number {
    return this.pending.size
  }

  clear(): void {
    for (const handle of this.pending) this.clock.clearTimer(handle)
    this.pending.clear()
  }
}
