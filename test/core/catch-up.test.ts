// When a partner asks for entries itself (feed.get after a heartbeat showed the author's feed
// ahead of its copy): only once its copy has stood still behind that head for resendAfterMs.
// Asking at every heartbeat fetched, under steady writes, entries already on their way: each
// arrived two or three times (issue 22, `npm run bench -- escrow`).
import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_REPLICATION_LIMITS } from '../../node/core/replication.js'
import { SimFederation, simOrder } from '../sim/sim-federation.js'

const WRITE_EVERY_MS = 100
const WRITES = 60
/** The simulator's heartbeat (sim-federation.ts simTerms). */
const HEARTBEAT_MS = 250
const STORE_MS = 60

describe('catching up on a partner feed', () => {
  let sim: SimFederation | undefined

  afterEach(async () => {
    await sim?.close()
  })

  async function federation(): Promise<{ sim: SimFederation; asked: () => number; entryCopies: () => number }> {
    const created = await SimFederation.create({ seed: 'catch-up', shops: 3, signatures: 'simulated' })
    sim = created
    const a = created.shop('A').identity.id
    const b = created.shop('B').identity.id
    let asked = 0
    let entryCopies = 0
    created.network.observe = (from, to, _protocol, message) => {
      if (from === b && to === a && message.type === 'feed.get' && message.author === a) asked++
      if (from === a && to === b && message.type === 'feed.entries' && message.author === a) entryCopies += message.entries.length
    }
    return { sim: created, asked: () => asked, entryCopies: () => entryCopies }
  }

  async function writeSteadily(s: SimFederation, from: number): Promise<void> {
    const a = s.shop('A')
    for (let i = 0; i < WRITES; i++) {
      await a.engine.submitOrders([simOrder(s.prng, from + i)])
      await s.runUntil((from + i + 1) * WRITE_EVERY_MS)
    }
  }

  it('does not ask for entries its pushes are bringing: each arrives once under steady writes', async () => {
    const { sim: s, asked, entryCopies } = await federation()
    await s.runUntil(1_000)
    // A busy partner: every store call waits STORE_MS, so B applies A's pushes more slowly than a
    // heartbeat comes and A's head is ahead of B's copy at most heartbeats, while B's copy still
    // moves on. (Messages keep one delay, so they arrive in order as on a libp2p stream; out of
    // order, B would see gaps and ask for them: another path.)
    s.network.faults = { minDelayMs: 20, maxDelayMs: 20, lossRate: 0 }
    s.storeLatencyMs = () => STORE_MS
    const askedAtConnect = asked() // each partner asks once when it connects
    await writeSteadily(s, 10)
    await s.runUntil((10 + WRITES) * WRITE_EVERY_MS + 3_000)

    const a = s.shop('A')
    const b = s.shop('B')
    const head = a.engine.feeds().find((f) => f.author === a.identity.id)
    expect(head?.seq).toBeGreaterThan(1)
    expect(asked() - askedAtConnect).toBe(0)
    expect(entryCopies()).toBe(head?.seq)
    expect(b.engine.feeds().find((f) => f.author === a.identity.id)?.seq).toBe(head?.seq)
  })

  it('asks once its copy stood still behind the head for resendAfterMs, not at every heartbeat', async () => {
    const { sim: s, asked } = await federation()
    await s.runUntil(1_000)
    const askedAtConnect = asked()
    const a = s.shop('A').identity.id
    const b = s.shop('B').identity.id
    // Every feed.entries of A's feed to B is lost for LOSS_MS, pushes and answers alike.
    const LOSS_MS = 5_000
    const lossEnds = s.clock.now() + LOSS_MS
    s.network.intercept = (from, to, _protocol, message) =>
      !(from === a && to === b && (message as { type?: string }).type === 'feed.entries' && s.clock.now() < lossEnds)
    await s.shop('A').engine.submitOrders([simOrder(s.prng, 1)])
    await s.runUntil(1_000 + LOSS_MS)
    const askedWhileLost = asked() - askedAtConnect
    const heartbeats = LOSS_MS / HEARTBEAT_MS
    expect(askedWhileLost).toBeGreaterThanOrEqual(1)
    expect(askedWhileLost).toBeLessThanOrEqual(LOSS_MS / DEFAULT_REPLICATION_LIMITS.resendAfterMs + 1)
    expect(askedWhileLost).toBeLessThan(heartbeats / 2)

    // Once entries flow again B catches up, by A's resend or its own ask.
    await s.runUntil(1_000 + LOSS_MS + 3_000)
    const head = s
      .shop('A')
      .engine.feeds()
      .find((f) => f.author === a)
    expect(
      s
        .shop('B')
        .engine.feeds()
        .find((f) => f.author === a)?.seq,
    ).toBe(head?.seq)
  })
})
