// A co-partner whose copy of the origin's feed lags gets a fulfiller's receipt before the escrow
// record of the order it names. Taken then (before issue 22), the receipt left no mark on the
// order: the escrow record, arriving next, made the order pending there, and that partner would
// deliver it a second time (241 of 4,600 orders in one simulated takeover). Now the receipt is
// held until the order arrives, and judged again then.
import { afterEach, describe, expect, it } from 'vitest'
import { SimFederation, type SimShop, simOrder } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const ORDERS = 6

describe('a receipt that reaches a co-partner before the order it names', () => {
  it('is held, then applied when the order arrives: the order ends delivered there, not pending', async () => {
    const s = await SimFederation.create({ seed: 'receipt-before-escrow', shops: 3, signatures: 'simulated' })
    sim = s
    const [a, b, c] = ['A', 'B', 'C'].map((n) => s.shop(n)) as [SimShop, SimShop, SimShop]
    await s.runUntil(600)
    await a.engine.consign(c.identity.id, 'card-100', ORDERS) // B holds no keys: only C delivers
    await s.runUntil(1_200)
    // A's feed stops reaching B, directly or through C; everything else flows.
    s.network.intercept = (from, to, protocol) => !(to === b.identity.id && protocol === 'feed' && from === a.identity.id)
    await a.engine.submitOrders(Array.from({ length: ORDERS }, (_, i) => simOrder(s.prng, i)))
    await s.runUntil(1_500)
    a.engine.reportPlatformHealth('down') // epoch 1 by A's own request: C takes over at once
    await s.runUntil(4_000)
    expect(c.mailer.sent).toHaveLength(ORDERS)
    const orders = async () => (await b.engine.listEscrow(a.identity.id, undefined, 100)).orders
    expect(await orders()).toEqual([]) // B has not seen the orders, only C's receipts
    const held = async () => (await b.engine.refusals()).filter((r) => r.held)
    expect((await held()).map((h) => [h.from, h.reason])).toEqual(Array(ORDERS).fill([c.identity.id, 'held: names an order we have not seen escrowed']))
    s.network.intercept = null
    await s.runUntil(8_000)
    expect((await orders()).map((o) => o.state)).toEqual(Array(ORDERS).fill('delivered'))
    expect(await held()).toEqual([])
  })
})
