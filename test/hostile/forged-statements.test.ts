// Forged and altered settlement documents (issue 7, item 7). Statements, acceptances, disputes,
// payments and confirmations travel as records in their author's signed feed. Altered lines,
// amounts or signatures, and documents attributed to another party, are refused, listed for a
// dispute or left without effect, and the books (ledger lines and balances) do not move.
import { afterEach, describe, expect, it } from 'vitest'
import { hashOf, type Statement } from '../../protocol/index.js'
import type { BookLine, StatementState } from '../../node/core/state/ledger.js'
import type { SimShop } from '../sim/sim-federation.js'
import { breakSignature, feedEntries, hostileAppend, inject, runFor } from './helpers.js'
import { ledgerLines, type Outage, outage } from './scenario.js'

let o: Outage
afterEach(async () => {
  await o?.sim.close()
})

/** An outage delivered by B and C, handed back, with receipts booked on both sides. */
async function settledOutage(seed: string): Promise<Outage> {
  const x = await outage({ seed, orders: 8, keys: { B: 10, C: 10 } })
  x.a.engine.reportPlatformHealth('up')
  await runFor(x.sim, 3_000)
  expect((await ledgerLines(x.a, x.b)).length).toBeGreaterThan(0)
  return x
}

/** The books as a party sees them: its ledger lines with both others, and its balances. */
async function books(shop: SimShop): Promise<string> {
  const lines = (await Promise.all(['A', 'B', 'C'].filter((n) => n !== shop.name).map((n) => ledgerLines(shop, o.sim.shop(n))))).flat()
  return JSON.stringify({ lines, balances: shop.engine.balances() })
}

function statementOf(issuer: SimShop, counterparty: SimShop, lines: BookLine[], over: Partial<Statement> = {}): Statement {
  const st = {
    id: `st-forged-${lines.length}`,
    issuer: issuer.identity.id,
    counterparty: counterparty.identity.id,
    currency: 'CNY',
    terms: o.a.engine.federation.termsHash,
    period: { fromMs: Math.min(...lines.map((l) => l.line.time)), toMs: o.sim.clock.now() + 1 },
    lines: lines.map((b) => ({
      receipt: b.line.receipt,
      origin: b.line.origin,
      order: b.line.order,
      fulfiller: b.line.creditor,
      minorUnits: b.line.amount.minorUnits,
      time: b.line.time,
    })),
    totalMinorUnits: 0,
    time: o.sim.clock.now(),
    ...over,
  }
  return { ...st, totalMinorUnits: st.lines.reduce((n, l) => n + l.minorUnits, 0) }
}

