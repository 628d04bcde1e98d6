// Settlement in the simulator: books mirror after an outage handled by two partners, statements
// survive restarts of either side mid-exchange, disputes never settle silently, the credit limit
// stops new takeovers until settled, and exports add up to the statement.
import { afterEach, describe, expect, it } from 'vitest'
import { bookLineOf } from '../../node/core/state/ledger.js'
import { SimFederation, simOrder, type SimShop } from '../sim/sim-federation.js'

let sim: SimFederation
afterEach(async () => {
  await sim?.close()
})

async function lines(shop: SimShop, counterparty: string): Promise<{ receipt: string; minor: number; status: string; statement: string | null }[]> {
  const out = []
  for await (const [key, row] of shop.store.range('ledger', { gt: `l!${counterparty}!`, lt: `l!${counterparty}!\xff` })) {
    const b = bookLineOf(key, row)
    out.push({ receipt: b.line.receipt, minor: b.line.amount.minorUnits, status: b.status, statement: b.statement })
  }
  return out.sort((x, y) => (x.receipt < y.receipt ? -1 : 1))
}

async function outage(orders: number, from = 0): Promise<void> {
  const a = sim.shop('A')
  await a.engine.submitOrders(Array.from({ length: orders }, (_, i) => simOrder(sim.prng, from + i)))
  await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 500)
  sim.crash('A')
  await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 8_000)
  await sim.restart('A')
  sim.shop('A').engine.reportPlatformHealth('up')
  await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 5_000)
}

async function setUp(seed: string, terms?: Parameters<typeof SimFederation.create>[0]['terms']): Promise<void> {
  sim = await SimFederation.create({ seed, shops: 3, terms })
  await sim.runUntil(600)
  const [a, b, c] = ['A', 'B', 'C'].map((n) => sim.shop(n)) as [SimShop, SimShop, SimShop]
  await a.engine.consign(b.identity.id, 'card-100', 60)
  await a.engine.consign(c.identity.id, 'card-100', 60)
  await sim.runUntil(1_200)
}

