// A partner that was down while a co-partner delivered an origin's orders, and that catches up
// only after the origin's epoch moved on, must still learn that those orders were delivered: the
// keys are out whatever the epoch. Otherwise it holds them as escrowed and delivers them a second
// time, with other keys, in a later takeover. Found by the crash loop (test/chaos): two partners
// delivered one order ~95 s apart.
import { afterEach, describe, expect, it } from 'vitest'
import type { SimFederation, SimShop } from '../sim/sim-federation.js'
import { escrowedAtA } from './escrowed.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

describe('receipts of an earlier epoch at a co-partner', () => {
  it('mark the orders delivered, so a later takeover never delivers them again', async () => {
    const set = await escrowedAtA('stale-receipt', { holders: ['B', 'C'], keysEach: 40, orders: 10 })
    sim = set.sim
    const [a, , c] = set.shops as [SimShop, SimShop, SimShop]
    sim.crash('B')
    // Epoch 1: C delivers all ten while B is down; epoch 2 comes and goes.
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(4_000)
    expect(c.mailer.sent).toHaveLength(10)
    a.engine.reportPlatformHealth('up')
    await sim.runUntil(6_000)
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(8_000)
    a.engine.reportPlatformHealth('up')
    await sim.runUntil(10_000)
    // B returns and catches up with A's feed (now at epoch 2) and C's (receipts of epoch 1).
    await sim.restart('B')
    const back = sim.shop('B')
    await sim.runUntil(13_000)
    const held = (await back.engine.listEscrow(a.identity.id, undefined, 100)).orders
    expect(held.map((o) => o.state)).toEqual(Array(10).fill('delivered'))
    // Epoch 3 with C gone: B alone delivers for A, and has nothing left to deliver.
    sim.crash('C')
    sim.shop('A').engine.reportPlatformHealth('down')
    await sim.runUntil(20_000)
    expect(sim.log.some((l) => l.includes(' B {"kind":"taken-over","origin":"A","epoch":3}'))).toBe(true)
    expect(back.mailer.sent).toHaveLength(0)
  })
})
