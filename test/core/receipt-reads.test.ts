// A co-partner judges every receipt in a fulfiller's entry against the rows it holds (the order,
// the keys consigned to the fulfiller). It reads those rows for the whole entry at once, not one
// receipt at a time: in the failover bench each partner judged 5,000 of the other's receipts with
// 10,000 one-row reads, ≈2 s of its CPU while the mails waited (D106).
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Section } from '../../node/core/ports.js'
import type { SimFederation, SimShop } from '../sim/sim-federation.js'
import { escrowedAtA } from './escrowed.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
  vi.restoreAllMocks()
})

describe("a co-partner judging a fulfiller's receipts", () => {
  it('reads their rows once per entry, and applies every one', async () => {
    const orders = 30
    const set = await escrowedAtA('receipt-reads', { holders: ['C'], keysEach: 40, orders })
    sim = set.sim
    const [a, b, c] = set.shops as [SimShop, SimShop, SimShop]
    const reads: { section: Section; keys: number }[] = []
    const getMany = b.store.getMany.bind(b.store)
    vi.spyOn(b.store, 'getMany').mockImplementation(async (section: Section, keys: readonly string[]) => {
      reads.push({ section, keys: keys.length })
      return getMany(section, keys)
    })
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(6_000)
    expect(c.mailer.sent).toHaveLength(orders)

    // B took every receipt C wrote: all thirty orders are delivered by C in B's copy.
    const held = (await b.engine.listEscrow(a.identity.id, undefined, 100)).orders
    expect(held.map((o) => o.state)).toEqual(Array(orders).fill('delivered'))
    const deliveredAtB = sim.events.filter((e) => e.node === 'B' && e.event.kind === 'delivered').length
    expect(deliveredAtB).toBe(orders)
    // The keys C named were read in a few reads of many, not thirty reads of one.
    const keyReads = reads.filter((r) => r.section === 'peer-keys')
    expect(keyReads.reduce((n, r) => n + r.keys, 0)).toBeGreaterThanOrEqual(orders)
    expect(keyReads.length).toBeLessThan(orders / 3)
    const orderReads = reads.filter((r) => r.section === 'orders' && r.keys === 1)
    expect(orderReads.length).toBeLessThan(orders / 3)
  })
})
