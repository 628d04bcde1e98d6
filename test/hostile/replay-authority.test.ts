// Replays of captured down-votes, takeover requests, certificates and claims (issue 7, item 7):
// a replayed vote is never counted twice nor revived after a restart, authority replayed after the
// takeover it granted never re-triggers one, and a dead claimant's replayed claim does not keep
// blocking the order it named.
import { afterEach, describe, expect, it } from 'vitest'
import { rankPartners, signDocument } from '../../protocol/index.js'
import { SimFederation, simOrder, type SimShop } from '../sim/sim-federation.js'
import { allEvents, at, type Captured, eventsOf, inject, ofType, runFor, runUntilTrue, state, tap } from './helpers.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

/** Injects every message into `to` as sent by its original sender; nothing but rejections may follow. */
async function replayChangesNothing(to: string, messages: readonly Captured[]): Promise<void> {
  expect(messages.length).toBeGreaterThan(0)
  const before = await state(sim, to)
  for (const m of messages) await inject(sim.shop(to), m.from, m.protocol, m.message)
  const after = await state(sim, to)
  expect(after.store).toBe(before.store)
  expect(after.views).toBe(before.views)
  expect(
    eventsOf(sim, to)
      .slice(before.events)
      .filter((e) => e.kind !== 'message-rejected'),
  ).toEqual([])
}

const shops = () => ['A', 'B', 'C'].map((n) => sim.shop(n)) as [SimShop, SimShop, SimShop]

