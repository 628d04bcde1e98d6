// A partner receiving bad feed entries: tampered, replayed, forked, from outsiders or under
// unknown terms. Each is rejected and logged, and none changes what the partner has stored
// (a fork keeps only its proof and quarantines the author, as docs/design.md §5 requires).
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { appendEntry, type FeedEntry, type FeedState, identityFromSeed, sha256, utf8 } from '../../protocol/index.js'
import type { Section } from '../../node/core/ports.js'
import { seqKey } from '../../node/core/state/codec.js'
import { SimFederation, simOrder, type SimShop } from '../sim/sim-federation.js'

const SECTIONS: Section[] = ['meta', 'entries', 'heads', 'orders', 'acks', 'forks']

async function snapshot(shop: SimShop, sections: Section[] = SECTIONS): Promise<string> {
  const out: string[] = []
  for (const section of sections) for await (const [key, value] of shop.store.range(section, {})) out.push(`${section} ${key} ${JSON.stringify(value)}`)
  return out.join('\n')
}

describe('hostile feed entries at a partner', () => {
  let sim: SimFederation
  let a: SimShop
  let b: SimShop
  let terms: string
  let held: FeedEntry

  beforeEach(async () => {
    sim = await SimFederation.create({ seed: 'hostile', shops: 3 })
    a = sim.shop('A')
    b = sim.shop('B')
    await a.engine.submitOrders([simOrder(sim.prng, 1), simOrder(sim.prng, 2)])
    await sim.runUntil(1_000)
    terms = a.engine.federation.termsHash
    held = (await b.store.get<FeedEntry>('entries', seqKey(a.identity.id, 1))) as FeedEntry
    expect(held.body.seq).toBe(1)
  })

  afterEach(async () => {
    await sim.close()
  })

  /** A correctly signed entry by A that extends the head B holds. */
  function nextByA(records = [{ type: 'order.delivered' as const, order: 'O-1', time: 1 }], head?: FeedState): FeedEntry {
    return appendEntry({
      identity: a.identity,
      head: head ?? { author: a.identity.id, seq: 1, hash: a.engine.feeds()[0]?.hash ?? null },
      time: sim.clock.now(),
      terms,
      records,
    })
  }

  async function deliver(entries: unknown[], from = a.identity.id, author = a.identity.id): Promise<void> {
    b.engine.onFeedMessage(from, { type: 'feed.entries', author, entries })
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 10)
  }

  it('rejects a tampered entry (bad signature) and stores nothing', async () => {
    const before = await snapshot(b)
    const good = nextByA()
    await deliver([{ ...good, body: { ...good.body, time: good.body.time + 1 } }])
    expect(await snapshot(b)).toBe(before)
    expect(b.warnings.join('\n')).toMatch(/rejected feed entry.*bad-signature/)
  })

  it('ignores a replayed entry it already holds: no state change', async () => {
    const before = await snapshot(b, ['entries', 'heads', 'orders', 'forks'])
    await deliver([held, held])
    expect(await snapshot(b, ['entries', 'heads', 'orders', 'forks'])).toBe(before)
  })

  it('takes an entry with the signature of one it holds for a copy, whatever its body says: nothing stored, no fork', async () => {
    // Copies are skipped before verification (replication.ts isHeldCopy); a body changed under the
    // held signature does not verify, so it can be neither a new entry nor a fork proof.
    const before = await snapshot(b)
    await deliver([
      { ...held, body: { ...held.body, time: held.body.time + 1 } },
      { sig: held.sig, body: null },
      { ...held, sig: 42 },
    ])
    expect(await snapshot(b)).toBe(before)
    expect(await b.store.get('forks', a.identity.id)).toBeUndefined()
  })

  it('detects a fork, keeps the proof, quarantines the author and stores none of the forked entry', async () => {
    const before = await snapshot(b, ['entries', 'heads', 'orders'])
    const fork = appendEntry({
      identity: a.identity,
      head: { author: a.identity.id, seq: 0, hash: null },
      time: sim.clock.now(),
      terms,
      records: [{ type: 'order.cancelled', order: 'O-1', reason: 'equivocation' }],
    })
    await deliver([fork])
    expect(await snapshot(b, ['entries', 'heads', 'orders'])).toBe(before)
    expect(await b.store.get('forks', a.identity.id)).toMatchObject({ a: held, b: fork })
    expect(b.engine.partners().find((p) => p.id === a.identity.id)?.quarantined).toBe(true)
    expect(b.warnings.join('\n')).toMatch(/feed fork: author quarantined/)
    // Further entries of a quarantined author are not applied.
    await deliver([nextByA()])
    expect(await snapshot(b, ['entries', 'heads', 'orders'])).toBe(before)
  })

  it('rejects entries offered under another author, from outsiders, or under unknown terms', async () => {
    const before = await snapshot(b)
    const mallory = identityFromSeed(sha256(utf8('mallory')))
    const outsiders = appendEntry({
      identity: mallory,
      head: { author: mallory.id, seq: 0, hash: null },
      time: 0,
      terms,
      records: [{ type: 'order.delivered', order: 'x', time: 0 }],
    })
    await deliver([outsiders], a.identity.id, mallory.id)
    await deliver([outsiders], a.identity.id, a.identity.id)
    const otherTerms = nextByA()
    const unknownTerms = appendEntry({
      identity: a.identity,
      head: { author: a.identity.id, seq: 1, hash: a.engine.feeds()[0]?.hash ?? null },
      time: 0,
      terms: 'T'.repeat(43),
      records: otherTerms.body.records,
    })
    await deliver([unknownTerms])
    expect(await snapshot(b)).toBe(before)
    const log = b.warnings.join('\n')
    expect(log).toMatch(/not-a-party/)
    expect(log).toMatch(/bad-chain/)
    expect(log).toMatch(/terms we never signed/)
  })

  it('still accepts the genuine next entry afterwards', async () => {
    await deliver([nextByA()])
    expect(b.engine.feeds().find((f) => f.author === a.identity.id)?.seq).toBe(2)
  })
})
