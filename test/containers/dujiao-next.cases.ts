// Dujiao-Next beyond the conformance suite: what is escrowed (paid child orders with an automatic
// item and no fulfillment; a member's email from users), consignments racing checkouts (one held
// between its locking read and its reservation; a loaded run), a write-back's effect on the parent
// order and the order's reserved keys, a key pasted by hand, off-sale and manual products, and the
// start-up schema check. Run from dujiao-next.test.ts.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createDujiaoNextAdapter } from '../../adapters/dujiao-next/adapter.js'
import type { AdapterOrder } from '../../protocol/index.js'
import { partnerDelivery } from '../adapters/conformance.js'
import { NODE_SECRET, recordingLogger } from '../adapters/helpers.js'
import { PgDbConfig } from '../../adapters/dujiao-next/config.js'
import { createPgPool, pgDatabase } from '../../adapters/postgres/db.js'
import { readFenced } from '../../adapters/shop-db/sql-fence.js'
import { startFakeNode } from '../adapters/fake-node.js'
import { checkKeys, dujiaoNextRig, type DujiaoNextRig, installShop, MANUAL, OFF_SALE, openBridge, poolFor, STOCK, WAITING } from './dujiao-next-rig.js'
import type { Postgres } from './postgres.js'

async function rows(rig: DujiaoNextRig, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  return (await rig.pool.query(sql, params)).rows
}

