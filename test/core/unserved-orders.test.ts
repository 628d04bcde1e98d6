// An order no partner could serve is accepted but flagged at once (issue 19 item 5, D68): in the
// adapter's reply, an engine event (which raises the `order-unserved` alert) and `status`. Whole
// simulated federation (SimFederation: three engines, virtual time), as the engine runs it.
import { afterEach, describe, expect, it } from 'vitest'
import { SimFederation, simOrder } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('orders no partner could serve', () => {
  it('are escrowed, flagged in the reply, raised as an event per sku and counted in status', async () => {
    sim = await SimFederation.create({ seed: 'unserved-1', shops: 3 })
    const a = sim.shop('A')
    await sim.runUntil(600)
    // No keys anywhere yet, and a sku the terms do not cover.
    const batch = [simOrder(sim.prng, 0), simOrder(sim.prng, 1), { ...simOrder(sim.prng, 2), sku: 'not-covered' }]
    const first = await a.engine.submitOrders(batch)
    expect(first.accepted).toBe(3)
    expect(first.unserved).toEqual([
      { order: 'O-0', sku: 'card-100', qty: 1, reason: 'no-partner-holds-enough' },
      { order: 'O-1', sku: 'card-100', qty: 1, reason: 'no-partner-holds-enough' },
      { order: 'O-2', sku: 'not-covered', qty: 1, reason: 'sku-not-in-terms' },
    ])
    const events = sim.events.filter((e) => e.node === 'A' && e.event.kind === 'order-unserved').map((e) => e.event)
    expect(events).toEqual([
      { kind: 'order-unserved', sku: 'card-100', reason: 'no-partner-holds-enough', orders: ['O-0', 'O-1'], count: 2 },
      { kind: 'order-unserved', sku: 'not-covered', reason: 'sku-not-in-terms', orders: ['O-2'], count: 1 },
    ])
    // Escrowed all the same: the partners hold them.
    expect((await a.engine.escrow()).escrow.find((e) => e.origin === a.identity.id)?.pending).toBe(3)
    // Once a partner holds keys of the sku, its orders are no longer flagged; a two-key order is
    // flagged while no single partner holds two.
    await a.engine.consign(sim.shop('B').identity.id, 'card-100', 1)
    await sim.runUntil(1_200)
    const second = await a.engine.submitOrders([simOrder(sim.prng, 3), { ...simOrder(sim.prng, 4), qty: 2 }])
    expect(second.unserved).toEqual([{ order: 'O-4', sku: 'card-100', qty: 2, reason: 'no-partner-holds-enough' }])
    const self = await a.engine.selfStatus()
    expect(self.unserved.count).toBe(4)
    expect(self.unserved.recent.map((o) => o.order)).toEqual(['O-0', 'O-1', 'O-2', 'O-4'])
    // A resubmission is a duplicate, not flagged again.
    const again = await a.engine.submitOrders(batch.slice(0, 1))
    expect(again).toMatchObject({ accepted: 0, duplicates: 1, unserved: [] })
  })
})
