// Attack 1 of issue 16, "fees for nothing": partner B, with no outage, no certificate and no
// takeover request, writes `receipt` records in its own signed feed for origin A's orders, at
// epochs it makes up (a new one per receipt, to dodge the per-outage and per-hour limits). The
// orders are ones A delivered itself, cancelled, or still holds pending. On the landed code A
// booked a fee for each, and A and co-partner C marked the pending orders "delivered by B", so
// nobody served them when A's platform really went down. Now every receipt is refused for want
// of an adopted authority for its epoch: no fee line, no "delivered" mark, at A or at C, and the
// refusals are listed for the operator. A real outage afterwards is served in full by C.
import { afterEach, describe, expect, it } from 'vitest'
import type { Receipt, Terms } from '../../protocol/index.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'
import { eventsOf, feedEntries, hostileAppend, inject, runFor } from './helpers.js'
import { heldKeys, ledgerLines, order } from './scenario.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

const ORDERS = 6
const ONE_PER_OUTAGE = (t: Terms): Terms => ({ ...t, limits: { ...t.limits, maxOrdersPerOutage: 1, maxOrdersPerHour: 1 } })

interface Set {
  readonly sim: SimFederation
  readonly a: SimShop
  readonly b: SimShop
  readonly c: SimShop
}

/** A consigns to B and C, takes six orders, delivers O-0 and O-1 itself and cancels O-2. */
async function federation(seed: string, terms?: (t: Terms) => Terms): Promise<Set> {
  const s = await SimFederation.create({ seed, shops: 3, terms })
  sim = s
  await s.runUntil(600)
  const [a, b, c] = ['A', 'B', 'C'].map((n) => s.shop(n)) as [SimShop, SimShop, SimShop]
  await a.engine.consign(b.identity.id, 'card-100', 10)
  await a.engine.consign(c.identity.id, 'card-100', 10)
  await a.engine.submitOrders(Array.from({ length: ORDERS }, (_, i) => order(s, i)))
  await runFor(s, 500)
  await a.engine.markDelivered([
    { order: 'O-0', time: s.clock.now() },
    { order: 'O-1', time: s.clock.now() },
  ])
  await a.engine.markCancelled([{ order: 'O-2', reason: 'buyer asked' }])
  await runFor(s, 500)
  return { sim: s, a, b, c }
}

/** B's hostile operator writes one receipt per order, each at a new made-up epoch, and pushes them. */
async function loneReceipts(set: Set, orders: readonly string[]): Promise<Receipt[]> {
  const { a, b, c } = set
  const keys = await heldKeys(b)
  set.sim.crash('B')
  const receipts: Receipt[] = []
  for (const [i, id] of orders.entries()) {
    const escrowed = (await a.engine.listEscrow(a.identity.id, undefined, 100)).orders.find((o) => o.order === id)
    if (!escrowed) throw new Error(`no order ${id}`)
    const key = keys[i] as KeyRow
    receipts.push({
      type: 'receipt',
      origin: a.identity.id,
      order: id,
      sku: escrowed.sku,
      allotment: key.allotment,
      keyIds: [key.keyId],
      channel: 'email+claim-page',
      epoch: i + 1,
      time: set.sim.clock.now(),
      amount: escrowed.amount,
      unitValue: key.unitValue,
      terms: a.engine.federation.termsHash,
    })
  }
  const entry = await hostileAppend(set.sim, 'B', receipts)
  for (const to of [a, c]) await inject(to, b.identity.id, 'feed', feedEntries(b.identity.id, [entry]))
  return receipts
}

async function statesAt(shop: SimShop, origin: SimShop): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const o of (await shop.engine.listEscrow(origin.identity.id, undefined, 100)).orders) out[o.order] = o.state
  return out
}

describe('lone receipts without authority (fees for nothing)', () => {
  it('are refused at the origin and at a co-partner: no fee, no delivered mark, shown to the operator', async () => {
    const set = await federation('lone-receipts', ONE_PER_OUTAGE)
    const { a, b, c } = set
    const before = { a: await statesAt(a, a), c: await statesAt(c, a) }
    expect(before.a).toEqual({ 'O-0': 'delivered', 'O-1': 'delivered', 'O-2': 'cancelled', 'O-3': 'escrowed', 'O-4': 'escrowed', 'O-5': 'escrowed' })
    expect(before.c).toEqual(before.a)

    // Delivered by A, cancelled by A, and two still pending: four receipts at epochs 1…4.
    await loneReceipts(set, ['O-0', 'O-2', 'O-3', 'O-4'])

    expect(await ledgerLines(a, b)).toEqual([])
    expect(a.engine.balances().filter((x) => x.counterparty === b.identity.id && (x.owedByUs !== 0 || x.disputed !== 0))).toEqual([])
    expect(await statesAt(a, a)).toEqual(before.a)
    expect(await statesAt(c, a)).toEqual(before.c)
    expect(a.shop.writeBacks).toEqual([])
    expect(eventsOf(set.sim, 'A').filter((e) => e.kind === 'delivered' || e.kind === 'duplicate' || e.kind === 'own-takeover')).toEqual([])
    expect(a.shop.fenced).toBe(false)

    // The operator sees every refused receipt: who, which order, which epoch, and why.
    for (const shop of [a, c]) {
      const refused = (await shop.engine.refusals()).filter((r) => r.from === b.identity.id && r.kind === 'receipt')
      expect(refused.map((r) => [r.order, r.epoch]).sort()).toEqual([
        ['O-0', 1],
        ['O-2', 2],
        ['O-3', 3],
        ['O-4', 4],
      ])
      for (const r of refused) expect(r.reason).toMatch(/no (adopted )?authority/)
    }
  })

  it('leave the pending orders to be served in a real outage', async () => {
    const set = await federation('lone-receipts-outage')
    const { a, c } = set
    await loneReceipts(set, ['O-3', 'O-4']) // O-3 at epoch 1: the epoch A's real outage will have
    await runFor(set.sim, 2_000)
    a.engine.reportPlatformHealth('down') // A's own takeover request: epoch 1, a real authority
    await runFor(set.sim, 10_000)
    const served = eventsOf(set.sim, 'C')
      .filter((e) => e.kind === 'delivered' && e.fulfiller === 'C')
      .map((e) => e.order)
      .sort()
    expect(served).toEqual(['O-3', 'O-4', 'O-5'])
    expect(c.mailer.sent).toHaveLength(3)
  })
})
