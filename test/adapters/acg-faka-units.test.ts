// The acg-faka adapter's pure parts: what an order row means to the node (decide, stranded), the
// mapping to an AdapterOrder, acg-faka's wall-clock times, and the config (example and errors).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { AcgFakaConfig } from '../../adapters/acg-faka/config.js'
import { decide, stranded, toAdapterOrder } from '../../adapters/acg-faka/orders.js'
import { sha256Hex as sha256 } from '../../adapters/mysql/hand-delivered.js'
import { APOLOGY_TEXT, type OrderRow, tablesOf, wallClockMs, wallClockText } from '../../adapters/acg-faka/schema.js'

const row = (over: Partial<OrderRow> = {}): OrderRow => ({
  id: '9',
  trade_no: '1764806400000000001',
  commodity_id: '2',
  card_num: 2,
  amount: '1.98',
  status: 1,
  delivery_status: 1,
  secret: APOLOGY_TEXT,
  password: 'pw',
  contact: 'buyer@example.com',
  pay_time: '2026-12-05 20:00:00',
  delivery_way: 0,
  cards: 0,
  ...over,
})
const MAPPING = { money: { currency: 'CNY', minorDigits: 2 }, locale: 'zh-CN' as const, claimKey: 'k'.repeat(32) }

describe('acg-faka orders', () => {
  it('stranded: paid, automatic, short of cards, with the apology text or nothing', () => {
    expect(stranded(row())).toBe(true)
    expect(stranded(row({ secret: null, delivery_status: 0 }))).toBe(true)
    expect(stranded(row({ cards: 2, secret: 'K1\nK2' }))).toBe(false)
    expect(stranded(row({ delivery_way: 1, secret: '正在发货中' }))).toBe(false)
    expect(stranded(row({ delivery_way: null }))).toBe(false)
    expect(stranded(row({ status: 0 }))).toBe(false)
    expect(stranded(row({ secret: 'PASTED-BY-HAND' }))).toBe(false)
  })

  it('decide: escrow once; tombstones after escrow for cards, a new text, a deletion back to unpaid', () => {
    const escrowed = { state: 'escrowed' as const, secretSha: sha256(APOLOGY_TEXT) }
    expect(decide(row(), undefined).kind).toBe('escrow')
    expect(decide(row(), { state: 'submitting', secretSha: null }).kind).toBe('escrow')
    expect(decide(row(), escrowed).kind).toBe('none')
    expect(decide(row({ cards: 2 }), escrowed).kind).toBe('delivered')
    expect(decide(row({ secret: 'PASTED' }), escrowed).kind).toBe('delivered')
    expect(decide(row({ status: 0 }), escrowed)).toMatchObject({ kind: 'cancelled' })
    expect(decide(row({ secret: 'PASTED' }), undefined).kind).toBe('none')
    for (const state of ['written-back', 'delivered', 'cancelled', 'invalid'] as const)
      expect(decide(row({ cards: 2 }), { state, secretSha: null }).kind).toBe('none')
  })

  it('maps commodity → sku, card_num → qty, amount → minor units; a contact that is not an email leaves the claim page', () => {
    const mapped = toAdapterOrder(row(), 1_000, MAPPING)
    expect(mapped).toMatchObject({
      ok: true,
      order: { sku: '2', qty: 2, amount: { minorUnits: 198, currency: 'CNY' }, claimSecret: 'pw', buyer: { email: 'buyer@example.com' } },
    })
    const qq = toAdapterOrder(row({ contact: '123456789', password: null }), 1_000, MAPPING)
    expect(qq.ok && qq.order.buyer.email).toBeNull()
    expect(qq.ok && qq.notes).toHaveLength(2)
    expect(toAdapterOrder(row({ amount: '1.999' }), 1_000, MAPPING)).toMatchObject({ ok: false, reason: expect.stringMatching(/^amount/) })
  })

  it('reads wall-clock text in the shop zone and writes it back', () => {
    expect(wallClockMs('2026-12-05 20:00:00', '+08:00')).toBe(Date.parse('2026-12-05T12:00:00Z'))
    expect(wallClockText(Date.parse('2026-12-05T12:00:00Z'), '+08:00')).toBe('2026-12-05 20:00:00')
    expect(wallClockText(Date.parse('2026-12-05T12:00:00Z'), '-03:30')).toBe('2026-12-05 08:30:00')
  })

  it('table names carry the prefix; a prefix that is not a plain name is refused', () => {
    expect(tablesOf('shop_')).toEqual({ order: 'shop_order', card: 'shop_card', commodity: 'shop_commodity' })
    expect(() => tablesOf('x`; DROP')).toThrow(/tablePrefix/)
  })

  it('the example config is valid; bad fields are named', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/acg-faka/acg-faka.json', import.meta.url), 'utf8')) as unknown
    expect(AcgFakaConfig.parse(example)).toMatchObject({ tablePrefix: 'acg_', shopTimeZone: '+08:00', callback: { port: 9300 } })
    const bad = AcgFakaConfig.safeParse({ ...(example as object), tablePrefix: 'a-b', shopTimeZone: 'PRC' })
    expect(bad.success).toBe(false)
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['shopTimeZone', 'tablePrefix'])
  })
})
