// The Dujiao-Next adapter's pure parts: what a child order row means to the node (decide, stranded),
// the mapping to an AdapterOrder, skus, the parent-status rule, and the config (example and errors).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DujiaoNextConfig } from '../../adapters/dujiao-next/config.js'
import { decide, stranded, toAdapterOrder } from '../../adapters/dujiao-next/orders.js'
import { type OrderRow, parentStatus } from '../../adapters/dujiao-next/schema.js'
import { parseSku } from '../../adapters/dujiao-next/stock.js'

const row = (over: Partial<OrderRow> = {}): OrderRow => ({
  id: '9',
  order_no: 'DJ20261205200000123456-01',
  status: 'paid',
  currency: 'CNY',
  total_amount: '1.98',
  deleted: false,
  updated: '2026-12-05T12:00:00.000000Z',
  paid_at_ms: '1796472000000',
  email: 'buyer@example.com',
  password: 'pw',
  product_id: '12',
  sku_id: '34',
  quantity: 2,
  item_type: 'auto',
  items: 1,
  fulfillment_type: null,
  payload: null,
  ...over,
})
const MAPPING = { minorDigits: 2, locale: 'zh-CN' as const, claimKey: 'k'.repeat(32) }

describe('Dujiao-Next orders', () => {
  it('stranded: a paid child with one automatic item and no fulfillment', () => {
    expect(stranded(row())).toBe(true)
    expect(stranded(row({ fulfillment_type: 'auto' }))).toBe(false)
    expect(stranded(row({ item_type: 'manual', status: 'fulfilling' }))).toBe(false)
    expect(stranded(row({ items: 0, product_id: null, sku_id: null, quantity: null, item_type: null }))).toBe(false) // a parent
    expect(stranded(row({ status: 'pending_payment' }))).toBe(false)
    expect(stranded(row({ deleted: true }))).toBe(false)
  })

  it('decide: escrow once; after escrow a fulfillment or delivered status is delivered, an end or a deletion cancelled', () => {
    expect(decide(row(), undefined).kind).toBe('escrow')
    expect(decide(row(), 'submitting').kind).toBe('escrow')
    expect(decide(row(), 'escrowed').kind).toBe('none')
    expect(decide(row({ status: 'completed', fulfillment_type: 'auto' }), 'escrowed').kind).toBe('delivered')
    expect(decide(row({ status: 'delivered', fulfillment_type: 'manual' }), 'escrowed').kind).toBe('delivered')
    for (const status of ['canceled', 'refunded', 'pending_payment']) expect(decide(row({ status }), 'escrowed')).toMatchObject({ kind: 'cancelled' })
    expect(decide(row({ deleted: true }), 'escrowed')).toMatchObject({ kind: 'cancelled', reason: 'order deleted in Dujiao-Next' })
    expect(decide(row({ status: 'completed', fulfillment_type: 'auto' }), undefined).kind).toBe('none')
    for (const state of ['written-back', 'delivered', 'cancelled', 'invalid'] as const)
      expect(decide(row({ status: 'delivered', fulfillment_type: 'manual' }), state).kind).toBe('none')
  })

  it('maps product:sku → sku, quantity → qty, total_amount → minor units in the order currency; no password derives the claim secret', () => {
    const mapped = toAdapterOrder(row(), 1_000, MAPPING)
    expect(mapped).toMatchObject({
      ok: true,
      order: { order: row().order_no, sku: '12:34', qty: 2, amount: { minorUnits: 198, currency: 'CNY' }, claimSecret: 'pw', paidAt: 1_000 },
    })
    const guest = toAdapterOrder(row({ email: null, password: null }), 1_000, MAPPING)
    expect(guest.ok && guest.order.buyer.email).toBeNull()
    expect(guest.ok && guest.order.claimSecret).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(guest.ok && guest.notes).toHaveLength(2)
    expect(toAdapterOrder(row({ total_amount: '1.999' }), 1_000, MAPPING)).toMatchObject({ ok: false, reason: expect.stringMatching(/^total_amount/) })
    expect(toAdapterOrder(row({ currency: 'yuan' }), 1_000, MAPPING)).toMatchObject({ ok: false, reason: expect.stringMatching(/currency/) })
  })

  it('skus are "<product_id>:<sku_id>"; anything else is an unknown sku', () => {
    expect(parseSku('12:34')).toEqual({ productId: '12', skuId: '34' })
    expect(parseSku('12:0')).toEqual({ productId: '12', skuId: '0' })
    for (const bad of ['12', '0:1', '12:', 'a:1', "1:1'; DROP"]) expect(() => parseSku(bad)).toThrow(/not a Dujiao-Next sku/)
  })

  it("the parent's status follows Dujiao-Next's rule, in its order", () => {
    expect(parentStatus(['canceled', 'canceled'])).toBe('canceled')
    expect(parentStatus(['refunded', 'refunded'])).toBe('refunded')
    expect(parentStatus(['refunded', 'completed'])).toBe('partially_refunded')
    expect(parentStatus(['completed', 'completed'])).toBe('completed')
    expect(parentStatus(['delivered', 'completed'])).toBe('delivered')
    expect(parentStatus(['delivered', 'paid'])).toBe('partially_delivered')
    expect(parentStatus(['fulfilling', 'paid'])).toBe('fulfilling')
    expect(parentStatus(['paid', 'pending_payment'])).toBe('paid')
    expect(parentStatus(['pending_payment'])).toBe('pending_payment')
    expect(parentStatus([])).toBeNull()
  })

  it('the example config is valid (port 5432 by default); bad fields are named', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/dujiao-next/dujiao-next.json', import.meta.url), 'utf8')) as Record<string, unknown>
    expect(DujiaoNextConfig.parse(example)).toMatchObject({ db: { port: 5432, database: 'dujiao' }, money: { minorDigits: 2 }, callback: { port: 9300 } })
    const { port: _port, ...db } = example.db as Record<string, unknown>
    expect(DujiaoNextConfig.parse({ ...example, db }).db).toMatchObject({ driver: 'postgres', port: 5432 })
    const bad = DujiaoNextConfig.safeParse({ ...example, money: { currency: 'CNY', minorDigits: 2 }, db: { ...db, database: 'a b' } })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['db.database', 'money'])
    const onSqlite = JSON.parse(readFileSync(new URL('../../examples/dujiao-next/dujiao-next-sqlite.json', import.meta.url), 'utf8')) as unknown
    expect(DujiaoNextConfig.parse(onSqlite).db).toEqual({ driver: 'sqlite', path: '/opt/dujiao-next/db/dujiao.db', busyTimeoutMs: 5_000 })
  })
})
