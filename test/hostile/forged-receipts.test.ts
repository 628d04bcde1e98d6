// Forged and altered receipts (issue 7, item 7): a partner's hostile operator publishes, in its own
// signed feed, receipts that do not match what the origin escrowed and consigned: another amount,
// a second receipt for one order, an order that does not exist, keys consigned to another partner,
// keys never consigned, a key already delivered, too many keys. The origin refuses each: nothing
// is stored, booked, counted or written back to its shop. A receipt in an entry with a broken
// signature is refused with the entry. A genuine receipt in the same position is applied.
// (C takes no part: it is down, and only its key ids, from its store, are used.)
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Receipt } from '../../protocol/index.js'
import type { KeyRow } from '../../node/core/state/keys.js'
import type { OrderRow } from '../../node/core/state/orders.js'
import { orderKey } from '../../node/core/state/codec.js'
import { ALL_SECTIONS, breakSignature, eventsOf, feedEntries, hostileAppend, inject, runFor, snapshot } from './helpers.js'
import { heldKeys, ledgerLines, order, type Outage, outage, ownReceipts, receiptFor } from './scenario.js'

let o: Outage
// The feed itself (the entry is B's to sign) and the refusals index (the evidence) may change.
const OUTSIDE_FEED = ALL_SECTIONS.filter((s) => s !== 'entries' && s !== 'heads' && s !== 'refusals')

beforeEach(async () => {
  o = await outage({ seed: 'forged-receipts', orders: 6, keys: { B: 10, C: 10 } })
  expect(o.b.mailer.sent.length + o.c.mailer.sent.length).toBe(6)
  expect((await ownReceipts(o.b)).length).toBeGreaterThan(0)
  // B's operator turns hostile; C goes down, so two more paid orders stay undelivered.
  o.sim.crash('B')
  o.sim.crash('C')
  await o.a.engine.submitOrders([order(o.sim, 100), order(o.sim, 101)])
  await runFor(o.sim, 100)
})

afterEach(async () => {
  await o.sim.close()
})

async function originState() {
  const a = o.a
  return {
    store: await snapshot(a, OUTSIDE_FEED),
    balances: JSON.stringify(a.engine.balances()),
    writeBacks: a.shop.writeBacks.length,
    events: eventsOf(o.sim, 'A').filter((e) => e.kind === 'delivered' || e.kind === 'duplicate').length,
  }
}

describe('forged receipts at the origin', () => {
  it('are refused: nothing stored, booked, counted or written back', async () => {
    const genuine = (await ownReceipts(o.b))[0] as Receipt
    const free = await heldKeys(o.b)
    const [k0, k1] = free as [KeyRow, KeyRow]
    const spent = (await heldKeys(o.b, 'delivered'))[0] as KeyRow
    const cKey = (await heldKeys(o.c))[0] as KeyRow
    const o100 = ((await o.a.store.get<OrderRow>('orders', orderKey(o.a.identity.id, 'O-100'))) as OrderRow).record
    const forged: Receipt[] = [
      { ...genuine, amount: { ...genuine.amount, minorUnits: genuine.amount.minorUnits + 1_000 } }, // altered amount
      { ...genuine, time: genuine.time + 1 }, // a second receipt for one delivered order
      receiptFor(o, k0, { ...o100, order: 'O-999' }), // an order A never took
      receiptFor(o, k0, o100, { amount: { minorUnits: o100.amount.minorUnits + 1, currency: 'CNY' } }), // not what was paid
      receiptFor(o, cKey, o100), // a key consigned to C
      receiptFor(o, { ...k0, keyId: 'A-card-100-9999' }, o100), // a key never consigned
      receiptFor(o, spent, o100), // a key B already delivered
      receiptFor(o, k0, o100, { keyIds: [k0.keyId, k1.keyId] }), // two keys for one
      receiptFor(o, k0, o100, { sku: 'card-200' }), // another sku
    ]
    const before = await originState()
    const entry = await hostileAppend(o.sim, 'B', forged)
    await inject(o.a, o.b.identity.id, 'feed', feedEntries(o.b.identity.id, [entry]))
    expect(o.a.engine.feeds().find((f) => f.author === o.b.identity.id)?.seq).toBe(entry.body.seq) // the entry itself is B's to sign
    expect(await originState()).toEqual(before)
    expect(o.a.warnings.filter((w) => w.startsWith('receipt refused'))).toHaveLength(forged.length)
    // Each is listed for the operator, with the reason.
    const refused = (await o.a.engine.refusals()).filter((r) => r.kind === 'receipt' && r.from === o.b.identity.id)
    expect(refused).toHaveLength(forged.length)
    expect(refused.map((r) => r.reason)).toContain('names an order we never escrowed')

    // The same bytes with a broken signature are refused with their entry.
    const next = await hostileAppend(o.sim, 'B', [receiptFor(o, k0, o100)])
    const broken = breakSignature(next)
    const whole = await snapshot(o.a)
    await inject(o.a, o.b.identity.id, 'feed', feedEntries(o.b.identity.id, [broken]))
    expect(await snapshot(o.a)).toBe(whole)
    expect(o.a.warnings.join('\n')).toMatch(/rejected feed entry.*bad-signature/)

    // The genuine receipt in the next entry is applied: the guard is not refusing everything.
    await inject(o.a, o.b.identity.id, 'feed', feedEntries(o.b.identity.id, [next]))
    const row = await o.a.store.get<OrderRow>('orders', orderKey(o.a.identity.id, 'O-100'))
    expect([row?.state, row?.fulfiller]).toEqual(['delivered', o.b.identity.id])
    expect((await ledgerLines(o.a, o.b)).some((l) => l.line.order === 'O-100' && l.status === 'open')).toBe(true)
    expect((await o.a.store.get<KeyRow>('keys', `${o.a.identity.id}!${k0.keyId}`))?.state).toBe('delivered')
  })
})
