// Colluding partners (issue 7, item 7): with four partners per origin the quorum is 3, so f = 2
// colluders voting a live shop down must never reach a certificate at an honest partner, nor take
// it over, nor fence it; not with their own votes, forged or misdirected ones, certificates they
// assemble, or an honest partner's earlier vote replayed inside one.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type Certificate,
  type DownVote,
  identityFromSeed,
  type Identity,
  sha256,
  type Signed,
  signBytes,
  signDocument,
  signingBytes,
  utf8,
} from '../../protocol/index.js'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'
import { allEvents, at, type Captured, eventsOf, inject, ofType, runFor, snapshot, tap } from './helpers.js'

let sim: SimFederation
let a: SimShop
let b: SimShop
let c: SimShop
let honest: SimShop[]
let toB: Captured[]

beforeEach(async () => {
  sim = await SimFederation.create({ seed: 'collusion', shops: 5 })
  expect(sim.agreement.terms.quorum).toBe(3)
  toB = tap(sim, 'B')
  await sim.runUntil(2_000)
  ;[a, b, c] = ['A', 'B', 'C'].map((n) => sim.shop(n)) as [SimShop, SimShop, SimShop]
  honest = ['D', 'E'].map((n) => sim.shop(n))
  expect(a.shop.fenced).toBe(false)
})

afterEach(async () => {
  await sim.close()
})

function vote(voter: Identity, over: Partial<DownVote> = {}): Signed<DownVote> {
  return signDocument(
    'down-vote',
    { voter: voter.id, origin: a.identity.id, terms: a.engine.federation.termsHash, epoch: 1, time: sim.clock.now(), reason: 'heartbeat-timeout', ...over },
    voter,
  )
}

function certificate(votes: Signed<DownVote>[]): Certificate {
  return { origin: a.identity.id, terms: a.engine.federation.termsHash, epoch: 1, votes }
}

/**
 * Nothing happened to the live origin A since `since`: no certificate or takeover of it anywhere,
 * no delivery of its orders, no fence. (Crashed colluders are themselves certified by the others.)
 */
function expectOriginUntouched(since: number): void {
  for (const kind of ['certified', 'taken-over', 'delivered']) expect(allEvents(sim, kind).filter((e) => e.origin === 'A')).toEqual([])
  expect(eventsOf(sim, 'A').filter((e) => (e.kind === 'own-takeover' || e.kind === 'fence') && e.at >= since)).toEqual([])
  expect(a.shop.fenced).toBe(false)
}

describe('f = quorum - 1 colluding partners', () => {
  it('voting a live origin down for 10 s reach no certificate, no takeover and no fence', async () => {
    const since = at(sim)
    sim.crash('B') // from here B and C are run by colluding operators: no leases, only down-votes
    sim.crash('C')
    for (let t = 0; t < 10_000; t += 250) {
      for (const target of honest) {
        for (const voter of [b, c]) await inject(target, voter.identity.id, 'control', { type: 'down-vote', vote: vote(voter.identity) })
        await inject(target, b.identity.id, 'control', { type: 'certificate', certificate: certificate([vote(b.identity), vote(c.identity)]) })
      }
      await inject(a, b.identity.id, 'control', { type: 'certificate', certificate: certificate([vote(b.identity), vote(c.identity)]) })
      await runFor(sim, 250)
    }
    expectOriginUntouched(since)
    for (const h of honest)
      expect(
        eventsOf(sim, h.name)
          .filter((e) => e.kind === 'vote' && e.origin === 'A')
          .map((e) => e.voter),
      ).not.toContain(h.name)
  })

  it('forged, misdirected, wrong-epoch and other-terms votes and certificates are refused without effect', async () => {
    const since = at(sim)
    const d = honest[0] as SimShop
    const mallory = identityFromSeed(sha256(utf8('mallory')))
    const forgedBody: DownVote = { ...vote(b.identity).body, voter: d.identity.id }
    const forgedD: Signed<DownVote> = { body: forgedBody, sig: signBytes(b.identity, signingBytes('down-vote', forgedBody)) }
    const votes = (receiver: SimShop): Signed<DownVote>[] => [
      forgedD, // D's name, B's signature
      vote(c.identity), // C's vote, relayed by B
      vote(b.identity, { epoch: 2 }), // not the epoch after A's current one
      vote(b.identity, { origin: receiver.identity.id }), // about the receiver itself
      vote(b.identity, { origin: mallory.id }), // about an outsider
      vote(b.identity, { terms: 'T'.repeat(43) }), // under terms nobody signed
    ]
    const certificates = [
      certificate([vote(b.identity), vote(c.identity)]), // below quorum
      certificate([vote(b.identity), vote(b.identity, { time: sim.clock.now() - 1 }), vote(c.identity)]), // B twice
      certificate([vote(b.identity), vote(c.identity), forgedD]), // a forged third vote
      { ...certificate([vote(b.identity), vote(c.identity), vote(b.identity, { epoch: 2 })]) }, // mixed epochs
    ]
    for (const target of [d, a]) {
      const before = await snapshot(target)
      const events = eventsOf(sim, target.name).length
      for (const v of votes(target)) await inject(target, b.identity.id, 'control', { type: 'down-vote', vote: v })
      for (const cert of certificates) await inject(target, b.identity.id, 'control', { type: 'certificate', certificate: cert })
      expect(await snapshot(target)).toBe(before)
      const added = eventsOf(sim, target.name).slice(events)
      expect(added.filter((e) => e.kind !== 'message-rejected')).toEqual([])
    }
    await runFor(sim, 3_000)
    expectOriginUntouched(since)
  })

  it("an honest partner's earlier vote, replayed inside their certificate, does not make it count", async () => {
    const d = honest[0] as SimShop
    sim.network.cut(a.identity.id, d.identity.id) // D alone loses A for a while and votes
    await runFor(sim, 1_600)
    sim.network.heal(a.identity.id, d.identity.id)
    const honestVote = ofType(toB, 'down-vote').find((m) => m.from === d.identity.id)?.message.vote
    expect(honestVote?.body.origin).toBe(a.identity.id)
    const { suspectAfterMs, takeoverDelayMs, maxClockSkewMs, maxMessageDelayMs } = sim.agreement.terms.timing
    await runFor(sim, suspectAfterMs + takeoverDelayMs + maxClockSkewMs + maxMessageDelayMs + 500)
    const since = at(sim)
    sim.crash('B')
    sim.crash('C')
    const assembled = certificate([vote(b.identity), vote(c.identity), honestVote as Signed<DownVote>])
    for (const target of honest) await inject(target, b.identity.id, 'control', { type: 'certificate', certificate: assembled })
    await runFor(sim, takeoverDelayMs + 1_000)
    expectOriginUntouched(since)
    for (const h of honest) expect(h.warnings.join('\n')).toMatch(/rejected control message.*certificate/)
  })
})
