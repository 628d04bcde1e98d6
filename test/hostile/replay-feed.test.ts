// Replays of captured heartbeats, leases, feed acks and feed pushes (issue 7, item 7): to the same
// engine, to a restarted one (a new session) and to another destination than intended. Each is
// rejected or ignored with no change to the store, the admin views or the events; a dead origin's
// replayed heartbeats do not keep it alive and replayed leases never renew a lease.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SimFederation, simOrder, SIM_START_MS, type SimShop } from '../sim/sim-federation.js'
import { at, type Captured, eventsOf, inject, ofType, runFor, state, tap } from './helpers.js'

let sim: SimFederation
let a: SimShop
let b: SimShop
/** What A and B received while the federation ran normally. */
let toA: Captured[]
let toB: Captured[]

beforeEach(async () => {
  sim = await SimFederation.create({ seed: 'replay-feed', shops: 3 })
  toA = tap(sim, 'A')
  toB = tap(sim, 'B')
  await sim.runUntil(600)
  a = sim.shop('A')
  b = sim.shop('B')
  await a.engine.consign(b.identity.id, 'card-100', 5)
  await a.engine.submitOrders([1, 2, 3].map((n) => simOrder(sim.prng, n)))
  await sim.runUntil(2_000)
  expect(ofType(toB, 'heartbeat').length).toBeGreaterThan(4)
  expect(ofType(toB, 'feed.entries').length).toBeGreaterThan(0)
  expect(ofType(toA, 'lease').length).toBeGreaterThan(4)
  expect(ofType(toA, 'feed.ack').length).toBeGreaterThan(0)
})

afterEach(async () => {
  await sim.close()
})

/** Injects every captured message into `to` (as sent by its original sender) and expects no change. */
async function replayChangesNothing(to: string, messages: readonly Captured[], allowed: readonly string[] = []): Promise<void> {
  const before = await state(sim, to)
  for (const m of messages) await inject(sim.shop(to), m.from, m.protocol, m.message)
  const after = await state(sim, to)
  expect(after.store).toBe(before.store)
  expect(after.views).toBe(before.views)
  const added = eventsOf(sim, to).slice(before.events)
  expect(added.filter((e) => !allowed.includes(e.kind))).toEqual([])
}

const fromA = (list: Captured[]) => list.filter((m) => m.from === a.identity.id)
const fromB = (list: Captured[]) => list.filter((m) => m.from === b.identity.id)

describe('replayed feed and liveness messages', () => {
  it('to the same engine: heartbeats, leases, acks and pushes change nothing', async () => {
    await replayChangesNothing('B', fromA(ofType(toB, 'heartbeat')))
    await replayChangesNothing('B', fromA(ofType(toB, 'feed.entries')))
    await replayChangesNothing('A', fromB(ofType(toA, 'lease')))
    await replayChangesNothing('A', fromB(ofType(toA, 'feed.ack')))
    // A replayed heartbeat is not answered with a lease either.
    const since = at(sim)
    await runFor(sim, 100)
    const newestReplayed = Math.max(
      ...ofType(toB, 'heartbeat')
        .filter((m) => m.at < since)
        .map((m) => m.message.heartbeat.body.time),
    )
    const answers = ofType(toA, 'lease').filter((m) => m.at >= since && m.from === b.identity.id)
    expect(answers.length).toBeGreaterThan(0)
    // Leases answer the heartbeat they renew: only the newest real one (in flight) or later ones.
    for (const lease of answers) expect(lease.message.lease.body.untilMs - sim.agreement.terms.timing.leaseTtlMs).toBeGreaterThanOrEqual(newestReplayed)
  })

  it('to a restarted engine (a new session): old messages change nothing', async () => {
    const heartbeats = fromA(ofType(toB, 'heartbeat'))
    const pushes = fromA(ofType(toB, 'feed.entries'))
    const leases = fromB(ofType(toA, 'lease'))
    const acks = fromB(ofType(toA, 'feed.ack'))
    sim.crash('B')
    await sim.restart('B')
    sim.crash('A')
    await sim.restart('A')
    await runFor(sim, 2_000)
    await replayChangesNothing('B', heartbeats)
    await replayChangesNothing('B', pushes)
    await replayChangesNothing('A', leases)
    await replayChangesNothing('A', acks)
  })

  it('to another destination: rejected or ignored, whoever relays it', async () => {
    const c = sim.shop('C')
    const relayed = (list: Captured[], by: SimShop) => list.map((m) => ({ ...m, from: by.identity.id }))
    const rejected = ['message-rejected', 'entry-rejected']
    // A's heartbeat to B arrives at C, from A (misrouted) or from B (forwarded): not for C.
    await replayChangesNothing('C', fromA(ofType(toB, 'heartbeat')))
    await replayChangesNothing('C', relayed(fromA(ofType(toB, 'heartbeat')), b))
    // B's lease for A, B's ack of A's feed and A's own entries, shown to C or back to A.
    await replayChangesNothing('C', fromB(ofType(toA, 'lease')))
    await replayChangesNothing('C', fromB(ofType(toA, 'feed.ack')))
    await replayChangesNothing('C', relayed(fromA(ofType(toB, 'feed.entries')), b), rejected)
    await replayChangesNothing('A', relayed(fromA(ofType(toB, 'feed.entries')), b), rejected)
    expect(c.warnings.join('\n')).toMatch(/rejected heartbeat/)
  })

  it('replayed heartbeats of a dead origin do not keep it alive', async () => {
    const latest = fromA(ofType(toB, 'heartbeat')).at(-1) as Captured
    const crashedAt = at(sim)
    sim.crash('A')
    for (let t = 0; t < 3_000; t += 200) {
      await inject(b, a.identity.id, 'control', latest.message)
      await runFor(sim, 200)
    }
    const suspected = eventsOf(sim, 'B').filter((e) => e.kind === 'suspect' && e.origin === 'A')
    expect(suspected.length).toBeGreaterThan(0)
    const { suspectAfterMs, heartbeatMs } = sim.agreement.terms.timing
    expect((suspected[0]?.at as number) - crashedAt).toBeLessThanOrEqual(suspectAfterMs + 2 * heartbeatMs)
  })

  it('replayed leases never renew a lease: an isolated origin fences when its last real lease lapses', async () => {
    const leases = ofType(toA, 'lease')
    const lastUntil = Math.max(...leases.map((m) => m.message.lease.body.untilMs)) - SIM_START_MS
    for (const other of ['B', 'C']) sim.network.cut(a.identity.id, sim.shop(other).identity.id)
    const isolatedAt = at(sim)
    for (let t = 0; t < 3_000; t += 100) {
      for (const m of leases) await inject(a, m.from, 'control', m.message)
      await runFor(sim, 100)
    }
    const fences = eventsOf(sim, 'A').filter((e) => e.kind === 'fence' && e.at >= isolatedAt)
    expect(fences.map((e) => e.fenced)).toEqual([true])
    expect(fences[0]?.at).toBeLessThanOrEqual(lastUntil + 1)
    expect(a.shop.fenced).toBe(true)
  })
})
