// Orders a shop takes while its partners deliver for it (its platform is down but checkout and
// escrow still work) are stranded as much as the ones before: the partners deliver them during
// the outage, not only after the handback. Found while building the crash loop (test/chaos).
import { afterEach, describe, expect, it } from 'vitest'
import { SimFederation, simOrder } from '../sim/sim-federation.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

describe('orders escrowed during a takeover', () => {
  it('are delivered by the partners while the takeover lasts, once each, and written back at handback', async () => {
    sim = await SimFederation.create({ seed: 'takeover-intake', shops: 3 })
    const [a, b, c] = ['A', 'B', 'C'].map((n) => sim.shop(n))
    if (!a || !b || !c) throw new Error('three shops expected')
    await sim.runUntil(600)
    await a.engine.consign(b.identity.id, 'card-100', 40)
    await a.engine.consign(c.identity.id, 'card-100', 40)
    await sim.runUntil(1_200)
    await a.engine.submitOrders(Array.from({ length: 10 }, (_, i) => simOrder(sim.prng, i)))
    await sim.runUntil(1_500)
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(4_000)
    expect(b.mailer.sent.length + c.mailer.sent.length).toBe(10)

    await a.engine.submitOrders(Array.from({ length: 5 }, (_, i) => simOrder(sim.prng, 10 + i)))
    await sim.runUntil(8_000)
    const mailed = [...b.mailer.sent, ...c.mailer.sent].map((m) => m.to).sort()
    expect(mailed).toEqual(Array.from({ length: 15 }, (_, i) => `buyer${i}@example.com`).sort())

    a.engine.reportPlatformHealth('up')
    await sim.runUntil(12_000)
    expect(a.shop.writeBacks.map((w) => w.order).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `O-${i}`).sort())
    expect(a.shop.fenced).toBe(false)
  })
})
