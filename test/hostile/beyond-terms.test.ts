// Fulfilling beyond the terms (issue 7, item 7). A partner's own node refuses to claim orders past
// the terms' limits per outage and per hour (also after a restart mid-outage), past the keys it
// was consigned, or without authority; and when a hostile partner publishes receipts beyond the
// limits anyway, the origin applies the deliveries (the buyers have their keys) but books their
// fees disputed ('outside-terms-limits') and lists them as mismatches when they are stated.
import { afterEach, describe, expect, it } from 'vitest'
import { type OutageLimits, signBytes, signingBytes, type Statement, type Terms } from '../../protocol/index.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import type { OrderRow } from '../../node/core/state/orders.js'
import { orderKey } from '../../node/core/state/codec.js'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'
import { eventsOf, feedEntries, hostileAppend, inject, runFor } from './helpers.js'
import { heldKeys, ledgerLines, order, type Outage, outage, receiptFor } from './scenario.js'

let o: Outage | undefined
let sim: SimFederation | undefined
afterEach(async () => {
  await o?.sim.close()
  await sim?.close()
  o = undefined
  sim = undefined
})

const AMOUNT = 1_000
const cny = (minorUnits: number) => ({ minorUnits, currency: 'CNY' })
/** Each variant lets a partner deliver exactly 3 orders of AMOUNT in one outage's first hour. */
const VARIANTS: [string, Partial<OutageLimits>][] = [
  ['maxOrdersPerOutage', { maxOrdersPerOutage: 3 }],
  ['maxValuePerOutage', { maxValuePerOutage: cny(3 * AMOUNT) }],
  ['maxOrdersPerHour', { maxOrdersPerHour: 3 }],
  ['maxValuePerHour', { maxValuePerHour: cny(3 * AMOUNT) }],
]

const withLimits =
  (limits: Partial<OutageLimits>) =>
  (t: Terms): Terms => ({ ...t, limits: { ...t.limits, ...limits } })
const deliveredBy = (x: Outage, name: string) => eventsOf(x.sim, name).filter((e) => e.kind === 'delivered' && e.fulfiller === name)

