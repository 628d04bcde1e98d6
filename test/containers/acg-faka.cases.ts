// acg-faka beyond the conformance suite: what is escrowed (the apology-text stock-out only, with a
// non-default table prefix and China wall-clock pay times), consignments racing SERIALIZABLE sales
// (one held between its read and its write; a loaded run), a card pasted by hand, and the start-up
// schema check. Run from acg-faka.test.ts.
import type { RowDataPacket } from 'mysql2'
import { describe, expect, it } from 'vitest'
import { createAcgFakaAdapter } from '../../adapters/acg-faka/adapter.js'
import type { AdapterOrder } from '../../protocol/index.js'
import { acgRig, type AcgRig, EMPTY, MANUAL, STOCK } from './acg-faka-rig.js'
import type { MariaDb } from './mariadb.js'

async function rows(rig: AcgRig, sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [result] = await rig.pool.query<RowDataPacket[]>(sql, params)
  return result
}

/** Every card of `commodity` is in exactly one place: on sale, sold by acg-faka, or consigned. */
async function checkCards(rig: AcgRig, commodity: number, prefix = 'acg_'): Promise<void> {
  const inTable = await rows(rig, `SELECT id, status, order_id FROM \`${prefix}card\` WHERE commodity_id = ?`, [commodity])
  const consigned = new Set((await rows(rig, "SELECT card_id FROM standin_cards WHERE state = 'consigned'")).map((r) => String(r.card_id)))
  const shadow = new Set((await rows(rig, 'SELECT id FROM standin_card_rows')).map((r) => String(r.id)))
  expect(shadow).toEqual(consigned)
  for (const card of inTable) {
    expect(consigned.has(String(card.id)), `card ${card.id} both in acg-faka's table and consigned`).toBe(false)
    if (Number(card.status) === 1) expect(card.order_id, `sold card ${card.id} without an order`).not.toBeNull()
  }
  expect(inTable.length + consigned.size).toBe(40)
}

