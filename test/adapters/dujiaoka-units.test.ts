// The dujiaoka adapter's pure parts, without a database: money, what the bridge tells the node for
// each order status, the mapping of a row to an AdapterOrder, and the config defaults. The
// database behaviour is tested against real MariaDB in test/containers/dujiaoka.test.ts.
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DujiaokaConfig } from '../../adapters/dujiaoka/config.js'
import { sessionSettings } from '../../adapters/mysql/db.js'
import { decimalToMinorUnits } from '../../adapters/shop-db/money.js'
import { claimSecretOf, decide, toAdapterOrder } from '../../adapters/dujiaoka/orders.js'
import { dbTimeMs, dbTimeText, type OrderRow } from '../../adapters/dujiaoka/schema.js'
import { LIMITS } from '../../protocol/index.js'

const row = (over: Partial<OrderRow> = {}): OrderRow => ({
  id: '7',
  order_sn: 'ABCDEFGH12345678',
  goods_id: '3',
  type: 1,
  email: 'buyer@example.com',
  actual_price: '12.50',
  buy_amount: 2,
  status: 6,
  search_pwd: 'pw',
  info: null,
  updated_at: '2026-11-21 10:00:00',
  deleted_at: null,
  ...over,
})

const MAPPING = { money: { currency: 'CNY', minorDigits: 2 }, locale: 'zh-CN' as const, claimKey: 'k'.repeat(32) }

