// Attack 2 of issue 16, "stalled buyers": partner B writes a `claim` for all of origin A's orders.
// On the landed code a claim taken from a feed was checked for nothing (epoch, terms, rank, keys),
// and the real key holder C waited for it as long as B heartbeated: when A's platform went down,
// C delivered 0 of 6 orders in 60 s. Now a claim counts only at an epoch we hold authority for,
// from a candidate (a partner holding keys of the order's sku) ranked before us, and only until it
// expires; anything else is refused and listed for the operator.
import { afterEach, describe, expect, it } from 'vitest'
import { type Claim, signDocument } from '../../protocol/index.js'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'
import { eventsOf, inject, liveAppend, runFor } from './helpers.js'
import { order } from './scenario.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const ORDERS = 6
const ids = Array.from({ length: ORDERS }, (_, i) => `O-${i}`)

async function federation(seed: string, holders: readonly string[]): Promise<{ s: SimFederation; a: SimShop; b: SimShop; c: SimShop }> {
  const s = await SimFederation.create({ seed, shops: 3 })
  sim = s
  await s.runUntil(600)
  const [a, b, c] = ['A', 'B', 'C'].map((n) => s.shop(n)) as [SimShop, SimShop, SimShop]
  for (const h of holders) await a.engine.consign(s.shop(h).identity.id, 'card-100', 10)
  await a.engine.submitOrders(Array.from({ length: ORDERS }, (_, i) => order(s, i)))
  await runFor(s, 500)
  return { s, a, b, c }
}

function claimBy(s: SimFederation, claimant: SimShop, origin: SimShop, epoch: number): Claim {
  return { claimant: claimant.identity.id, origin: origin.identity.id, orders: ids, terms: origin.engine.federation.termsHash, epoch, time: s.clock.now() }
}

const servedBy = (s: SimFederation, name: string) =>
  eventsOf(s, name)
    .filter((e) => e.kind === 'delivered' && e.fulfiller === name)
    .map((e) => e.order as string)
    .sort()

describe('claims that would stall buyers', () => {
  it('a claim in a feed from a partner holding no keys, made before any outage, holds nothing up', async () => {
    const { s, a, b, c } = await federation('lone-claims', ['C'])
    await liveAppend(b, [{ type: 'claim', claim: signDocument('claim', claimBy(s, b, a, 1), b.identity) }])
    await runFor(s, 1_000)
    a.engine.reportPlatformHealth('down') // epoch 1, by A's own request: C takes over at once
    await runFor(s, 10_000)
    expect(servedBy(s, 'C')).toEqual(ids)
    expect(c.mailer.sent).toHaveLength(ORDERS)
    const refused = (await c.engine.refusals()).filter((r) => r.from === b.identity.id && r.kind === 'claim')
    expect(refused.length).toBeGreaterThan(0)
    expect(refused[0]?.reason).toMatch(/authority|candidate|keys/)
  })

  it("a candidate's claim that is never fulfilled expires, and the other holder delivers", async () => {
    const { s, a, b, c } = await federation('expiring-claims', ['B', 'C'])
    // B heartbeats (it is alive) but hears nothing: it never takes over, only its operator claims.
    s.network.intercept = (_from, to) => to !== b.identity.id
    a.engine.reportPlatformHealth('down')
    // C takes over at once and claims the orders it ranks first for; for the others B ranks first,
    // and C's turn comes claimTimeoutMs later. B's operator claims them within that window.
    await runFor(s, 100)
    const claim = signDocument('claim', claimBy(s, b, a, 1), b.identity)
    await inject(c, b.identity.id, 'control', { type: 'claim', claim })
    await runFor(s, 15_000)
    expect(servedBy(s, 'B')).toEqual([])
    expect(servedBy(s, 'C')).toEqual(ids)
  })
})
