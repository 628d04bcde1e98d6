// A release that overtakes its consignment (D82, found as seed-6137 by the 20,000-seed run). The
// origin's consignment and the holder's release travel in different feeds, so a co-partner can
// get the release first. B's hostile operator releases keys of a fresh allotment and then writes a
// receipt for one of them; it also writes a receipt for another key and then releases that one.
// Co-partner C, cut off from A, gets all of it before A's consignment. C and A must judge alike,
// whatever arrives first: the receipt after the release is refused at both (C does not mark the
// order delivered and stall it), the receipt before the release is taken at both.
// (B is down: its hostile operator reads the new key ids from A's store, as B would from A's feed.)
import { afterEach, describe, expect, it } from 'vitest'
import type { FeedEntry } from '../../protocol/index.js'
import { keyRowKey, orderKey } from '../../node/core/state/codec.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import type { OrderRow } from '../../node/core/state/orders.js'
import { feedEntries, hostileAppend, inject, runFor } from './helpers.js'
import { order, type Outage, outage, receiptFor } from './scenario.js'

let o: Outage | undefined
afterEach(async () => {
  await o?.sim.close()
  o = undefined
})

async function orderStates(o: Outage, at: 'a' | 'c'): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const id of ['O-100', 'O-101']) {
    const row = await o[at].store.get<OrderRow>('orders', orderKey(o.a.identity.id, id))
    out[id] = row ? `${row.state}${row.fulfiller ? ` by ${o.sim.nameOf(row.fulfiller)}` : ''}` : 'unknown'
  }
  return out
}

async function peerKeyStates(o: Outage, keyIds: readonly string[]): Promise<string[]> {
  return Promise.all(keyIds.map(async (id) => (await o.c.store.get<{ state: string }>('peer-keys', keyRowKey(o.a.identity.id, id)))?.state ?? 'unknown'))
}

describe('a release that reaches a co-partner before the consignment it releases', () => {
  it('is judged in the holder feed order: C and A agree on every receipt around it', async () => {
    o = await outage({ seed: 'early-release', orders: 4, keys: { B: 6, C: 0 } })
    const { sim, a, b, c } = o
    sim.crash('B')
    await a.engine.submitOrders([order(sim, 100), order(sim, 101)])
    await runFor(sim, 500)
    expect(await orderStates(o, 'c')).toEqual({ 'O-100': 'escrowed', 'O-101': 'escrowed' })

    // C stops hearing from A; A consigns four more keys to B, in a new allotment.
    sim.network.cut(a.identity.id, c.identity.id)
    const { allotment } = await a.engine.consign(b.identity.id, 'card-100', 4)
    const fresh: KeyRow[] = []
    for await (const [, row] of a.store.range<KeyRow>('keys', {})) if (row.allotment === allotment) fresh.push(row)
    const [k1, k2, k3, k4] = fresh as [KeyRow, KeyRow, KeyRow, KeyRow]
    const escrowed = await a.engine.listEscrow(a.identity.id, undefined, 100)
    const o100 = escrowed.orders.find((x) => x.order === 'O-100')
    const o101 = escrowed.orders.find((x) => x.order === 'O-101')
    if (!o100 || !o101) throw new Error('orders not escrowed')

    const release = (keys: readonly KeyRow[]) => ({ type: 'allotment.released' as const, origin: a.identity.id, allotment, keyIds: keys.map((k) => k.keyId) })
    const entries: FeedEntry[] = [
      await hostileAppend(sim, 'B', [release([k1, k2])]),
      await hostileAppend(sim, 'B', [receiptFor(o, k1, o100)]), // a key it released
      await hostileAppend(sim, 'B', [receiptFor(o, k3, o101)]), // delivered, then…
      await hostileAppend(sim, 'B', [release([k3, k4])]), // …released as well
    ]
    await inject(c, b.identity.id, 'feed', feedEntries(b.identity.id, entries))

    // Before the consignment: the release is remembered, the receipt after it refused, the one before it waits.
    expect(await peerKeyStates(o, [k1.keyId, k2.keyId, k3.keyId, k4.keyId])).toEqual(['released-unseen', 'released-unseen', 'unknown', 'released-unseen'])
    expect(await orderStates(o, 'c')).toEqual({ 'O-100': 'escrowed', 'O-101': 'escrowed' })
    const refusedAtC = (await c.engine.refusals()).filter((r) => r.kind === 'receipt' && r.from === b.identity.id)
    expect(refusedAtC.map((r) => [r.order, r.reason])).toEqual([
      ['O-100', 'names keys not consigned to this fulfiller, or already delivered or returned'],
      ['O-101', 'held: names keys we have not seen consigned'],
    ])

    // The consignment arrives: released keys are returned at once, the held receipt is taken.
    sim.network.heal(a.identity.id, c.identity.id)
    await runFor(sim, 2_000)
    expect(await peerKeyStates(o, [k1.keyId, k2.keyId, k3.keyId, k4.keyId])).toEqual(['returned', 'returned', 'delivered', 'returned'])
    const atC = await orderStates(o, 'c')
    expect(atC).toEqual({ 'O-100': 'escrowed', 'O-101': 'delivered by B' })

    // A, which wrote the consignment, judges the same entries the same way.
    await inject(a, b.identity.id, 'feed', feedEntries(b.identity.id, entries))
    expect(await orderStates(o, 'a')).toEqual(atC)
    const keyState = async (k: KeyRow) => (await a.store.get<KeyRow>('keys', keyRowKey(a.identity.id, k.keyId)))?.state
    expect(await Promise.all([k1, k2, k3, k4].map(keyState))).toEqual(['returned', 'returned', 'delivered', 'returned'])
    expect((await a.engine.refusals()).filter((r) => r.kind === 'receipt' && r.from === b.identity.id).map((r) => r.order)).toEqual(['O-100'])
  })
})