describe('decimalToMinorUnits', () => {
  it.each([
    ['12.50', 2, 1250],
    ['12.5', 2, 1250],
    ['0.01', 2, 1],
    ['0', 2, 0],
    ['100', 2, 10_000],
    ['19.990000', 2, 1999],
    ['1234', 0, 1234],
    ['1.2345', 4, 12_345],
    [' 7.00 ', 2, 700],
  ])('%s with %d digits → %d', (text, digits, minor) => {
    expect(decimalToMinorUnits(text, digits)).toBe(minor)
  })

  it.each(['-1.00', '1e3', '', '1.2.3', 'abc', '0.001'])('refuses %j', (text) => {
    expect(() => decimalToMinorUnits(text, 2)).toThrow()
  })

  it('refuses amounts beyond the protocol ceiling', () => {
    expect(() => decimalToMinorUnits('99999999999999999.99', 2)).toThrow(/larger than/)
  })

  it('is exact where floats are not: every cent amount round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Math.floor(LIMITS.maxMinorUnits / 1000) }), (cents) => {
        const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`
        expect(decimalToMinorUnits(text, 2)).toBe(cents)
      }),
    )
  })
})

describe('decide', () => {
  it.each([
    [6, undefined, 'escrow'],
    [2, undefined, 'escrow'],
    [3, undefined, 'escrow'],
    [6, 'submitting', 'escrow'],
    [6, 'escrowed', 'none'],
    [1, undefined, 'none'],
    [4, undefined, 'none'],
    [5, undefined, 'none'],
    [4, 'escrowed', 'delivered'],
    [4, 'submitting', 'delivered'],
    [5, 'escrowed', 'cancelled'],
    [-1, 'escrowed', 'cancelled'],
    [1, 'escrowed', 'cancelled'],
    [4, 'written-back', 'none'],
    [4, 'delivered', 'none'],
    [6, 'invalid', 'none'],
    [6, 'conflict', 'none'],
  ] as const)('status %d after %s → %s', (status, state, kind) => {
    expect(decide(row({ status }), state).kind).toBe(kind)
  })

  it('an order of manual goods is never escrowed (its info is the buyer input); one escrowed before still gets its tombstone', () => {
    for (const status of [2, 3, 6]) expect(decide(row({ type: 2, status }), undefined).kind).toBe('none')
    expect(decide(row({ type: 2, status: 4 }), 'escrowed').kind).toBe('delivered')
    expect(decide(row({ type: 2, status: 5 }), 'escrowed').kind).toBe('cancelled')
  })

  it('a deleted order: cancelled if the node knows it, else nothing', () => {
    expect(decide(row({ deleted_at: '2026-11-21 11:00:00' }), 'escrowed')).toEqual({ kind: 'cancelled', reason: 'order deleted in dujiaoka' })
    expect(decide(row({ deleted_at: '2026-11-21 11:00:00' }), undefined).kind).toBe('none')
  })
})

describe('toAdapterOrder', () => {
  it('maps goods id → sku, buy_amount → qty, actual_price → minor units, search_pwd → claim secret', () => {
    expect(toAdapterOrder(row(), 1_790_000_000_000, MAPPING)).toEqual({
      ok: true,
      notes: [],
      order: {
        order: 'ABCDEFGH12345678',
        sku: '3',
        qty: 2,
        amount: { minorUnits: 1250, currency: 'CNY' },
        paidAt: 1_790_000_000_000,
        buyer: { email: 'buyer@example.com', locale: 'zh-CN' },
        claimSecret: 'pw',
      },
    })
  })

  it('an invalid email becomes null with a note; an empty password a derived secret with a note', () => {
    const mapped = toAdapterOrder(row({ email: 'nope', search_pwd: '' }), 1, MAPPING)
    expect(mapped.ok && mapped.order.buyer.email).toBe(null)
    expect(mapped.ok && mapped.notes).toHaveLength(2)
    expect(mapped.ok && mapped.order.claimSecret).toBe(claimSecretOf(row({ search_pwd: '' }), MAPPING.claimKey).secret)
  })

  it('the derived secret is stable per order and differs between orders', () => {
    const a = claimSecretOf(row({ search_pwd: null }), 'key-one-0123456789')
    expect(a).toEqual(claimSecretOf(row({ search_pwd: '  ' }), 'key-one-0123456789'))
    expect(a.derived).toBe(true)
    expect(claimSecretOf(row({ search_pwd: null, order_sn: 'OTHER' }), 'key-one-0123456789').secret).not.toBe(a.secret)
  })

  it.each([
    [{ actual_price: 'free' }, /actual_price/],
    [{ buy_amount: 0 }, /qty/],
    [{ order_sn: 'has space' }, /order/],
  ])('refuses %j', (over, reason) => {
    const mapped = toAdapterOrder(row(over), 1, MAPPING)
    expect(mapped.ok).toBe(false)
    expect(!mapped.ok && mapped.reason).toMatch(reason)
  })
})

describe('times and config', () => {
  it('reads TIMESTAMP text of a UTC session as an instant and back', () => {
    expect(dbTimeMs('1970-01-01 00:00:01')).toBe(1_000)
    expect(dbTimeText(dbTimeMs('2026-11-21 10:00:00') - 60_000)).toBe('2026-11-21 09:59:00')
    expect(dbTimeMs('2026-11-21 10:00:00.250')).toBe(Date.UTC(2026, 10, 21, 10, 0, 0, 250))
  })

  it('the example config (examples/dujiaoka/dujiaoka.json) is valid', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/dujiaoka/dujiaoka.json', import.meta.url), 'utf8')) as unknown
    expect(DujiaokaConfig.parse(example)).toMatchObject({ callback: { port: 9300 }, node: { credentialsFile: 'shop/adapter.json' } })
  })

  it('fills defaults and names bad fields', () => {
    const config = DujiaokaConfig.parse({
      version: 1,
      shopUrl: 'http://127.0.0.1/',
      db: { user: 'standin', database: 'dujiaoka' },
      node: null,
      callback: { port: 9300 },
    })
    expect(config).toMatchObject({
      money: { currency: 'CNY', minorDigits: 2 },
      bridge: { batchSize: 500, overlapSeconds: 60 },
      health: { downAfterFailures: 3 },
      consign: { settleMs: 250 },
      buyerLocale: 'zh-CN',
    })
    expect(DujiaokaConfig.safeParse({ ...config, consign: { settleMs: 10, settleTimeoutMs: 1_000 } }).success).toBe(false)
    expect(DujiaokaConfig.safeParse({ ...config, db: { ...config.db, database: 'x; DROP' } }).success).toBe(false)
  })

  it('bounds every statement: lock waits in whole seconds on both servers, max_statement_time on MariaDB only', () => {
    const config = DujiaokaConfig.parse({
      version: 1,
      shopUrl: 'http://127.0.0.1/',
      db: { user: 'standin', database: 'dujiaoka' },
      node: null,
      callback: { port: 9300 },
    })
    expect(config.db.statementTimeoutMs).toBe(10_000)
    expect(sessionSettings(2_500)).toBe(
      "SET time_zone = '+00:00', innodb_lock_wait_timeout = 3, lock_wait_timeout = 3 /*M!100108 , max_statement_time = 2.5 */",
    )
    const tooShort = DujiaokaConfig.safeParse({ ...config, db: { ...config.db, statementTimeoutMs: 500 } })
    expect(tooShort.success ? [] : tooShort.error.issues.map((i) => i.path.join('.'))).toEqual(['db.statementTimeoutMs'])
    expect(() => sessionSettings(1_000.5)).toThrow(/statementTimeoutMs/)
  })
})
