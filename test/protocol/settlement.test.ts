import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addMoney, allocate, feeFor, formatMinorUnits, type LedgerLine, netBetween, totalsByCurrency } from '../../protocol/index.js'
import { alice, bob, carol, cny } from './fixtures.js'

const A = alice.identity.id
const B = bob.identity.id
const C = carol.identity.id

describe('settlement arithmetic', () => {
  it('computes basis-point fees rounded half up, plus the fixed part', () => {
    expect(feeFor(cny(10_000), { bps: 250, fixed: cny(10) })).toEqual({ ok: true, value: cny(260) })
    expect(feeFor(cny(1), { bps: 5_000, fixed: cny(0) })).toEqual({ ok: true, value: cny(1) }) // 0.5 → 1
    expect(feeFor(cny(1), { bps: 4_999, fixed: cny(0) })).toEqual({ ok: true, value: cny(0) })
    expect(feeFor({ minorUnits: 100, currency: 'USD' }, { bps: 1, fixed: cny(0) })).toMatchObject({ ok: false, error: { code: 'terms' } })
  })

  it('fees are exact for every amount up to the safe range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 2) }), fc.integer({ min: 0, max: 10_000 }), (amount, bps) => {
        const fee = feeFor(cny(amount), { bps, fixed: cny(0) })
        expect(fee.ok).toBe(true)
        if (!fee.ok) return
        const exact = (BigInt(amount) * BigInt(bps) * 2n + 10_000n) / 20_000n
        expect(BigInt(fee.value.minorUnits)).toBe(exact)
        expect(fee.value.minorUnits).toBeLessThanOrEqual(amount)
      }),
    )
  })

  it('allocation never loses or invents a minor unit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 20 }), (total, weights) => {
        const parts = allocate(total, weights)
        expect(parts.reduce((s, p) => s + p, 0)).toBe(total)
        expect(parts.every((p) => Number.isSafeInteger(p) && p >= 0)).toBe(true)
      }),
    )
  })

  it('nets mirror between the two sides of a pair and sum exactly', () => {
    const line = fc.record({
      debtor: fc.constantFrom(A, B, C),
      creditor: fc.constantFrom(A, B, C),
      minor: fc.integer({ min: 0, max: 1e9 }),
      currency: fc.constantFrom('CNY', 'USD'),
    })
    fc.assert(
      fc.property(fc.array(line, { maxLength: 200 }), (raw) => {
        const lines: LedgerLine[] = raw.map((l, i) => ({
          receipt: 'r'.repeat(42) + (i % 10),
          kind: 'fee',
          origin: l.debtor,
          order: `o-${i}`,
          debtor: l.debtor,
          creditor: l.creditor,
          amount: { minorUnits: l.minor, currency: l.currency },
          time: i,
          terms: 't'.repeat(43),
        }))
        const ab = netBetween(lines, A, B)
        const ba = netBetween(lines, B, A)
        expect(ab.ok && ba.ok).toBe(true)
        if (!ab.ok || !ba.ok) return
        for (const currency of ['CNY', 'USD']) expect((ab.value.get(currency) ?? 0) + (ba.value.get(currency) ?? 0)).toBe(0)
        const totals = totalsByCurrency(lines.map((l) => l.amount))
        const expected = new Map<string, number>()
        for (const l of lines) expected.set(l.amount.currency, (expected.get(l.amount.currency) ?? 0) + l.amount.minorUnits)
        expect(totals.ok && totals.value).toEqual(expected)
      }),
    )
  })

  it('refuses to add across currencies or beyond the safe range', () => {
    expect(addMoney(cny(1), { minorUnits: 1, currency: 'USD' }).ok).toBe(false)
    expect(addMoney(cny(Number.MAX_SAFE_INTEGER), cny(1)).ok).toBe(false)
    expect(addMoney(cny(2), cny(3))).toEqual({ ok: true, value: cny(5) })
  })

  it('formats minor units as decimals without floating point', () => {
    expect(formatMinorUnits(12345)).toBe('123.45')
    expect(formatMinorUnits(5)).toBe('0.05')
    expect(formatMinorUnits(-5)).toBe('-0.05')
    expect(formatMinorUnits(7, 0)).toBe('7')
    expect(formatMinorUnits(Number.MAX_SAFE_INTEGER)).toBe('90071992547409.91')
  })
})
