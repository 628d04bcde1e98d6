// Units that change an existing order row take turns from their read to their commit (state/tx.ts).
// Before they did, two partners' receipts for one order, arriving at the origin through two feeds
// at once, were applied from the same read: the later write replaced the earlier, the row named
// one fulfiller and the double delivery was never reported (issue 17's lost update). Here B and C
// cannot hear each other's claims and both deliver every order while cut off from A; then both
// feeds reach A at once and every store call takes a few virtual ms, so their units overlap.
import { afterEach, describe, expect, it } from 'vitest'
import { orderKey } from '../../node/core/state/codec.js'
import { Authorities } from '../../node/core/state/authorities.js'
import { Orders, type OrderRow } from '../../node/core/state/orders.js'
import { Turns, Tx } from '../../node/core/state/tx.js'
import type { SimFederation, SimShop } from '../sim/sim-federation.js'
import { escrowedAtA } from './escrowed.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

const ORDERS = 6

describe('order rows change in turns', () => {
  it('reports every order two partners delivered as a duplicate at the origin', async () => {
    const set = await escrowedAtA('order-turns', { holders: ['B', 'C'], keysEach: 20, orders: ORDERS })
    sim = set.sim
    const [a, b, c] = set.shops as [SimShop, SimShop, SimShop]
    sim.network.cut(b.identity.id, c.identity.id)
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(1_512) // both adopted the takeover (1,506 and 1,511 ms at this seed)
    // A hears neither until both have delivered everything; then both feeds reach it at once.
    sim.network.cut(a.identity.id, b.identity.id)
    sim.network.cut(a.identity.id, c.identity.id)
    await sim.runUntil(5_000)
    sim.storeLatencyMs = () => 3
    sim.network.heal(a.identity.id, b.identity.id)
    sim.network.heal(a.identity.id, c.identity.id)
    await sim.runUntil(20_000)

    const deliveredBy = (shop: SimShop) =>
      new Set(
        sim.events.flatMap((e) =>
          e.node === sim.nameOf(shop.identity.id) && e.event.kind === 'delivered' && e.event.fulfiller === shop.identity.id ? [e.event.order] : [],
        ),
      )
    const byB = deliveredBy(b)
    const byC = deliveredBy(c)
    const both = [...byB].filter((o) => byC.has(o)).sort()
    expect(both.length).toBeGreaterThan(0) // the set-up works: claims did not cross the cut

    const reported = sim.events.flatMap((e) => (e.node === 'A' && e.event.kind === 'duplicate' ? [e.event.order] : []))
    expect([...new Set(reported)].sort()).toEqual(both)
    for (const order of both) {
      const row = await a.store.get<OrderRow>('orders', orderKey(a.identity.id, order))
      expect((row as OrderRow).state).toBe('delivered')
      expect([b.identity.id, c.identity.id]).toContain((row as OrderRow).fulfiller)
    }
  })

  it('refuses a change to an existing row made outside a turn', async () => {
    const set = await escrowedAtA('order-turns-assert', { holders: ['B'], keysEach: 5, orders: 1 })
    sim = set.sim
    const [a, b] = set.shops as [SimShop, SimShop]
    const turns = new Turns()
    const orders = new Orders(b.identity.id, b.store, new Authorities(b.store, false), turns)
    const row = (await orders.get(a.identity.id, 'O-0')) as OrderRow
    expect(row.state).toBe('escrowed')
    expect(() => orders.tombstone(new Tx(), row, 'cancel', { by: 'origin-record', seq: 1 })).toThrow(/changed outside a turn/)
    await turns.run(async () => {
      expect(orders.tombstone(new Tx(), row, 'cancel', { by: 'origin-record', seq: 1 })).toBe('applied')
    })
  })
})
