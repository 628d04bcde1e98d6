// What a partner claims during a takeover (node/core/fulfilment.ts claimDue), whole simulated
// federation (SimFederation: three engines, virtual time): orders claimed and not yet reserved
// count against the terms' limits (D102: a limit between one batch and MAX_ORDERS_CLAIMED_AHEAD
// was overrun by the claims of the steps before it).
import { afterEach, describe, expect, it } from 'vitest'
import type { Terms } from '../../protocol/index.js'
import { MAX_ORDERS_CLAIMED_AHEAD, MAX_ORDERS_PER_FULFIL_BATCH } from '../../node/core/limits.js'
import { SimFederation, type SimShop, simOrder } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

function deliveredBy(f: SimFederation, shop: SimShop): string[] {
  const name = f.nameOf(shop.identity.id)
  return f.events.flatMap((e) => (e.node === name && e.event.kind === 'delivered' && e.event.fulfiller === shop.identity.id ? [e.event.order] : []))
}

async function pendingAt(shop: SimShop, origin: SimShop): Promise<number> {
  return (await shop.engine.escrow()).escrow.find((e) => e.origin === origin.identity.id)?.pending ?? -1
}

describe('claims in a takeover', () => {
  it('count orders claimed and not reserved yet against the limit of orders per outage', async () => {
    const LIMIT = MAX_ORDERS_PER_FULFIL_BATCH + 100
    expect(LIMIT).toBeLessThan(MAX_ORDERS_CLAIMED_AHEAD) // the case: one step claims past a batch
    const ORDERS = LIMIT + 300
    const terms = (t: Terms): Terms => ({ ...t, limits: { ...t.limits, maxOrdersPerOutage: LIMIT } })
    sim = await SimFederation.create({ seed: 'claims-limit', shops: 3, stockPerShop: ORDERS + 100, terms, signatures: 'simulated' })
    const [a, b] = ['A', 'B'].map((n) => (sim as SimFederation).shop(n)) as [SimShop, SimShop]
    await sim.runUntil(600)
    await a.engine.consign(b.identity.id, 'card-100', ORDERS)
    await sim.runUntil(1_200)
    await a.engine.submitOrders(Array.from({ length: ORDERS }, (_, i) => simOrder(sim!.prng, i)))
    await sim.runUntil(1_500)
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(20_000)
    // B alone holds keys: it delivers up to the limit and no further (it delivered 700 before).
    expect(deliveredBy(sim, b)).toHaveLength(LIMIT)
    expect(await pendingAt(b, a)).toBe(ORDERS - LIMIT)
    // A, the origin, disputes nothing as beyond the terms' limits.
    expect(sim.events.filter((e) => e.node === 'A' && JSON.stringify(e.event).includes('outside-terms-limits'))).toEqual([])
  })
})
