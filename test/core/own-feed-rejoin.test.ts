// A node restored from an earlier copy of its store (D92), in the simulator: until every partner has
// said where it holds the node's feed, the node writes nothing; it takes back only entries it
// signed that follow its head; then it writes after them, and nobody sees a fork.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { appendEntry, entryHash, type FeedEntry } from '../../protocol/index.js'
import { seqKey } from '../../node/core/state/codec.js'
import { SIM_START_MS, SimFederation, simOrder, type SimShop, type StoreCopy } from '../sim/sim-federation.js'

/** A message to `shop` carrying entries of its own feed. */
function ownEntriesTo(shop: SimShop, to: string, message: unknown): boolean {
  const m = message as { type: string; author?: string }
  return to === shop.identity.id && m.type === 'feed.entries' && m.author === shop.identity.id
}

/** A message to `shop` saying where its own feed ends. */
function heldOf(shop: SimShop, to: string, message: unknown): boolean {
  const m = message as { type: string; author?: string }
  return to === shop.identity.id && m.type === 'feed.held' && m.author === shop.identity.id
}

describe('a restored node rejoins its own feed', () => {
  let sim: SimFederation
  let a: SimShop
  const run = (ms: number) => sim.runUntil(sim.clock.now() - SIM_START_MS + ms)

  beforeEach(async () => {
    sim = await SimFederation.create({ seed: 'rejoin', shops: 3 })
    a = sim.shop('A')
  })
  afterEach(async () => {
    await sim.close()
  })

  /** A escrows orders `from`…`to`, one entry each; its partners hold them. */
  async function escrow(from: number, to: number): Promise<void> {
    for (let n = from; n <= to; n++) {
      await sim.await(a.engine.submitOrders([simOrder(sim.prng, n)]))
      await run(50)
    }
    await run(1_000)
  }

  /** What `standin restore` does, in the simulator: the store put back to `copy`, marked, restarted. */
  async function restore(name: string, copy: StoreCopy): Promise<SimShop> {
    sim.crash(name)
    await sim.putBack(name, copy)
    await sim.restart(name)
    return sim.shop(name)
  }

  async function restoreA(copy: StoreCopy): Promise<void> {
    a = await restore('A', copy)
  }

  /** B's rows of A's keys, by state. */
  async function keyStatesAtB(): Promise<Record<string, number>> {
    const states: Record<string, number> = {}
    for await (const [, row] of sim.shop('B').store.range<{ origin: string; state: string }>('keys', {}))
      if (row.origin === a.identity.id) states[row.state] = (states[row.state] ?? 0) + 1
    return states
  }

  it('takes back the 10 entries after the copy, refuses to write until every partner answered, then writes after them', async () => {
    await escrow(1, 3)
    const copy = await sim.copyStore('A')
    await escrow(4, 13)
    const head = a.engine.feeds()[0]?.seq as number
    expect(head).toBe(13)

    await restoreA(copy)
    // Before anyone answered: paused, and a submit is refused with the reason.
    await expect(a.engine.submitOrders([simOrder(sim.prng, 99)])).rejects.toThrow(/confirming where its own feed ends/)

    await run(5_000)
    const feed = (await a.engine.selfStatus()).feed
    expect(feed).toMatchObject({ seq: head, rejoining: null, rebuilt: 10, notRebuilt: {} })
    expect(feed.confirmed).toHaveLength(2)
    const orders = await a.engine.listEscrow(a.identity.id, undefined, 100)
    expect(orders.orders.map((o) => o.order).sort()).toEqual(Array.from({ length: 13 }, (_, i) => `O-${i + 1}`).sort())

    await escrow(14, 14)
    expect(a.engine.feeds()[0]?.seq).toBe(head + 1)
    for (const name of ['B', 'C']) {
      const view = sim
        .shop(name)
        .engine.partners()
        .find((p) => p.id === a.identity.id)
      expect(view?.quarantined).toBe(false)
      expect(view?.theirHead.seq).toBe(head + 1)
    }
    expect(sim.events.some((e) => e.event.kind === 'fork')).toBe(false)
  })

  it("a restored origin takes its orders back before its partners' receipts for them, so none is refused as unknown (seed ops-130)", async () => {
    const b = sim.shop('B')
    await sim.await(a.engine.consign(b.identity.id, 'card-100', 6))
    await sim.await(a.engine.consign(sim.shop('C').identity.id, 'card-100', 6))
    await escrow(1, 2)
    const copy = await sim.copyStore('A')
    // After the copy: two more orders, then A's platform goes down and its partners deliver all four.
    await escrow(3, 4)
    a.engine.reportPlatformHealth('down')
    await run(60_000)
    expect((await a.engine.listEscrow(a.identity.id, undefined, 10)).orders.filter((o) => o.state === 'delivered')).toHaveLength(4)

    // A's own entries are held up on the way; its partners' receipts for orders 3 and 4 are not.
    sim.network.intercept = (_from, to, _protocol, message) => !ownEntriesTo(a, to, message)
    await restoreA(copy)
    await run(2_000)
    sim.network.intercept = null
    await run(10_000)
    const feed = (await a.engine.selfStatus()).feed
    expect(feed.rejoining).toBeNull()
    const orders = (await a.engine.listEscrow(a.identity.id, undefined, 10)).orders
    expect(orders.map((o) => `${o.order}:${o.state}`).sort()).toEqual(['O-1:delivered', 'O-2:delivered', 'O-3:delivered', 'O-4:delivered'])
    expect(sim.events.some((e) => e.node === 'A' && e.event.kind === 'refused')).toBe(false)
  })

  it('a restored holder takes back its receipts and releases: keys it delivered or released after the copy are never free again', async () => {
    await escrow(1, 4)
    const { allotment } = await sim.await(a.engine.consign(sim.shop('B').identity.id, 'card-100', 6))
    await run(1_000)
    const copy = await sim.copyStore('B')
    expect(await keyStatesAtB()).toEqual({ consigned: 6 })
    // After B's copy: A goes down, B delivers A's four orders; then A recalls the rest.
    a.engine.reportPlatformHealth('down')
    await run(60_000)
    const delivered = (await a.engine.listEscrow(a.identity.id, undefined, 10)).orders.filter((o) => o.state === 'delivered')
    expect(delivered).toHaveLength(4)
    a.engine.reportPlatformHealth('up')
    await run(30_000)
    await sim.await(a.engine.recall(sim.shop('B').identity.id, allotment))
    await run(5_000)
    const after = await keyStatesAtB()
    expect(after).toEqual({ delivered: 4, returned: 2 })
    const holdingBefore = sim.shop('B').engine.holdings()
    const headOfB = sim.shop('B').engine.feeds()[0]?.seq as number

    const b = await restore('B', copy)
    expect(await keyStatesAtB()).toEqual({ consigned: 6 })
    await run(5_000)
    const feed = (await b.engine.selfStatus()).feed
    expect(feed.rejoining).toBeNull()
    expect(feed.notRebuilt).toEqual({})
    // Its own four receipts (in one or more entries) and its release did it: it wrote nothing new.
    expect(feed.rebuilt).toBeGreaterThanOrEqual(5)
    expect(feed.seq).toBe(headOfB)
    expect(await keyStatesAtB()).toEqual(after)
    expect(b.engine.holdings()).toEqual(holdingBefore)
    const ordersAtB = (await b.engine.listEscrow(a.identity.id, undefined, 10)).orders
    expect(
      ordersAtB
        .filter((o) => o.state === 'delivered')
        .map((o) => o.order)
        .sort(),
    ).toEqual(delivered.map((o) => o.order).sort())
  })

  it('an entry offered as ours that we did not sign, or that does not follow our head, is not taken back', async () => {
    await escrow(1, 2)
    const copy = await sim.copyStore('A')
    await escrow(3, 3)
    // A's own entries from its partners are lost on the way for now; everything else flows.
    sim.network.intercept = (_from, to, _protocol, message) => !ownEntriesTo(a, to, message)
    await restoreA(copy)
    await run(2_000)
    const b = sim.shop('B')
    // B offers A's third entry altered (its signature no longer holds), then one of A's own that skips a seq.
    const third = (await b.store.get<FeedEntry>('entries', seqKey(a.identity.id, 3))) as FeedEntry
    const forged = { ...third, body: { ...third.body, time: third.body.time + 1 } }
    a.engine.onFeedMessage(b.identity.id, { type: 'feed.entries', author: a.identity.id, entries: [forged] })
    const skipping = appendEntry({
      identity: a.identity,
      head: { author: a.identity.id, seq: 3, hash: entryHash(third) },
      time: sim.clock.now(),
      terms: a.engine.federation.termsHash,
      records: [{ type: 'order.cancelled', order: 'O-2', reason: 'skips' }],
    })
    a.engine.onFeedMessage(b.identity.id, { type: 'feed.entries', author: a.identity.id, entries: [skipping] })
    await run(1)
    sim.network.intercept = null
    expect(a.engine.feeds()[0]?.seq).toBe(2)
    expect(a.warnings.join('\n')).toMatch(/refused an entry offered as ours/)
    expect(a.warnings.join('\n')).toMatch(/does not follow our head/)
    // The genuine third entry is taken back once the partners answer.
    await run(5_000)
    expect(a.engine.feeds()[0]?.seq).toBe(3)
    expect(entryHash((await a.store.get<FeedEntry>('entries', seqKey(a.identity.id, 3))) as FeedEntry)).toBe(entryHash(third))
    expect((await a.engine.listEscrow(a.identity.id, undefined, 10)).orders.find((o) => o.order === 'O-1')?.state).toBe('escrowed')
  })

  it('a partner that claims more of our feed than it sends keeps the node from writing; the others confirm', async () => {
    await escrow(1, 2)
    const copy = await sim.copyStore('A')
    await restoreA(copy)
    const b = sim.shop('B')
    // B's honest answers about A's feed never arrive; what does is a claim to hold seq 9 of it, with nothing after seq 2.
    sim.network.intercept = (from, to, _protocol, message) => !(from === b.identity.id && (ownEntriesTo(a, to, message) || heldOf(a, to, message)))
    const lie = { type: 'feed.held' as const, author: a.identity.id, seq: 9, head: 'A'.repeat(43) }
    a.engine.onFeedMessage(b.identity.id, lie)
    await run(1_000)
    a.engine.onFeedMessage(b.identity.id, lie)
    await run(5_000)
    const feed = (await a.engine.selfStatus()).feed
    expect(feed).toMatchObject({ seq: 2, rejoining: 'restored', confirmed: [sim.shop('C').identity.id], waiting: [b.identity.id] })
    expect(a.warnings.join('\n')).toMatch(/holds our feed beyond our head but sends nothing that follows it/)
    await expect(a.engine.submitOrders([simOrder(sim.prng, 3)])).rejects.toThrow(/confirming where its own feed ends/)
  })
})
