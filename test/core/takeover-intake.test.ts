// Orders a shop takes while its partners deliver for it (its platform is down but checkout and
// escrow still work) are stranded as much as the ones before: the partners deliver them during
// the outage, not only after the handback. Found while building the crash loop (test/chaos).
import { afterEach, describe, expect, it } from 'vitest'
import { type SimFederation, type SimShop, simOrder } from '../sim/sim-federation.js'
import { escrowedAtA } from './escrowed.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

describe('orders escrowed during a takeover', () => {
  it('are delivered by the partners while the takeover lasts, once each, and written back at handback', async () => {
    const set = await escrowedAtA('takeover-intake', { holders: ['B', 'C'], keysEach: 40, orders: 10 })
    sim = set.sim
    const [a, b, c] = set.shops as [SimShop, SimShop, SimShop]
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
