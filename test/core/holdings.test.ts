// What each partner holds of ours (the console's allotments page, `GET /v1/admin/allotments`), read
// from the origin's own key rows in a simulated federation of three engines: per partner and sku,
// and per allotment; a recalled allotment's keys count as returned and no longer held.
import { afterEach, describe, expect, it } from 'vitest'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

describe('holdings', () => {
  it('counts per partner, sku and allotment, and a recall moves the keys to returned', async () => {
    sim = await SimFederation.create({ seed: 'holdings', shops: 3 })
    await sim.runUntil(600)
    const [a, b, c] = ['A', 'B', 'C'].map((n) => sim!.shop(n)) as [SimShop, SimShop, SimShop]
    expect(await a.engine.holdings()).toEqual([])
    const first = await a.engine.consign(b.identity.id, 'card-100', 5)
    const second = await a.engine.consign(b.identity.id, 'card-100', 2)
    const toC = await a.engine.consign(c.identity.id, 'card-100', 3)
    await sim.runUntil(1_500)

    const byHolder = async () => new Map((await a.engine.holdings()).map((h) => [h.holder, h]))
    const held = await byHolder()
    expect(held.get(b.identity.id)).toMatchObject({ sku: 'card-100', consigned: 7, held: 7, reserved: 0, delivered: 0, returned: 0 })
    expect(held.get(b.identity.id)?.allotments.sort((x, y) => x.consigned - y.consigned)).toEqual([
      { allotment: second.allotment, consigned: 2, held: 2 },
      { allotment: first.allotment, consigned: 5, held: 5 },
    ])
    expect(held.get(c.identity.id)).toMatchObject({ consigned: 3, held: 3, allotments: [{ allotment: toC.allotment, consigned: 3, held: 3 }] })
    // Other shops' keys are not ours: B and C list nothing.
    expect(await b.engine.holdings()).toEqual([])

    await a.engine.recall(c.identity.id, toC.allotment)
    await sim.runUntil(4_000)
    const after = await byHolder()
    expect(after.get(c.identity.id)).toMatchObject({ consigned: 3, held: 0, returned: 3, allotments: [{ allotment: toC.allotment, consigned: 3, held: 0 }] })
    expect(after.get(b.identity.id)).toMatchObject({ consigned: 7, held: 7 })
  })
})
