// Simulator seeds in every test run (CI included): 0 violations expected. The regression seeds
// are the ones that found bugs (a sim crash that let a dead engine keep writing → feed forks;
// handback blocked by a quarantined partner; origin deliveries of partner-delivered orders not
// counted as duplicates); STANDIN_SIM_SEEDS sets how many further seeds run.
import { describe, expect, it } from 'vitest'
import { runSeed } from './vopr.js'

const REGRESSION_SEEDS = ['try-15', 'try-26', 'try-36', 'try-39']
const SEEDS = Number(process.env.STANDIN_SIM_SEEDS ?? 12)

describe('simulator seeds', () => {
  it(`regression seeds ${REGRESSION_SEEDS.join(', ')} and ${SEEDS} more keep every invariant`, async () => {
    const failures: string[] = []
    for (const seed of [...REGRESSION_SEEDS, ...Array.from({ length: SEEDS }, (_, i) => `ci-${i}`)]) {
      const result = await runSeed(seed)
      expect(result.orders).toBeGreaterThan(0)
      if (result.violations.length > 0) failures.push(`seed ${result.seed}: ${result.violations.slice(0, 3).join('; ')}`)
    }
    expect(failures).toEqual([])
  }, 600_000)
})

describe('simulator canary', () => {
  it('catches a planted bug (keys handed out without leaving the free list) within 50 seeds', async () => {
    let caughtAt = -1
    for (let i = 0; i < 50 && caughtAt < 0; i++) {
      const result = await runSeed(`canary-${i}`, 'reuse-keys')
      if (result.violations.some((v) => v.startsWith('key '))) caughtAt = i
    }
    expect(caughtAt).toBeGreaterThanOrEqual(0)
  }, 600_000)
})
