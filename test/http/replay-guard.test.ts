// The replay set forgets signatures once their timestamps are stale, and fails closed when full.
import { getHeapStatistics } from 'node:v8'
import { describe, expect, it } from 'vitest'
import { FULL_GUARD_PURGE_EVERY_MS, MAX_SEEN_SIGNATURES, ReplayGuard } from '../../adapters/contract.js'

const WINDOW_MS = 1_000

describe('ReplayGuard', () => {
  it('admits a signature once, then reports replays until its timestamp is stale', () => {
    const clock = { now: 10_000 }
    const guard = new ReplayGuard(() => clock.now, 10, WINDOW_MS)
    expect(guard.admit('a', 10_000)).toBe('fresh')
    expect(guard.admit('a', 10_000)).toBe('replayed')
    clock.now = 11_000
    expect(guard.admit('a', 10_000)).toBe('replayed')
    clock.now = 11_001
    expect(guard.admit('b', 11_001)).toBe('fresh')
    expect(guard.size).toBe(1)
  })

  it('sweeps entries behind an unexpired head when full', () => {
    const clock = { now: 10_000 }
    const guard = new ReplayGuard(() => clock.now, 2, WINDOW_MS, 9_000)
    expect(guard.admit('late', 10_900)).toBe('fresh') // future-dated: stays longest
    expect(guard.admit('early', 9_100)).toBe('fresh') // past-dated: stale first
    clock.now = 10_200
    expect(guard.admit('next', 10_200)).toBe('fresh')
    expect(guard.size).toBe(2)
  })

  it('fails closed rather than forgetting a live signature', () => {
    const guard = new ReplayGuard(() => 10_000, 2, WINDOW_MS)
    expect(guard.admit('a', 10_000)).toBe('fresh')
    expect(guard.admit('b', 10_000)).toBe('fresh')
    expect(guard.admit('c', 10_000)).toBe('full')
    expect(guard.admit('a', 10_000)).toBe('replayed')
  })

  it('when full, looks for stale signatures once per FULL_GUARD_PURGE_EVERY_MS, not on every refused request', () => {
    const clock = { now: 10_000 }
    const guard = new ReplayGuard(() => clock.now, 2, WINDOW_MS, 9_000)
    expect(guard.admit('early', 9_100)).toBe('fresh') // stale from 10,100
    expect(guard.admit('b', 10_000)).toBe('fresh')
    expect(guard.admit('c', 10_000)).toBe('full') // scanned at 10,000: nothing stale yet
    clock.now = 10_000 + FULL_GUARD_PURGE_EVERY_MS - 1
    expect(guard.admit('d', clock.now)).toBe('full') // 'early' is stale, but the next scan is not due
    clock.now = 10_000 + FULL_GUARD_PURGE_EVERY_MS
    expect(guard.admit('d', clock.now)).toBe('fresh')
  })

  it('refuses any timestamp from before it was created: a request captured before a restart does not replay after it', () => {
    const clock = { now: 10_000 }
    const guard = new ReplayGuard(() => clock.now, 10, WINDOW_MS)
    expect(guard.admit('captured', 9_999)).toBe('before-start')
    expect(guard.admit('fresh', 10_000)).toBe('fresh')
    expect(guard.size).toBe(1)
  })

  it('takes memory as signatures arrive, not for its whole capacity at creation', () => {
    // Every node and every shop callback server creates one at start. Slots for MAX_SEEN_SIGNATURES
    // allocated up front were ≈16 MB of heap a guard (and ≈270 ms at every node start).
    const before = getHeapStatistics().used_heap_size
    const guards = Array.from({ length: 20 }, () => new ReplayGuard(() => 10_000))
    const grownBytes = getHeapStatistics().used_heap_size - before
    expect(guards.every((guard) => guard.admit('a', 10_000) === 'fresh')).toBe(true)
    expect(MAX_SEEN_SIGNATURES).toBe(1_000_000)
    expect(grownBytes).toBeLessThan(20 * 1024 * 1024)
  })
})