describe('settlement', () => {
  it("both nodes' books mirror each other after an outage handled by two partners", async () => {
    await setUp('books-mirror')
    await outage(30)
    const a = sim.shop('A')
    for (const name of ['B', 'C']) {
      const partner = sim.shop(name)
      const theirs = await lines(partner, a.identity.id)
      const ours = await lines(a, partner.identity.id)
      expect(theirs.length).toBeGreaterThan(0)
      expect(ours).toEqual(theirs)
      const owed = a.engine.balances().find((b) => b.counterparty === partner.identity.id)
      expect(owed?.owedByUs).toBe(theirs.reduce((n, l) => n + l.minor, 0))
    }
    // Idempotent: replaying every feed to A books nothing twice.
    const before = await lines(a, sim.shop('B').identity.id)
    sim.shop('B').engine.onPeerConnected(a.identity.id)
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 2_000)
    expect(await lines(a, sim.shop('B').identity.id)).toEqual(before)
  })

  it('a statement exchange survives restarts on both sides; a disputed line never settles; every receipt ends in one statement or dispute', async () => {
    await setUp('statement-restarts')
    await outage(20)
    const aId = sim.shop('A').identity.id
    const bId = sim.shop('B').identity.id
    const issued = await sim.shop('B').engine.issueStatement(aId)
    expect(issued).not.toBeNull()
    sim.crash('A') // A misses the statement live and catches up after its restart
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 1_000)
    await sim.restart('A')
    sim.shop('A').engine.reportPlatformHealth('up')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 3_000)
    const received = await sim.shop('A').engine.findStatement(issued?.hash as string)
    expect(received.role).toBe('received')
    expect(received.mismatches).toEqual([])
    const disputedReceipt = received.statement.lines[0]?.receipt as string
    await sim
      .shop('A')
      .engine.acceptStatement(received.hash, [{ receipt: disputedReceipt, reason: 'already-delivered-by-origin', note: 'we delivered it ourselves' }])
    sim.crash('B')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 1_000)
    await sim.restart('B')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 3_000)
    expect((await sim.shop('B').engine.findStatement(received.hash)).status).toBe('accepted')
    await sim.shop('A').engine.payStatement(received.hash, 'alipay 2026112200001')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 1_000)
    await sim.shop('B').engine.confirmStatement(received.hash)
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 1_000)
    const bLines = await lines(sim.shop('B'), aId)
    const aLines = await lines(sim.shop('A'), bId)
    expect(aLines).toEqual(bLines)
    const disputed = bLines.filter((l) => l.status === 'disputed')
    expect(disputed.map((l) => l.receipt)).toEqual([disputedReceipt])
    expect(bLines.filter((l) => l.status === 'settled')).toHaveLength(bLines.length - 1)
    expect(bLines.every((l) => l.statement === received.hash)).toBe(true)
    expect((await sim.shop('A').engine.findStatement(received.hash)).status).toBe('settled')
    // The operators heard of both (they raise the statement-received and statement-disputed alerts).
    const events = (node: string, kind: string) => sim.events.filter((e) => e.node === node && e.event.kind === kind).map((e) => e.event)
    expect(events('A', 'statement-received')).toEqual([
      { kind: 'statement-received', from: bId, statement: received.statement.id, lines: received.statement.lines.length, mismatches: 0 },
    ])
    expect(events('B', 'statement-disputed')).toEqual([{ kind: 'statement-disputed', by: aId, statement: received.statement.id, lines: 1 }])
    const balance = sim
      .shop('A')
      .engine.balances()
      .find((b) => b.counterparty === bId)
    expect(balance?.owedByUs).toBe(0)
    expect(balance?.disputed).toBe(disputed[0]?.minor)
  })

  it("an origin's dispute that reaches the fulfiller after it stated the line is mirrored there (chaos run on 156726e)", async () => {
    await setUp('dispute-after-statement')
    const order = simOrder(sim.prng, 0)
    await sim.shop('A').engine.submitOrders([order])
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 500)
    sim.crash('A')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 8_000)
    const aId = sim.shop('A').identity.id
    const fulfiller = (['B', 'C'] as const).find((n) => sim.shop(n).mailer.sent.length > 0) as 'B' | 'C'
    const f = sim.shop(fulfiller)
    // The fulfiller states the line while the origin is down…
    expect(await f.engine.issueStatement(aId)).not.toBeNull()
    expect((await lines(f, aId)).map((l) => l.status)).toEqual(['stated'])
    // …whose shop delivered the order itself too: on return it books the fee disputed.
    await sim.restart('A')
    await sim.shop('A').engine.markDelivered([{ order: order.order, time: sim.clock.now() }])
    sim.shop('A').engine.reportPlatformHealth('up')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 5_000)
    const atA = await lines(sim.shop('A'), f.identity.id)
    expect(atA.map((l) => l.status)).toEqual(['disputed'])
    expect((await lines(f, aId)).map((l) => l.status)).toEqual(['disputed'])
    const owed = (shop: SimShop, other: string) => shop.engine.balances().find((b) => b.counterparty === other)
    expect([owed(f, aId)?.owedToUs, owed(f, aId)?.disputed]).toEqual([0, atA[0]?.minor])
  })

  it('the credit limit stops new takeovers for an origin and lifts after settlement', async () => {
    await setUp('credit-limit', (t) => ({
      ...t,
      fee: { bps: 10_000, fixed: { minorUnits: 0, currency: 'CNY' } },
      settlement: { ...t.settlement, settleThreshold: { minorUnits: 1, currency: 'CNY' }, creditLimit: { minorUnits: 2, currency: 'CNY' } },
    }))
    await outage(6)
    const aId = sim.shop('A').identity.id
    for (const name of ['B', 'C'])
      expect(
        sim
          .shop(name)
          .engine.balances()
          .find((b) => b.counterparty === aId)?.owedToUs ?? 0,
      ).toBeGreaterThan(2)
    const mailsBefore = sim.shop('B').mailer.sent.length + sim.shop('C').mailer.sent.length
    await outage(4, 100) // A owes both partners more than the limit: nobody takes over
    expect(sim.shop('B').mailer.sent.length + sim.shop('C').mailer.sent.length).toBe(mailsBefore)
    expect(
      sim
        .shop('B')
        .engine.balances()
        .find((b) => b.counterparty === aId)?.creditBlocked,
    ).toBe(true)
    // Said once per origin while it stays blocked (the credit-limit alert), with what it owes.
    const blocked = sim.events.filter((e) => e.node === 'B' && e.event.kind === 'credit-limit').map((e) => e.event)
    expect(blocked).toHaveLength(1)
    expect(blocked[0]).toMatchObject({ kind: 'credit-limit', origin: aId, limitMinorUnits: 2 })
    sim.crash('A') // a third outage, during which A settles up through its partners' statements…
    for (const name of ['B', 'C']) await sim.shop(name).engine.issueStatement(aId) // (statements above the threshold may already be out)
    for (const name of ['B', 'C']) expect((await sim.shop(name).engine.statements()).some((s) => s.role === 'issued')).toBe(true)
    await sim.restart('A')
    sim.shop('A').engine.reportPlatformHealth('up')
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 3_000)
    for (const st of (await sim.shop('A').engine.statements()).filter((s) => s.role === 'received')) {
      await sim.shop('A').engine.acceptStatement(st.hash, [])
      await sim.shop('A').engine.payStatement(st.hash, `bank ${st.statement.id}`)
    }
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 2_000)
    for (const name of ['B', 'C'])
      for (const st of (await sim.shop(name).engine.statements()).filter((s) => s.status === 'paid')) await sim.shop(name).engine.confirmStatement(st.hash)
    await sim.runUntil(sim.clock.now() - 1_800_000_000_000 + 2_000)
    // …and the next outage is covered again.
    await outage(3, 200)
    expect(sim.shop('B').mailer.sent.length + sim.shop('C').mailer.sent.length).toBeGreaterThan(mailsBefore)
    expect(
      sim
        .shop('B')
        .engine.balances()
        .find((b) => b.counterparty === aId)?.creditBlocked,
    ).toBe(false)
  })

  it('exports a statement as CSV and JSON whose totals equal the statement', async () => {
    await setUp('export')
    await outage(12)
    const st = await sim.shop('C').engine.issueStatement(sim.shop('A').identity.id)
    expect(st).not.toBeNull()
    const json = JSON.parse(await sim.shop('C').engine.exportStatements('json', st?.hash))
    expect(json.totals).toEqual([{ currency: 'CNY', minorUnits: st?.statement.totalMinorUnits, amount: expect.any(String) }])
    expect(json.rows).toHaveLength(st?.statement.lines.length ?? -1)
    const csv = await sim.shop('C').engine.exportStatements('csv', st?.hash)
    const rows = csv.trim().split('\n')
    expect(rows[0]).toBe(
      'statement_id,statement_hash,status,issuer,counterparty,receipt,origin,order,fulfiller,kind,currency,amount_minor_units,amount,delivered_at_utc,line_status,dispute_reason',
    )
    const total = rows.at(-1)?.split(',') ?? []
    expect(total[0]).toBe('TOTAL')
    expect(Number(total[11])).toBe(st?.statement.totalMinorUnits)
    const summed = rows.slice(1, -1).reduce((n, r) => n + Number(r.split(',')[11]), 0)
    expect(summed).toBe(st?.statement.totalMinorUnits)
    expect(rows[1]).toMatch(/,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,stated,$/)
  })
})