describe('forged settlement documents', () => {
  it('a statement with altered lines is listed as mismatches and cannot be accepted undisputed', async () => {
    o = await settledOutage('forged-statement')
    const { a, b, c } = o
    const bLines = await ledgerLines(a, b) // what A owes B, line by line
    const cLines = await ledgerLines(a, c)
    o.sim.crash('B')
    const before = await books(a)
    const inflated = { ...(bLines[0] as BookLine), line: { ...(bLines[0] as BookLine).line, amount: { minorUnits: 999_999, currency: 'CNY' } } }
    const othersLine = { ...(cLines[0] as BookLine), line: { ...(cLines[0] as BookLine).line, creditor: b.identity.id } } // C's receipt, claimed by B
    const unknown = { ...(bLines[1] as BookLine), line: { ...(bLines[1] as BookLine).line, receipt: 'U'.repeat(43) } }
    const otherOrder = { ...(bLines[2] as BookLine), line: { ...(bLines[2] as BookLine).line, order: 'O-999' } }
    const altered = statementOf(b, a, [inflated, othersLine, unknown, otherOrder])
    altered.lines.push({
      ...(altered.lines[0] as Statement['lines'][number]),
      receipt: (bLines[3] as BookLine).line.receipt,
      time: (bLines[3] as BookLine).line.time,
      minorUnits: 0,
      fulfiller: c.identity.id,
    }) // B's receipt, said to be C's
    const misattributed = statementOf(c, a, bLines, { id: 'st-as-c' }) // names C as issuer, in B's feed
    const notForA = statementOf(b, c, bLines, { id: 'st-for-c' })
    const entry = await hostileAppend(
      o.sim,
      'B',
      [altered, misattributed, notForA].map((statement) => ({ type: 'statement' as const, statement })),
    )
    const broken = await hostileAppend(o.sim, 'B', [{ type: 'statement', statement: { ...altered, id: 'st-broken' } }])
    await inject(a, b.identity.id, 'feed', feedEntries(b.identity.id, [entry, breakSignature(broken)]))
    expect(await books(a)).toBe(before)
    const received = await a.engine.statements()
    expect(received.map((s) => s.statement.id)).toEqual([altered.id])
    const state = received[0] as StatementState
    expect(state.mismatches.map((m) => m.reason)).toEqual(['wrong-amount', 'unknown-receipt', 'unknown-receipt', 'unknown-receipt', 'unknown-receipt'])
    await expect(a.engine.acceptStatement(state.hash, [])).rejects.toThrow(/do not match our books/)
    expect(await books(a)).toBe(before)
    expect((await a.engine.findStatement(state.hash)).status).toBe('issued')
    // Disputing every mismatched line is the way out: nothing of it is accepted, and only B's own
    // receipts that B misstated are now disputed; every other line stays open, as booked.
    const answered = await a.engine.acceptStatement(
      state.hash,
      state.mismatches.map((m) => ({ receipt: m.receipt, reason: 'other' as const, note: 'not in our books' })),
    )
    expect(answered.acceptedMinorUnits).toBe(0)
    const after = await ledgerLines(a, b)
    const misstated = new Set(altered.lines.map((l) => l.receipt))
    expect(after.map((l) => l.line)).toEqual(bLines.map((l) => l.line))
    for (const l of after) expect(l.status).toBe(misstated.has(l.line.receipt) ? 'disputed' : 'open')
  })

  it('acceptances, disputes, payments and confirmations by a third party, or with altered amounts, change nothing', async () => {
    o = await settledOutage('forged-answers')
    const { a, b, c } = o
    const issued = (await b.engine.issueStatement(a.identity.id)) as StatementState
    await runFor(o.sim, 500)
    expect((await a.engine.findStatement(issued.hash)).role).toBe('received')
    const hash = issued.hash
    o.sim.crash('C') // C's operator answers a statement between A and B as if it were A or B
    const beforeA = await books(a)
    const beforeB = await books(b)
    const byC = await hostileAppend(o.sim, 'C', [
      {
        type: 'dispute',
        issuer: b.identity.id,
        statement: hash,
        lines: [{ receipt: issued.statement.lines[0]?.receipt as string, reason: 'other', note: 'C says so' }],
      },
      { type: 'statement.accepted', issuer: b.identity.id, statement: hash },
      {
        type: 'payment.recorded',
        payee: b.identity.id,
        statement: hash,
        amount: { minorUnits: issued.statement.totalMinorUnits, currency: 'CNY' },
        reference: 'by C',
      },
      { type: 'payment.confirmed', payer: a.identity.id, statement: hash, reference: 'by C' },
    ])
    for (const to of [a, b]) await inject(to, c.identity.id, 'feed', feedEntries(c.identity.id, [byC]))
    expect([await books(a), await books(b)]).toEqual([beforeA, beforeB])
    expect([(await a.engine.findStatement(hash)).status, (await b.engine.findStatement(hash)).status]).toEqual(['issued', 'issued'])

    // A accepts for real; then A's operator records a payment of less than it accepted.
    await a.engine.acceptStatement(hash, [])
    await runFor(o.sim, 500)
    expect((await b.engine.findStatement(hash)).status).toBe('accepted')
    o.sim.crash('A')
    const accepted = (await b.engine.findStatement(hash)).acceptedMinorUnits as number
    const afterAccept = await books(b)
    const short = await hostileAppend(o.sim, 'A', [
      { type: 'payment.recorded', payee: b.identity.id, statement: hash, amount: { minorUnits: accepted - 1, currency: 'CNY' }, reference: 'short' },
      { type: 'payment.recorded', payee: b.identity.id, statement: hash, amount: { minorUnits: accepted, currency: 'USD' }, reference: 'other currency' },
      {
        type: 'payment.recorded',
        payee: b.identity.id,
        statement: hashOf({ not: 'a statement' }),
        amount: { minorUnits: accepted, currency: 'CNY' },
        reference: 'unknown',
      },
    ])
    await inject(b, a.identity.id, 'feed', feedEntries(a.identity.id, [short]))
    expect((await b.engine.findStatement(hash)).status).toBe('accepted')
    await expect(b.engine.confirmStatement(hash)).rejects.toThrow(/no recorded payment/)
    expect(await books(b)).toBe(afterAccept)
  })
})