export function describeDujiaoNextCases(database: () => Postgres): void {
  describe('Dujiao-Next', () => {
    it('escrows paid child orders with an automatic item and no fulfillment, with amount, currency, claim secret and paid time; never parents, manual, served or unpaid ones', async () => {
      const rig = await dujiaoNextRig(database())
      try {
        const before = Date.now()
        const waiting = await rig.shop.createOrder({ productId: WAITING, qty: 3, email: 'm@example.com', password: 'q-secret' })
        const noPassword = await rig.shop.createOrder({ productId: WAITING, qty: 1, email: null, password: null })
        const manual = await rig.shop.createOrder({ productId: MANUAL, qty: 1, email: 'top@example.com', password: 'x' })
        const unpaid = await rig.shop.createOrder({ productId: WAITING, qty: 1, email: 'u@example.com', password: 'y' })
        for (const order of [waiting, noPassword, manual]) await rig.shop.pay(order.parent)
        const served = await rig.shop.buy(STOCK, 2, 's@example.com')
        expect(served?.keys).toHaveLength(2)
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 2, invalid: 0 })
        expect([...rig.node.escrow.keys()].sort()).toEqual([waiting.child, noPassword.child].sort())
        const held = rig.node.escrow.get(waiting.child)?.order as AdapterOrder
        expect(held).toMatchObject({
          sku: rig.skuOf(WAITING),
          qty: 3,
          amount: { minorUnits: 297, currency: 'CNY' },
          claimSecret: 'q-secret',
          buyer: { email: 'm@example.com' },
        })
        expect(held.paidAt).toBeGreaterThanOrEqual(before - 1_000)
        expect(held.paidAt).toBeLessThanOrEqual(Date.now())
        expect(rig.node.escrow.get(noPassword.child)?.order.buyer.email).toBeNull()
        for (const order of [waiting.parent, manual.child, unpaid.child, served?.child as string]) expect(rig.node.escrow.has(order)).toBe(false)
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 0 })
        expect(rig.node.duplicateSubmissions).toEqual([])
      } finally {
        await rig.stop()
      }
    })

    it("a member's order carries the member's email from users", async () => {
      const rig = await dujiaoNextRig(database())
      try {
        const order = await rig.shop.createOrder({ productId: WAITING, qty: 1, email: null, password: null })
        const [user] = await rows(rig, "INSERT INTO users (email) VALUES ('member@example.com') RETURNING id")
        await rig.pool.query('UPDATE orders SET user_id = $1 WHERE order_no = ANY($2)', [user?.id, [order.parent, order.child]])
        await rig.shop.pay(order.parent)
        await rig.bridge.pollOnce()
        expect(rig.node.escrow.get(order.child)?.order.buyer.email).toBe('member@example.com')
      } finally {
        await rig.stop()
      }
    })

    it('a consignment never takes keys a checkout has locked; a loaded run keeps every key in one place', async () => {
      const rig = await dujiaoNextRig(database())
      try {
        // A checkout holds between its locking read of two keys and their reservation.
        let release!: () => void
        const held = new Promise<void>((resolve) => (release = resolve))
        let reached = false
        const checkout = rig.shop.createOrder(
          { productId: STOCK, qty: 2, email: 'held@example.com', password: 'p' },
          {
            afterRead: async () => {
              reached = true
              await held
            },
          },
        )
        while (!reached) await new Promise((resolve) => setTimeout(resolve, 10))
        const taken = await rig.adapter.takeStock(rig.skuOf(STOCK), 40)
        expect(taken).toHaveLength(38) // the two locked keys are skipped, nothing waits
        release()
        const order = await checkout
        await rig.shop.pay(order.parent)
        expect(await rig.shop.autoFulfil(order.child)).toBe('delivered')
        const sold = (await rig.shop.order(order.child))?.keyIds ?? []
        expect(sold).toHaveLength(2)
        expect(taken.filter((k) => sold.includes(k.keyId))).toEqual([])
        await checkKeys(rig.db, 40)

        // Loaded: recall everything, then 24 purchases and 6 consignments at once.
        await rig.adapter.returnStock(rig.skuOf(STOCK), taken)
        const fresh = await dujiaoNextRig(database())
        try {
          const buys = Array.from({ length: 24 }, (_, i) => fresh.shop.buy(STOCK, (i % 3) + 1).catch(() => null))
          const takes = Array.from({ length: 6 }, () => fresh.adapter.takeStock(fresh.skuOf(STOCK), 3))
          const [bought, consigned] = await Promise.all([Promise.all(buys), Promise.all(takes)])
          const boughtIds = bought.flatMap((b) => b?.keys.map((k) => k.keyId) ?? [])
          const consignedIds = consigned.flat().map((k) => k.keyId)
          expect(new Set([...boughtIds, ...consignedIds]).size).toBe(boughtIds.length + consignedIds.length)
          await checkKeys(fresh.db, 40)
        } finally {
          await fresh.stop()
        }
      } finally {
        await rig.stop()
      }
    })

    it("a write-back delivers the child, derives the parent's status, puts the order's reserved keys back on sale; cancelled and manual orders are refused", async () => {
      const rig = await dujiaoNextRig(database())
      try {
        const sellableBefore = (await rig.shop.sellableKeyIds(WAITING)).size
        const order = await rig.shop.createOrder({ productId: WAITING, qty: 2, email: 'w@example.com', password: 'p' })
        await rig.shop.pay(order.parent)
        expect((await rig.shop.sellableKeyIds(WAITING)).size).toBe(sellableBefore - 2)
        await rig.bridge.pollOnce()
        const keys = await rig.adapter.takeStock(rig.skuOf(STOCK), 2)
        await rig.adapter.writeBack(partnerDelivery(order.child, rig.skuOf(WAITING), keys))
        const child = await rig.shop.order(order.child)
        expect(child).toMatchObject({ status: 'delivered', fulfillment: { type: 'manual', status: 'delivered', payload: keys.map((k) => k.key).join('\n') } })
        expect(child?.keyIds).toEqual(keys.map((k) => k.keyId))
        expect((await rig.shop.order(order.parent))?.status).toBe('delivered')
        expect((await rig.shop.sellableKeyIds(WAITING)).size).toBe(sellableBefore)
        // Dujiao-Next's own delivery now finds the fulfillment and does nothing.
        expect(await rig.shop.autoFulfil(order.child)).toBe('not-paid')

        const cancelled = await rig.shop.createOrder({ productId: WAITING, qty: 1, email: 'c@example.com', password: 'p' })
        await rig.shop.pay(cancelled.parent)
        await rig.shop.cancel(cancelled.child)
        const manual = await rig.shop.createOrder({ productId: MANUAL, qty: 1, email: 'm@example.com', password: 'p' })
        await rig.shop.pay(manual.parent)
        const more = await rig.adapter.takeStock(rig.skuOf(STOCK), 2)
        await rig.adapter.writeBack(partnerDelivery(cancelled.child, rig.skuOf(WAITING), more.slice(0, 1)))
        await rig.adapter.writeBack(partnerDelivery(manual.child, rig.skuOf(MANUAL), more.slice(1)))
        const results = await rows(rig, 'SELECT order_no, result FROM standin_writebacks ORDER BY order_no')
        expect(Object.fromEntries(results.map((r) => [r.order_no, r.result]))).toMatchObject({ [cancelled.child]: 'conflict', [manual.child]: 'manual' })
        expect((await rig.shop.order(cancelled.child))?.fulfillment).toBeNull()
        expect((await rig.shop.order(manual.child))?.fulfillment).toBeNull()
        // The partner's keys are off sale for good, and the cancelled order's reservation was released by the shop.
        for (const key of more) expect((await rig.shop.sellableKeyIds(STOCK)).has(key.keyId)).toBe(false)
      } finally {
        await rig.stop()
      }
    })

    it('a key an admin pasted into a manual delivery is recorded, never consigned, and reported while still on sale', async () => {
      const rig = await dujiaoNextRig(database())
      try {
        const [pasted] = await rows(rig, 'SELECT id::text AS id, secret FROM card_secrets WHERE product_id = $1 ORDER BY id DESC LIMIT 1', [STOCK])
        const order = await rig.shop.createOrder({ productId: WAITING, qty: 1, email: 'h@example.com', password: 'p' })
        await rig.shop.pay(order.parent)
        await rig.bridge.pollOnce()
        await rig.shop.deliverManually(order.child, `${String(pasted?.secret)}\n`)
        await rig.bridge.pollOnce()
        expect(rig.node.escrow.get(order.child)?.state).toBe('delivered')
        expect(rig.logger.lines.some((l) => l.level === 'warn' && String(l.message).includes('delivered by hand is still unsold'))).toBe(true)
        const taken = await rig.adapter.takeStock(rig.skuOf(STOCK), 40)
        expect(taken).toHaveLength(39)
        expect(taken.map((k) => k.keyId)).not.toContain(pasted?.id)
      } finally {
        await rig.stop()
      }
    })

    it('an off-sale product is refused for consignment, a manual one gives nothing, an unknown sku is refused', async () => {
      const rig = await dujiaoNextRig(database())
      try {
        await expect(rig.adapter.takeStock(rig.skuOf(OFF_SALE), 1)).rejects.toMatchObject({ code: 'invalid' })
        expect(await rig.adapter.takeStock(rig.skuOf(MANUAL), 1)).toEqual([])
        await expect(rig.adapter.takeStock('99:0', 1)).rejects.toMatchObject({ code: 'unknown_sku' })
        await expect(rig.adapter.takeStock(`${STOCK}:999`, 1)).rejects.toMatchObject({ code: 'unknown_sku' })
        await expect(rig.adapter.takeStock('steam', 1)).rejects.toMatchObject({ code: 'unknown_sku' })
        expect((await rig.shop.sellableKeyIds(OFF_SALE)).size).toBe(5)
      } finally {
        await rig.stop()
      }
    })

    it('works with only the grants of examples/dujiao-next/grants.sql', async () => {
      const db = database()
      const { shop, database: name } = await installShop(db)
      // Run as the operator would, as an administrator of the shop's database (CREATE ROLE is cluster-wide: once per container).
      await shop.pool.query(readFileSync(new URL('../../examples/dujiao-next/grants.sql', import.meta.url), 'utf8'))
      const pool = createPgPool(PgDbConfig.parse({ host: db.host, port: db.port, user: 'standin_adapter', password: 'change-me', database: name }))
      const node = await startFakeNode(NODE_SECRET)
      try {
        const logger = recordingLogger()
        const adapter = await createDujiaoNextAdapter({ db: pgDatabase(pool), logger })
        const bridge = await openBridge(pgDatabase(pool), logger, node.url, node.url)
        const order = await shop.createOrder({ productId: WAITING, qty: 1, email: 'g@example.com', password: 'p' })
        await shop.pay(order.parent)
        expect(await bridge.pollOnce()).toMatchObject({ escrowed: 1 })
        const sku = `${STOCK}:${shop.skuIdOf(STOCK)}`
        const keys = await adapter.takeStock(sku, 3)
        expect(keys).toHaveLength(3)
        await adapter.returnStock(sku, keys.slice(2))
        await adapter.writeBack(partnerDelivery(order.child, `${WAITING}:${shop.skuIdOf(WAITING)}`, keys.slice(0, 1)))
        expect((await shop.order(order.child))?.status).toBe('delivered')
        await adapter.setFenced(true)
        expect(await readFenced(pool)).toBe(true)
        await bridge.close()
      } finally {
        await node.stop()
        await pool.end()
        await shop.end()
      }
    })

    it('refuses to start, naming each missing column, on a schema that lacks columns it needs', async () => {
      const db = database()
      const { shop, database: name } = await installShop(db)
      const pool = poolFor(db, name)
      try {
        await shop.pool.query('ALTER TABLE card_secrets DROP COLUMN reserved_at')
        await shop.pool.query('ALTER TABLE orders DROP COLUMN guest_password')
        const logger = recordingLogger()
        const refused = createDujiaoNextAdapter({ db: pgDatabase(pool), logger })
        await expect(refused).rejects.toThrow(/card_secrets\.reserved_at \(reservations\)/)
        await expect(refused).rejects.toThrow(/orders\.guest_password/)
        await expect(openBridge(pgDatabase(pool), logger, 'http://127.0.0.1:9/', 'http://127.0.0.1:9/')).rejects.toThrow(
          /lacks columns the adapter needs: .*card_secrets\.reserved_at/,
        )
        const tables = await pool.query("SELECT 1 FROM information_schema.tables WHERE table_name LIKE 'standin_%'")
        expect(tables.rowCount).toBe(0) // refused before creating anything
      } finally {
        await pool.end()
        await shop.end()
      }
    })
  })
}