describe('beyond the terms', () => {
  it.each(VARIANTS)("%s: the partner's own node stops at the limit, also after a restart; the origin disputes more", async (name, limits) => {
    o = await outage({ seed: `beyond-${name}`, orders: 8, keys: { B: 10, C: 0 }, amount: AMOUNT, terms: withLimits(limits) })
    const { a, b } = o
    expect(deliveredBy(o, 'B')).toHaveLength(3)
    expect(b.mailer.sent).toHaveLength(3)
    expect(b.warnings.join('\n')).toMatch(/terms limit reached/)
    o.sim.crash('B') // a restart mid-outage must not reset what B already delivered
    await o.sim.restart('B')
    await runFor(o.sim, 3_000)
    expect(deliveredBy(o, 'B')).toHaveLength(3)

    // B's operator delivers two more by hand and publishes the receipts.
    o.sim.crash('B')
    const b2 = o.sim.shop('B')
    const free = await heldKeys(b2)
    const pending: OrderRow[] = []
    for (const x of o.orders) {
      const row = await a.store.get<OrderRow>('orders', orderKey(a.identity.id, x.order))
      if (row?.state === 'escrowed') pending.push(row)
    }
    const extra = pending.slice(0, 2).map((row, i) => receiptFor(o as Outage, free[i] as KeyRow, row.record))
    const entry = await hostileAppend(o.sim, 'B', extra)
    await inject(a, b2.identity.id, 'feed', feedEntries(b2.identity.id, [entry]))
    const lines = await ledgerLines(a, b2)
    expect(lines.map((l) => l.status).sort()).toEqual(['disputed', 'disputed', 'open', 'open', 'open'])
    for (const l of lines.filter((x) => x.status === 'disputed'))
      expect([l.dispute, extra.some((r) => r.order === l.line.order)]).toEqual(['outside-terms-limits', true])
    const balance = a.engine.balances().find((x) => x.counterparty === b2.identity.id)
    const fee = (lines[0] as { line: { amount: { minorUnits: number } } }).line.amount.minorUnits
    expect([balance?.owedByUs, balance?.disputed]).toEqual([3 * fee, 2 * fee])
    // The deliveries happened: the origin writes all five back to its shop when it returns.
    a.engine.reportPlatformHealth('up')
    await runFor(o.sim, 3_000)
    expect(a.shop.writeBacks.map((w) => w.order).sort()).toEqual(lines.map((l) => l.line.order).sort())

    // Stated anyway, the two are mismatches the origin must dispute before it can accept.
    const statement: Statement = {
      id: 'st-beyond',
      issuer: b2.identity.id,
      counterparty: a.identity.id,
      currency: 'CNY',
      terms: a.engine.federation.termsHash,
      period: { fromMs: 0, toMs: o.sim.clock.now() + 1 },
      lines: lines.map((l) => ({
        receipt: l.line.receipt,
        origin: l.line.origin,
        order: l.line.order,
        fulfiller: l.line.creditor,
        minorUnits: l.line.amount.minorUnits,
        time: l.line.time,
      })),
      totalMinorUnits: 5 * fee,
      time: o.sim.clock.now(),
    }
    await inject(a, b2.identity.id, 'feed', feedEntries(b2.identity.id, [await hostileAppend(o.sim, 'B', [{ type: 'statement', statement }])]))
    const received = (await a.engine.statements())[0]
    expect(received?.mismatches.map((m) => m.reason)).toEqual(['outside-terms-limits', 'outside-terms-limits'])
    await expect(a.engine.acceptStatement(received?.hash as string, [])).rejects.toThrow(/dispute them/)
    const accepted = await a.engine.acceptStatement(
      received?.hash as string,
      (received?.mismatches ?? []).map((m) => ({ receipt: m.receipt, reason: 'outside-terms-limits' as const, note: 'beyond the terms' })),
    )
    expect(accepted.acceptedMinorUnits).toBe(3 * fee)
  })

  it('a partner delivers only the keys it was consigned, and the origin consigns no more than the cap', async () => {
    o = await outage({ seed: 'beyond-keys', orders: 6, keys: { B: 3, C: 0 }, terms: (t) => ({ ...t, skus: t.skus.map((s) => ({ ...s, allotmentCap: 4 })) }) })
    const { a, b } = o
    const delivered = deliveredBy(o, 'B')
    expect(delivered).toHaveLength(3)
    expect(b.warnings.join('\n')).not.toMatch(/no keys are left/) // it never claimed what it could not serve
    const consigned = new Set((await heldKeys(b, 'delivered')).map((k) => k.keyId))
    expect(consigned.size).toBe(3)
    for (const e of delivered) for (const id of e.keyIds as string[]) expect(consigned.has(id)).toBe(true)
    // The cap bounds what B may hold undelivered: 4 more are fine, a fifth is refused.
    await a.engine.consign(b.identity.id, 'card-100', 4)
    await expect(a.engine.consign(b.identity.id, 'card-100', 1)).rejects.toThrow(/cap in the terms is 4/)
  })

  it('without authority a partner delivers nothing, however many keys and orders it holds', async () => {
    sim = await SimFederation.create({ seed: 'beyond-authority', shops: 3 })
    await sim.runUntil(600)
    const [a, b, c] = ['A', 'B', 'C'].map((n) => sim?.shop(n)) as [SimShop, SimShop, SimShop]
    await a.engine.consign(b.identity.id, 'card-100', 10)
    await a.engine.submitOrders([1, 2, 3, 4].map((n) => order(sim as SimFederation, n)))
    await runFor(sim, 1_000)
    // C's operator asks B to take A over, signing the request itself: not A's request.
    const body = { origin: a.identity.id, terms: a.engine.federation.termsHash, epoch: 1, time: sim.clock.now(), reason: 'not really' }
    const forged = { body, sig: signBytes(c.identity, signingBytes('takeover-request', body)) }
    await inject(b, c.identity.id, 'control', { type: 'takeover.request', request: forged })
    await runFor(sim, 5_000)
    expect(eventsOf(sim, 'B').filter((e) => e.kind === 'taken-over' || e.kind === 'claim' || e.kind === 'delivered')).toEqual([])
    expect(b.mailer.sent).toEqual([])
  })
})
