// The replay set forgets signatures once their timestamps are stale, and fails closed when full.
import { describe, expect, it } from 'vitest'
import { ReplayGuard } from '../../adapters/contract.js'

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

  it('refuses any timestamp from before it was created: a request captured before a restart does not replay after it', () => {
    const clock = { now: 10_000 }
    const guard = new ReplayGuard(() => clock.now, 10, WINDOW_MS)
    expect(guard.admit('captured', 9_999)).toBe('before-start')
    expect(guard.admit('fresh', 10_000)).toBe('fresh')
    expect(guard.size).toBe(1)
  })
})