export function describeAcgCases(database: () => MariaDb): void {
  describe('acg-faka', () => {
    it('escrows paid automatic orders that got the apology text, with amount, claim secret and the China-time pay time; never manual, served or unpaid ones (table prefix shop_)', async () => {
      const rig = await acgRig(database(), { prefix: 'shop_' })
      try {
        const short = await rig.shop.createOrder({ commodityId: EMPTY, qty: 3, contact: 'm@example.com', password: 'q-secret' })
        const noPassword = await rig.shop.createOrder({ commodityId: EMPTY, qty: 1, contact: '12345678', password: null })
        const manual = await rig.shop.createOrder({ commodityId: MANUAL, qty: 1, contact: 'top@example.com' })
        const served = await rig.shop.createOrder({ commodityId: STOCK, qty: 2, contact: 's@example.com' })
        const unpaid = await rig.shop.createOrder({ commodityId: EMPTY, qty: 1, contact: 'u@example.com' })
        const before = Date.now()
        for (const order of [short, noPassword, manual, served]) await rig.shop.pay(order)
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 2, invalid: 0 })
        expect([...rig.node.escrow.keys()].sort()).toEqual([short, noPassword].sort())
        const held = rig.node.escrow.get(short)?.order as AdapterOrder
        expect(held).toMatchObject({
          sku: String(EMPTY),
          qty: 3,
          amount: { minorUnits: 297, currency: 'CNY' },
          claimSecret: 'q-secret',
          buyer: { email: 'm@example.com' },
        })
        // pay_time is China wall-clock text (second precision): read in +08:00 it is now.
        expect(held.paidAt).toBeGreaterThanOrEqual(before - 1_000)
        expect(held.paidAt).toBeLessThanOrEqual(Date.now())
        expect(rig.node.escrow.get(noPassword)?.order.buyer.email).toBeNull()
        for (const order of [manual, served, unpaid]) expect(rig.node.escrow.has(order)).toBe(false)
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 0 })
        expect(rig.node.duplicateSubmissions).toEqual([])
      } finally {
        await rig.stop()
      }
    })

    it('a consignment waits for a sale that read the cards (SERIALIZABLE) and never takes what it sold; a loaded run keeps every card in one place', async () => {
      const rig = await acgRig(database())
      try {
        // A sale holds between reading its two cards and writing anything.
        const order = await rig.shop.createOrder({ commodityId: STOCK, qty: 2, contact: 'held@example.com' })
        let release!: () => void
        const held = new Promise<void>((resolve) => (release = resolve))
        let reached = false
        const sale = rig.shop.pay(order, {
          afterRead: async () => {
            reached = true
            await held
          },
        })
        while (!reached) await new Promise((resolve) => setTimeout(resolve, 10))
        let done = false
        const take = rig.adapter.takeStock(String(STOCK), 40).then((keys) => ((done = true), keys))
        await new Promise((resolve) => setTimeout(resolve, 300))
        expect(done).toBe(false) // waiting on the sale's locks
        release()
        await sale
        const taken = await take
        const sold = (await rig.shop.order(order))?.cards ?? []
        expect(sold).toHaveLength(2)
        expect(taken.map((k) => k.keyId).filter((id) => sold.includes(id))).toEqual([])
        expect(taken).toHaveLength(38)
        await checkCards(rig, STOCK)
        await rig.adapter.returnStock(String(STOCK), taken)

        // Loaded: sales and consignments at once (returned cards are never consigned again, so new ones are added first).
        await rig.pool.query(`INSERT INTO acg_card (commodity_id, secret, create_time) SELECT 1, CONCAT('LOAD-', seq), NOW() FROM seq_1_to_60`)
        const sales = Array.from({ length: 16 }, async (_, i) => {
          const o = await rig.shop.createOrder({ commodityId: STOCK, qty: (i % 3) + 1, contact: `l${i}@example.com` })
          await rig.shop.pay(o)
          return o
        })
        const takes = Array.from({ length: 4 }, () => rig.adapter.takeStock(String(STOCK), 8).catch(() => []))
        const [loadTaken, loadOrders] = await Promise.all([Promise.all(takes), Promise.all(sales)])
        const takenIds = new Set(loadTaken.flat().map((k) => k.keyId))
        for (const o of loadOrders)
          for (const id of (await rig.shop.order(o))?.cards ?? []) expect(takenIds.has(id), `card ${id} sold and consigned`).toBe(false)
        const inTable = Number((await rows(rig, 'SELECT COUNT(*) AS n FROM acg_card WHERE commodity_id = 1'))[0]?.n)
        expect(inTable + takenIds.size).toBe(100)
      } finally {
        await rig.stop()
      }
    })

    it('a card pasted by hand stays unsold in acg-faka: it is never consigned and the operator is told', async () => {
      const rig = await acgRig(database())
      try {
        const order = await rig.shop.createOrder({ commodityId: EMPTY, qty: 1, contact: 'hand@example.com', password: 'pw' })
        await rig.shop.pay(order)
        await rig.bridge.pollOnce()
        const [pasted] = await rig.shop.deliverByHand(order, STOCK)
        expect(await rig.bridge.pollOnce()).toMatchObject({ delivered: 1 })
        expect(rig.node.escrow.get(order)?.state).toBe('delivered')
        expect(rig.logger.lines.filter((l) => /delivered by hand is still unsold/.test(l.message)).map((l) => l.fields.cardIds)).toEqual([[pasted]])
        const taken = await rig.adapter.takeStock(String(STOCK), 100)
        expect(taken.map((k) => k.keyId)).not.toContain(pasted)
        expect(taken).toHaveLength(39)
      } finally {
        await rig.stop()
      }
    })

    it('refuses to start, naming each missing column, on a database without one it needs', async () => {
      const rig = await acgRig(database())
      try {
        await rig.pool.query('ALTER TABLE acg_order DROP COLUMN card_num')
        await rig.pool.query('ALTER TABLE acg_commodity DROP COLUMN delivery_way')
        const refused = createAcgFakaAdapter({ pool: rig.pool, logger: rig.logger, tablePrefix: 'acg_' })
        await expect(refused).rejects.toThrow(/acg_order\.card_num \(the quantity\)/)
        await expect(refused).rejects.toThrow(/acg_commodity\.delivery_way/)
        // The wrong table prefix: every column is missing, and the message says where to look.
        await expect(createAcgFakaAdapter({ pool: rig.pool, logger: rig.logger, tablePrefix: 'faka_' })).rejects.toThrow(/faka_order\.trade_no.*tablePrefix/)
      } finally {
        await rig.stop()
      }
    })
  })
}
