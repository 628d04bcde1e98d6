// Virtual time for the simulator: timers fire in (time, insertion) order, never on the wall clock.
import type { Clock, TimerHandle } from '../../node/core/ports.js'

interface Timer {
  readonly id: number
  readonly at: number
  readonly callback: () => void
}

export class SimClock implements Clock {
  private time: number
  private nextId = 1
  private timers: Timer[] = []

  constructor(startMs: number) {
    this.time = startMs
  }

  now(): number {
    return this.time
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const timer = { id: this.nextId++, at: this.time + Math.max(0, delayMs), callback }
    // Keep sorted by (at, id); inserting from the back is cheap because most timers are near-future.
    let i = this.timers.length
    while (i > 0 && (this.timers[i - 1] as Timer).at > timer.at) i--
    this.timers.splice(i, 0, timer)
    return { id: timer.id }
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle.id)
  }

  /** Time of the next timer, or undefined when none is set. */
  nextAt(): number | undefined {
    return this.timers[0]?.at
  }

  /** Advances to the next timer and runs it; false when there is none before `limitMs`. */
  runNext(limitMs: number): boolean {
    const next = this.timers[0]
    if (!next || next.at > limitMs) return false
    this.timers.shift()
    this.time = Math.max(this.time, next.at)
    next.callback()
    return true
  }

  advanceTo(ms: number): void {
    this.time = Math.max(this.time, ms)
  }
}
