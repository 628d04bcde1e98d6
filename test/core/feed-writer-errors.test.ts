// A record the feed writer cannot sign (found by the fuzz suites: a lone UTF-16 surrogate, which
// canonical JSON cannot encode) must fail its own request, not hang it or crash the node. The
// schemas refuse such text at every door now; this covers the writer behind them.
import { afterEach, describe, expect, it } from 'vitest'
import { SimFederation, simOrder } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('feed writer', () => {
  it('rejects an unsignable record to its caller and keeps writing everything else', async () => {
    sim = await SimFederation.create({ seed: 'writer-errors', shops: 3 })
    const a = sim.shop('A').engine
    await a.submitOrders([simOrder(sim.prng, 0), simOrder(sim.prng, 1)])
    const bad = a.markCancelled([{ order: 'O-0', reason: 'broken \ud800 text' }]).then(
      () => 'accepted',
      (error: unknown) => String(error),
    )
    const good = a.markDelivered([{ order: 'O-1', time: sim.clock.now() }])
    await sim.runUntil(100)
    expect(await bad).toMatch(/reason: must be well-formed Unicode/)
    await expect(good).resolves.toMatchObject({ unknown: [] })
    await expect(a.submitOrders([simOrder(sim.prng, 2)])).resolves.toBeDefined()
    const escrow = await a.escrow()
    expect(escrow.escrow.find((e) => e.origin === a.identity().id)).toMatchObject({ pending: 2, delivered: 1 })
  })
})
