// Equivocation (issue 7, item 7): an author signs two different entries with one seq. Whether it
// shows one to partner X and the other to partner Y, or both to X, the fork is detected within one
// exchange, a portable proof (checked here with protocol functions alone) reaches every partner,
// the author is quarantined everywhere, and the other branch's records are never applied.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { appendEntry, entryHash, type FeedEntry, type FeedRecord, ForkProof, verifyForkProof } from '../../protocol/index.js'
import type { OrderRow } from '../../node/core/state/orders.js'
import { orderKey } from '../../node/core/state/codec.js'
import { SimFederation, simOrder, type SimShop } from '../sim/sim-federation.js'
import { at, eventsOf, feedEntries, inject, runFor, snapshot } from './helpers.js'

let sim: SimFederation
let a: SimShop
let partners: SimShop[]
let head: { seq: number; hash: string | null }

beforeEach(async () => {
  sim = await SimFederation.create({ seed: 'equivocation', shops: 4 })
  await sim.runUntil(600)
  a = sim.shop('A')
  partners = ['B', 'C', 'D'].map((n) => sim.shop(n))
  await a.engine.submitOrders([1, 2, 3].map((n) => simOrder(sim.prng, n)))
  await sim.runUntil(1_500)
  const own = a.engine.feeds()[0] as { seq: number; hash: string | null }
  head = { seq: own.seq, hash: own.hash }
  for (const p of partners) expect(p.engine.feeds().find((f) => f.author === a.identity.id)?.seq).toBe(head.seq)
  sim.crash('A') // from here on A's operator signs by hand
})

afterEach(async () => {
  await sim.close()
})

function fork(records: FeedRecord[], after = head): FeedEntry {
  return appendEntry({ identity: a.identity, head: { author: a.identity.id, ...after }, time: sim.clock.now(), terms: a.engine.federation.termsHash, records })
}

async function stateOf(shop: SimShop, order: string): Promise<string | undefined> {
  return (await shop.store.get<OrderRow>('orders', orderKey(a.identity.id, order)))?.state
}

async function expectQuarantinedEverywhere(x: FeedEntry, y: FeedEntry): Promise<void> {
  for (const p of partners) {
    expect(p.engine.partners().find((s) => s.id === a.identity.id)?.quarantined).toBe(true)
    const proof = ForkProof.parse(await p.store.get('forks', a.identity.id))
    // Portable: the proof alone convinces anyone who knows A's id, with protocol functions only.
    expect(verifyForkProof(proof).ok).toBe(true)
    expect(proof.a.body.author).toBe(a.identity.id)
    expect(new Set([entryHash(proof.a), entryHash(proof.b)])).toEqual(new Set([entryHash(x), entryHash(y)]))
  }
}

describe('an equivocating author', () => {
  it('one entry to B, another with the same seq to C: caught within one exchange, quarantined everywhere', async () => {
    const [b, c, d] = partners as [SimShop, SimShop, SimShop]
    const toB = fork([{ type: 'order.cancelled', order: 'O-1', reason: 'branch one' }])
    const toC = fork([{ type: 'order.delivered', order: 'O-2', time: sim.clock.now() }])
    expect(toB.body.seq).toBe(toC.body.seq)
    const sentAt = at(sim)
    await inject(b, a.identity.id, 'feed', feedEntries(a.identity.id, [toB]))
    await inject(c, a.identity.id, 'feed', feedEntries(a.identity.id, [toC]))
    // One exchange: an ack to the co-partners, a fetch of the entry it names, the entry back.
    const { maxDelayMs } = sim.network.faults
    await runFor(sim, 3 * maxDelayMs)
    const forks = ['B', 'C'].flatMap((n) => eventsOf(sim, n).filter((e) => e.kind === 'fork' && e.at >= sentAt))
    expect(forks.length).toBeGreaterThan(0)
    await runFor(sim, maxDelayMs) // the proof travels one more hop, to D
    await expectQuarantinedEverywhere(toB, toC)
    // Each partner kept the branch it was shown first and applied none of the other.
    expect([await stateOf(b, 'O-1'), await stateOf(b, 'O-2')]).toEqual(['cancelled', 'escrowed'])
    expect([await stateOf(c, 'O-1'), await stateOf(c, 'O-2')]).toEqual(['escrowed', 'delivered'])
    expect([await stateOf(d, 'O-1'), await stateOf(d, 'O-2')]).toEqual(['escrowed', 'escrowed'])
    // Nothing more from A is applied anywhere.
    const later = fork([{ type: 'order.cancelled', order: 'O-3', reason: 'after the fork' }], { seq: toB.body.seq, hash: entryHash(toB) })
    for (const p of partners) await inject(p, a.identity.id, 'feed', feedEntries(a.identity.id, [later]))
    await runFor(sim, 100)
    for (const p of partners) expect(await stateOf(p, 'O-3')).toBe('escrowed')
  })

  it('both entries to B: caught at once, the second never applied, the proof reaches C and D', async () => {
    const [b] = partners as [SimShop]
    const first = fork([{ type: 'order.cancelled', order: 'O-1', reason: 'branch one' }])
    const second = fork([{ type: 'order.cancelled', order: 'O-2', reason: 'branch two' }])
    await inject(b, a.identity.id, 'feed', feedEntries(a.identity.id, [first]))
    const before = await snapshot(b, ['entries', 'heads', 'orders', 'ledger', 'receipts', 'keys'])
    await inject(b, a.identity.id, 'feed', feedEntries(a.identity.id, [second]))
    expect(await snapshot(b, ['entries', 'heads', 'orders', 'ledger', 'receipts', 'keys'])).toBe(before)
    expect(await stateOf(b, 'O-2')).toBe('escrowed')
    await runFor(sim, sim.network.faults.maxDelayMs)
    await expectQuarantinedEverywhere(first, second)
  })

  it('a bogus fork proof quarantines nobody', async () => {
    const [b] = partners as [SimShop]
    const one = fork([{ type: 'order.cancelled', order: 'O-1', reason: 'one' }])
    const other = fork([{ type: 'order.cancelled', order: 'O-2', reason: 'other' }])
    const nextSeq = fork([{ type: 'order.cancelled', order: 'O-2', reason: 'next' }], { seq: one.body.seq, hash: entryHash(one) })
    const tampered = { ...other, body: { ...other.body, time: other.body.time + 1 } }
    const bogus = [
      { a: one, b: one },
      { a: one, b: tampered },
      { a: one, b: nextSeq },
    ]
    const c = partners[1] as SimShop
    const before = await snapshot(b)
    for (const proof of bogus) await inject(b, c.identity.id, 'feed', { type: 'feed.fork', proof })
    expect(await snapshot(b)).toBe(before)
    expect(b.engine.partners().find((s) => s.id === a.identity.id)?.quarantined).toBe(false)
    expect(eventsOf(sim, 'B').filter((e) => e.kind === 'message-rejected')).toHaveLength(bogus.length)
  })
})
