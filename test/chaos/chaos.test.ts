// The crash loop at CI size: the same runner as `npm run chaos`, with 8 SIGKILLs (two rounds of
// intake → takeover → handback → statements) and a fixed seed, so CI exercises every phase's
// crash and the end checks. The full run (≥ 100 kills) is `npm run chaos`; figures in
// test/bench/RESULTS.md.
import { describe, expect, it } from 'vitest'
import { runChaos } from './runner.js'

describe('crash loop with real processes', () => {
  it('8 SIGKILLs during intake, takeover, handback and statements: no acknowledged order lost, no key reused, books mirror', async () => {
    const lines: string[] = []
    const result = await runChaos({ kills: 8, seed: 'ci-1', maxLoopMs: 180_000, livenessMs: 120_000, log: (line) => lines.push(line) })
    const story = `seed ${result.seed}, node logs in ${result.logDir}\n${lines.join('\n')}`
    expect(result.violations, story).toEqual([])
    expect(result.kills).toBeGreaterThanOrEqual(8)
    const o = result.observation
    expect(o.acknowledged, story).toBeGreaterThan(0)
    expect(o.lost).toEqual([])
    expect(o.keysReused).toEqual([])
    expect(o.uncountedDuplicates).toEqual([])
    expect(o.books.mirror, o.books.problems.join('\n')).toBe(true)
    expect(o.delivered).toBeGreaterThanOrEqual(o.acknowledged)
  }, 420_000)
})
