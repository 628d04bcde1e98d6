// Settlement arithmetic (docs/design.md §7): integer minor units only, bigint in between so no
// intermediate product can round, and every result checked back into the safe-integer range.
import { fail, ok, type Result } from './errors.js'
import type { Fee } from './schemas/agreement.js'
import type { LedgerLine } from './schemas/ledger.js'
import type { Receipt } from './schemas/records.js'
import type { Money, ShopId } from './schemas/primitives.js'

const MAX = BigInt(Number.MAX_SAFE_INTEGER)

function toSafe(value: bigint, what: string): Result<number> {
  if (value > MAX || value < -MAX) return fail('invalid', `${what} exceeds the safe integer range`)
  return ok(Number(value))
}

export function addMoney(a: Money, b: Money): Result<Money> {
  if (a.currency !== b.currency) return fail('invalid', `cannot add ${a.currency} to ${b.currency}`)
  const sum = toSafe(BigInt(a.minorUnits) + BigInt(b.minorUnits), 'sum')
  if (!sum.ok) return sum
  return ok({ minorUnits: sum.value, currency: a.currency })
}

/** bps of `amount`, rounded half up to a minor unit, plus the fixed fee. */
export function feeFor(amount: Money, fee: Fee): Result<Money> {
  if (fee.fixed.currency !== amount.currency) return fail('terms', `fee is in ${fee.fixed.currency}, the order in ${amount.currency}`)
  const proportional = (BigInt(amount.minorUnits) * BigInt(fee.bps) + 5_000n) / 10_000n
  const total = toSafe(proportional + BigInt(fee.fixed.minorUnits), 'fee')
  if (!total.ok) return total
  return ok({ minorUnits: total.value, currency: amount.currency })
}

/**
 * Splits `total` in proportion to `weights` by largest remainder: the parts always add up to the
 * total exactly (ties go to the earlier weight).
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  if (weights.length === 0) return []
  const sum = weights.reduce((s, w) => s + BigInt(w), 0n)
  if (sum === 0n) return weights.map((_, i) => (i === 0 ? total : 0))
  const t = BigInt(total)
  const parts = weights.map((w) => (t * BigInt(w)) / sum)
  const remainders = weights.map((w, i) => ({ i, r: (t * BigInt(w)) % sum }))
  let left = t - parts.reduce((s, p) => s + p, 0n)
  remainders.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1))
  for (const { i } of remainders) {
    if (left === 0n) break
    parts[i] = (parts[i] as bigint) + 1n
    left -= 1n
  }
  return parts.map(Number)
}

/** Net per currency between `a` and `b` over ledger lines: positive means b owes a. */
export function netBetween(lines: readonly LedgerLine[], a: ShopId, b: ShopId): Result<Map<string, number>> {
  const net = new Map<string, bigint>()
  for (const line of lines) {
    let sign = 0n
    if (line.creditor === a && line.debtor === b) sign = 1n
    else if (line.creditor === b && line.debtor === a) sign = -1n
    if (sign === 0n) continue
    const c = line.amount.currency
    net.set(c, (net.get(c) ?? 0n) + sign * BigInt(line.amount.minorUnits))
  }
  const out = new Map<string, number>()
  for (const [currency, value] of net) {
    const safe = toSafe(value, `net ${currency}`)
    if (!safe.ok) return safe
    out.set(currency, safe.value)
  }
  return ok(out)
}

/** Sum of amounts per currency, exact. */
export function totalsByCurrency(amounts: readonly Money[]): Result<Map<string, number>> {
  const sums = new Map<string, bigint>()
  for (const m of amounts) sums.set(m.currency, (sums.get(m.currency) ?? 0n) + BigInt(m.minorUnits))
  const out = new Map<string, number>()
  for (const [currency, value] of sums) {
    const safe = toSafe(value, `total ${currency}`)
    if (!safe.ok) return safe
    out.set(currency, safe.value)
  }
  return ok(out)
}

/** Minor units as a decimal string for exports ("12345" CNY, 2 digits → "123.45"). */
export function formatMinorUnits(minorUnits: number, digits = 2): string {
  const negative = minorUnits < 0
  const text = Math.abs(minorUnits)
    .toString()
    .padStart(digits + 1, '0')
  const body = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`
  return negative ? `-${body}` : body
}

/**
 * The fee line a receipt creates, computed the same way by both parties from the receipt and the
 * terms it names, so their books mirror: the origin owes the fulfiller the fee.
 */
export function feeLineFor(receipt: Receipt, receiptHash: string, fulfiller: ShopId, fee: Fee): Result<LedgerLine> {
  const amount = feeFor(receipt.amount, fee)
  if (!amount.ok) return amount
  return ok({
    receipt: receiptHash,
    kind: 'fee',
    origin: receipt.origin,
    order: receipt.order,
    debtor: receipt.origin,
    creditor: fulfiller,
    amount: amount.value,
    time: receipt.time,
    terms: receipt.terms,
  })
}
