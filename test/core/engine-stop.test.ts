// An engine's stop reaches every part: after it, none of its timers is left (a timer firing after
// stop would act on a closed store). Counted at the clock the engine was given, not by the engine.
// Stopped while B and C have certified A down and wait out the takeover delay (the certify timer
// was once never cleared), and again while they deliver A's orders (fulfilment and outbox timers).
import { afterEach, describe, expect, it } from 'vitest'
import type { Clock, TimerHandle } from '../../node/core/ports.js'
import type { SimFederation } from '../sim/sim-federation.js'
import { escrowedAtA } from './escrowed.js'

/** Wraps a clock and counts the timers set through it that have neither fired nor been cleared. */
class CountingClock implements Clock {
  readonly pending = new Set<number>()
  constructor(private readonly inner: Clock) {}
  now(): number {
    return this.inner.now()
  }
  setTimer(delayMs: number, callback: () => void): TimerHandle {
    const handle = this.inner.setTimer(delayMs, () => {
      this.pending.delete(handle.id)
      callback()
    })
    this.pending.add(handle.id)
    return handle
  }
  clearTimer(handle: TimerHandle): void {
    this.pending.delete(handle.id)
    this.inner.clearTimer(handle)
  }
}

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function federation(seed: string) {
  const clocks = new Map<string, CountingClock>()
  const set = await escrowedAtA(seed, {
    holders: ['B', 'C'],
    keysEach: 10,
    orders: 6,
    clockFor: (name, clock) => {
      const counting = new CountingClock(clock)
      clocks.set(name, counting)
      return counting
    },
  })
  sim = set.sim
  return { sim: set.sim, clocks }
}

describe('engine stop', () => {
  it('leaves no timer behind while a certified takeover waits for its delay', async () => {
    const { sim, clocks } = await federation('engine-stop-certified')
    sim.crash('A')
    // Suspect after 1 s of silence, certified at once by B and C; the takeover delay is 2 s.
    await sim.runUntil(3_200)
    const certified = sim.events.filter((e) => e.event.kind === 'certified' && e.node !== 'A')
    const takenOver = sim.events.filter((e) => e.event.kind === 'taken-over')
    expect(certified.length).toBeGreaterThan(0)
    expect(takenOver).toEqual([])
    for (const name of ['B', 'C']) {
      const clock = clocks.get(name) as CountingClock
      expect(clock.pending.size).toBeGreaterThan(0) // the tick, the certify timer, leases
      await sim.shop(name).engine.stop()
      expect({ name, pending: clock.pending.size }).toEqual({ name, pending: 0 })
    }
  })

  it('leaves no timer behind while partners deliver a taken-over origin', async () => {
    const { sim, clocks } = await federation('engine-stop-delivering')
    sim.shop('A').engine.reportPlatformHealth('down')
    await sim.runUntil(1_520)
    expect(sim.events.filter((e) => e.event.kind === 'taken-over').length).toBeGreaterThan(0)
    for (const name of ['A', 'B', 'C']) {
      const clock = clocks.get(name) as CountingClock
      await sim.shop(name).engine.stop()
      expect({ name, pending: clock.pending.size }).toEqual({ name, pending: 0 })
    }
  })
})