describe('replayed authority', () => {
  it('a replayed down-vote is counted once, and an old one is ignored after a restart or elsewhere', async () => {
    sim = await SimFederation.create({ seed: 'replay-votes', shops: 3 })
    const toC = tap(sim, 'C')
    await sim.runUntil(1_500)
    const [a, b] = shops()
    sim.network.cut(a.identity.id, b.identity.id) // B alone loses A and votes it down; C still sees A
    await runFor(sim, 5_000)
    const votes = ofType(toC, 'down-vote').filter((m) => m.from === b.identity.id)
    expect(votes.length).toBeGreaterThan(4)
    const { suspectAfterMs, takeoverDelayMs } = sim.agreement.terms.timing
    const old = votes.filter((m) => sim.clock.now() - m.message.vote.body.time > suspectAfterMs + takeoverDelayMs)
    expect(old.length).toBeGreaterThan(0)
    await replayChangesNothing('C', [...votes.slice(-1), ...old]) // the newest again, and old ones
    sim.crash('C')
    await sim.restart('C')
    await replayChangesNothing('C', old) // a new session has no votes yet: old ones must not open one
    await replayChangesNothing('A', votes.slice(-1)) // the origin is not a voter's audience
    sim.network.heal(a.identity.id, b.identity.id)
    await runFor(sim, 3_000)
    expect(allEvents(sim, 'certified')).toEqual([])
    expect(eventsOf(sim, 'A').filter((e) => e.kind === 'fence' && e.at > 1_500)).toEqual([])
  })

  it('a takeover request, certificate or claim replayed after its takeover never re-triggers one', async () => {
    sim = await SimFederation.create({ seed: 'replay-takeovers', shops: 3 })
    const captured = { A: tap(sim, 'A'), B: tap(sim, 'B'), C: tap(sim, 'C') }
    await sim.runUntil(600)
    const [a, b, c] = shops()
    for (const p of [b, c]) await a.engine.consign(p.identity.id, 'card-100', 10)
    await a.engine.submitOrders(Array.from({ length: 6 }, (_, i) => simOrder(sim.prng, i)))
    await runFor(sim, 900)
    // Epoch 1: A's own request. Epoch 2: a certificate after A crashes.
    a.engine.reportPlatformHealth('down')
    await runFor(sim, 2_000)
    a.engine.reportPlatformHealth('up')
    await runFor(sim, 2_000)
    await a.engine.submitOrders(Array.from({ length: 4 }, (_, i) => simOrder(sim.prng, 10 + i)))
    await runFor(sim, 500)
    sim.crash('A')
    await runFor(sim, 6_000)
    await sim.restart('A')
    sim.shop('A').engine.reportPlatformHealth('up')
    await runFor(sim, 4_000)
    expect(
      allEvents(sim, 'handback')
        .filter((e) => e.node === 'A')
        .map((e) => e.epoch),
    ).toEqual([1, 2])
    const mails = () => b.mailer.sent.length + c.mailer.sent.length
    expect(mails()).toBe(10)

    const requests = ofType(captured.B, 'takeover.request')
    const certificates = [...ofType(captured.B, 'certificate'), ...ofType(captured.C, 'certificate')]
    const claims = { B: ofType(captured.B, 'claim'), C: ofType(captured.C, 'claim') }
    expect(certificates.length).toBeGreaterThan(0)
    for (const name of ['B', 'C'] as const) {
      await replayChangesNothing(name, [...requests, ...certificates, ...claims[name]])
      sim.crash(name)
      await sim.restart(name)
      await runFor(sim, 1_000)
      await replayChangesNothing(name, [...requests, ...certificates, ...claims[name]])
    }
    // To another destination: the origin itself, and a co-partner relaying the other's claims.
    await replayChangesNothing('A', [...requests, ...certificates, ...claims.B, ...claims.C])
    await replayChangesNothing(
      'B',
      claims.B.map((m) => ({ ...m, from: a.identity.id })),
    )
    await runFor(sim, 3_000)
    expect(
      allEvents(sim, 'taken-over')
        .map((e) => e.epoch)
        .sort(),
    ).toEqual([1, 1, 2, 2])
    expect(mails()).toBe(10)
  })

  it("a dead claimant's replayed claim stops blocking its orders once its claim has aged", async () => {
    sim = await SimFederation.create({ seed: 'replay-claims', shops: 3 })
    await sim.runUntil(600)
    const [a, b, c] = shops()
    for (const p of [b, c]) await a.engine.consign(p.identity.id, 'card-100', 20)
    const orders = Array.from({ length: 16 }, (_, i) => simOrder(sim.prng, i))
    await a.engine.submitOrders(orders)
    await runFor(sim, 900)
    sim.crash('C')
    await runFor(sim, 1_500) // B no longer hears C
    a.engine.reportPlatformHealth('down')
    expect(await runUntilTrue(sim, () => eventsOf(sim, 'B').some((e) => e.kind === 'taken-over'), 1_000, 5)).toBe(true)
    const takenOverAt = at(sim)
    // C's operator claims the orders where C ranks first, and its claim is replayed every 300 ms.
    const cFirst = orders.map((o) => o.order).filter((o) => rankPartners(a.identity.id, o, [b.identity.id, c.identity.id])[0] === c.identity.id)
    expect(cFirst.length).toBeGreaterThan(0)
    const claim = signDocument(
      'claim',
      { claimant: c.identity.id, origin: a.identity.id, orders: cFirst, terms: a.engine.federation.termsHash, epoch: 1, time: sim.clock.now() },
      c.identity,
    )
    for (let t = 0; t < 3_000; t += 300) {
      await inject(b, c.identity.id, 'control', { type: 'claim', claim })
      await runFor(sim, 300)
    }
    const { suspectAfterMs, claimTimeoutMs, heartbeatMs } = sim.agreement.terms.timing
    const delivered = eventsOf(sim, 'B').filter((e) => e.kind === 'delivered' && e.fulfiller === 'B' && cFirst.includes(e.order as string))
    expect(delivered.map((e) => e.order).sort()).toEqual([...cFirst].sort())
    for (const e of delivered) expect(e.at - takenOverAt).toBeLessThanOrEqual(suspectAfterMs + claimTimeoutMs + 2 * heartbeatMs)
  })
})
