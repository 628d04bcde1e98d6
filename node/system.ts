// The real-world implementations of the engine's Clock and Rng ports.
import { randomBytes } from 'node:crypto'
import type { Clock, Rng, TimerHandle } from './core/ports.js'

/** The wall clock; `pending` counts timers set and neither fired nor cleared (0 after a clean stop). */
export function systemClock(): Clock & { pending(): number } {
  const timers = new Map<number, NodeJS.Timeout>()
  let nextId = 1
  return {
    now: () => Date.now(),
    setTimer(delayMs: number, callback: () => void): TimerHandle {
      const id = nextId++
      const timeout = setTimeout(() => {
        timers.delete(id)
        callback()
      }, delayMs)
      timeout.unref()
      timers.set(id, timeout)
      return { id }
    },
    clearTimer(handle: TimerHandle): void {
      clearTimeout(timers.get(handle.id))
      timers.delete(handle.id)
    },
    pending: () => timers.size,
  }
}

export const cryptoRng: Rng = { bytes: (byteLength: number) => new Uint8Array(randomBytes(byteLength)) }
