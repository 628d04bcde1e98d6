// node/core for 3 shops in one process: simulated transport and virtual clock from one seed.
import { describe, expect, it } from 'vitest'
import { settle, SimFederation, simOrder } from '../sim/sim-federation.js'

async function scenario(seed: string): Promise<{ log: string[]; counts: number[] }> {
  const sim = await SimFederation.create({ seed, shops: 3 })
  sim.network.faults = { minDelayMs: 1, maxDelayMs: 40, lossRate: 0.1 }
  const a = sim.shop('A').engine
  const submissions: Promise<unknown>[] = []
  for (let batch = 0; batch < 10; batch++) {
    const orders = Array.from({ length: 20 }, (_, i) => simOrder(sim.prng, batch * 20 + i))
    submissions.push(a.submitOrders(orders))
    await sim.runUntil((batch + 1) * 100)
  }
  await Promise.all(submissions)
  await a.markDelivered([{ order: 'O-0', time: sim.clock.now() }])
  await sim.runUntil(5_000)
  await settle()
  const counts: number[] = []
  for (const name of ['B', 'C']) {
    const escrow = await sim.shop(name).engine.escrow()
    const ofA = escrow.escrow.find((e) => e.origin === a.identity().id)
    counts.push(ofA?.pending ?? -1, ofA?.delivered ?? -1)
  }
  await sim.close()
  return { log: sim.log, counts }
}

describe('deterministic core', () => {
  it('replicates escrow to both partners despite 10 % message loss and reordering', async () => {
    const run = await scenario('alpha')
    expect(run.counts).toEqual([199, 1, 199, 1])
  })

  it('produces an identical event log for the same seed, and a different one for another seed', async () => {
    const first = await scenario('beta')
    const second = await scenario('beta')
    expect(first.log.length).toBeGreaterThan(50)
    expect(second.log).toEqual(first.log)
    const other = await scenario('gamma')
    expect(other.log).not.toEqual(first.log)
  })
})
