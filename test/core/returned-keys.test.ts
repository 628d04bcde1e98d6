// Returned keys (issue 16, item 3): keys a partner released back (after a recall) have been seen
// by that partner, so they never go back on sale as if unknown. They come back exposed, and the
// origin's operator decides: write them off, bill the holder for them (a proceeds line in both
// books), or consign them again to the same holder (who can deliver them once more).
import { afterEach, describe, expect, it } from 'vitest'
import type { KeyRow } from '../../node/core/state/keys.js'
import { type BookLine, bookLineOf } from '../../node/core/state/ledger.js'
import { SimFederation, type SimShop } from '../sim/sim-federation.js'

let sim: SimFederation | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function keyRows(shop: SimShop, origin: SimShop): Promise<KeyRow[]> {
  const out: KeyRow[] = []
  for await (const [, row] of shop.store.range<KeyRow>('keys', { gt: `${origin.identity.id}!`, lt: `${origin.identity.id}!\xff` })) out.push(row)
  return out
}

async function lines(shop: SimShop, counterparty: SimShop): Promise<BookLine[]> {
  const out: BookLine[] = []
  for await (const [key, row] of shop.store.range('ledger', { gt: `l!${counterparty.identity.id}!`, lt: `l!${counterparty.identity.id}!\xff` }))
    out.push(bookLineOf(key, row))
  return out
}

describe('keys a partner released back', () => {
  it('are exposed, never back on sale; written off, billed to the holder, or consigned to it again', async () => {
    sim = await SimFederation.create({ seed: 'returned-keys', shops: 3 })
    await sim.runUntil(600)
    const [a, b] = ['A', 'B'].map((n) => (sim as SimFederation).shop(n)) as [SimShop, SimShop]
    const { allotment } = await a.engine.consign(b.identity.id, 'card-100', 6)
    await sim.runUntil(1_500)
    const stockBefore = a.shop.stock.get('card-100')?.length

    await a.engine.recall(b.identity.id, allotment)
    await sim.runUntil(3_000)
    expect((await keyRows(b, a)).map((k) => k.state)).toEqual(Array(6).fill('returned'))
    expect(a.shop.returned).toEqual([]) // nothing went back into the shop
    expect(a.shop.stock.get('card-100')?.length).toBe(stockBefore)
    const exposed = await a.engine.exposedKeys()
    expect(exposed.map((k) => k.holder)).toEqual(Array(6).fill(b.identity.id))
    expect(JSON.stringify(exposed)).not.toMatch(/KEY-A/) // the operator sees ids, never the key text
    const ids = exposed.map((k) => k.keyId).sort()
    const [off, billed, again] = [ids.slice(0, 2), ids.slice(2, 4), ids.slice(4)]

    await a.engine.decideKeys(off as string[], 'write-off')
    const bill = await a.engine.decideKeys(billed as string[], 'bill')
    expect(bill.seq).toBeGreaterThan(0)
    await a.engine.decideKeys(again as string[], 'reconsign')
    await expect(a.engine.decideKeys(off as string[], 'bill')).rejects.toThrow(/not keys returned to us/)
    await sim.runUntil(5_000)

    const stateAt = async (shop: SimShop) => Object.fromEntries((await keyRows(shop, a)).map((k) => [k.keyId, k.state]))
    const atA = await stateAt(a)
    const atB = await stateAt(b)
    for (const id of off as string[]) expect([atA[id], atB[id]]).toEqual(['written-off', 'returned'])
    for (const id of billed as string[]) expect([atA[id], atB[id]]).toEqual(['billed', 'billed'])
    for (const id of again as string[]) expect([atA[id], atB[id]]).toEqual(['consigned', 'consigned'])
    expect(await a.engine.exposedKeys()).toEqual([])

    // The bill is one proceeds line, owed by B to A, the same in both books.
    const owedToA = await lines(a, b)
    expect(owedToA.map((l) => [l.line.kind, l.line.amount.minorUnits, l.status])).toEqual([['proceeds', 2 * 1_000, 'open']])
    expect((await lines(b, a)).map((l) => l.line)).toEqual(owedToA.map((l) => l.line))
    expect(a.engine.balances().find((x) => x.counterparty === b.identity.id)?.owedToUs).toBe(2_000)

    // B holds the two keys consigned again and may deliver them in A's next outage.
    await a.engine.submitOrders([
      {
        order: 'O-1',
        sku: 'card-100',
        qty: 1,
        amount: { minorUnits: 5_000, currency: 'CNY' },
        paidAt: sim.clock.now(),
        buyer: { email: 'buyer@example.com', locale: 'en' },
        claimSecret: 'claim-token-returned-0001',
      },
    ])
    await sim.runUntil(6_000)
    a.engine.reportPlatformHealth('down')
    await sim.runUntil(9_000)
    expect(b.mailer.sent.map((m) => m.to)).toEqual(['buyer@example.com'])
    expect(again).toContain(b.mailer.sent[0]?.text.match(/KEY-A-card-100-\d+/)?.[0].replace('KEY-', ''))
  })
})
