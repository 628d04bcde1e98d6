// Write-back (handback) into dujiaoka's orders, and the adapter under exactly the documented
// database grants. Run from dujiaoka.test.ts.
import { describe, expect, it } from 'vitest'
import { createDujiaokaAdapter } from '../../adapters/dujiaoka/adapter.js'
import { DujiaokaBridge } from '../../adapters/dujiaoka/bridge.js'
import { BridgeConfig, DbConfig, HealthConfig } from '../../adapters/shop-db/config.js'
import { createMysqlPool } from '../../adapters/mysql/db.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import { partnerDelivery } from '../adapters/conformance.js'
import { NODE_SECRET } from '../adapters/helpers.js'
import { rows } from './dujiaoka-checks.js'
import { dujiaokaRig, EMPTY_GOODS, STOCK_GOODS } from './dujiaoka-rig.js'
import type { MariaDb } from './mariadb.js'

export function describeWriteBackCases(database: () => MariaDb): void {
  describe('write-back', () => {
    it('sets info and status 4 for orders waiting for keys; unknown, unpaid and manual orders are recorded, not applied', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const waiting = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'm@example.com' })
        await rig.shop.pay(waiting)
        const expired = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'e@example.com' })
        await rig.shop.setStatus(expired, -1)
        await rig.bridge.pollOnce()
        const keys = await rig.adapter.takeStock(String(STOCK_GOODS), 3)
        await rig.adapter.writeBack(partnerDelivery(waiting, String(EMPTY_GOODS), keys.slice(0, 1)))
        expect(await rig.shop.order(waiting)).toMatchObject({ status: 4, info: keys[0]?.key })
        await rig.adapter.writeBack(partnerDelivery('NO-SUCH-ORDER', '1', keys.slice(1, 2)))
        await rig.adapter.writeBack(partnerDelivery(expired, String(EMPTY_GOODS), keys.slice(2, 3)))
        expect(await rig.shop.order(expired)).toMatchObject({ status: -1 })
        const results = await rows(rig, 'SELECT order_sn, result FROM standin_writebacks ORDER BY recorded_ms, order_sn')
        expect(Object.fromEntries(results.map((r) => [r.order_sn, r.result]))).toEqual({
          [waiting]: 'applied',
          'NO-SUCH-ORDER': 'unknown-order',
          [expired]: 'conflict',
        })
        // All three partner keys are off sale for good.
        expect(Number((await rows(rig, "SELECT COUNT(*) AS n FROM standin_consigned WHERE state = 'delivered'"))[0]?.n)).toBe(3)
        // The written-back order is not reported to the node again.
        expect((await rig.bridge.pollOnce()).delivered).toBe(0)
        expect(rig.node.escrow.get(waiting)?.state).toBe('escrowed')
      } finally {
        await rig.stop()
      }
    })

    it('keys too long for orders.info (TEXT): the order is completed with a note, and later write-backs still go through', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const big = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 70, email: 'big@example.com' })
        const next = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'next@example.com' })
        for (const order of [big, next]) await rig.shop.pay(order)
        await rig.bridge.pollOnce()
        // 70 keys of 1,000 characters: 70,069 bytes with the line breaks, over TEXT's 65,535.
        const longKeys = Array.from({ length: 70 }, (_, i) => ({ keyId: String(900_000 + i), key: `K${i}-`.padEnd(1_000, 'X') }))
        await rig.adapter.writeBack(partnerDelivery(big, String(EMPTY_GOODS), longKeys))
        const written = await rig.shop.order(big)
        expect(written).toMatchObject({ status: 4 })
        expect(written.info).toMatch(/^70 keys delivered by Shop B through Standin/)
        const keys = await rig.adapter.takeStock(String(STOCK_GOODS), 1)
        await rig.adapter.writeBack(partnerDelivery(next, String(EMPTY_GOODS), keys))
        expect(await rig.shop.order(next)).toMatchObject({ status: 4, info: keys[0]?.key })
        const results = await rows(rig, 'SELECT order_sn, result FROM standin_writebacks')
        expect(Object.fromEntries(results.map((r) => [r.order_sn, r.result]))).toEqual({ [big]: 'too-long', [next]: 'applied' })
      } finally {
        await rig.stop()
      }
    })

    it('a key the partner delivered after it was recalled into stock is taken off sale and logged', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const order = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'k@example.com' })
        await rig.shop.pay(order)
        const keys = await rig.adapter.takeStock(String(STOCK_GOODS), 1)
        await rig.adapter.returnStock(String(STOCK_GOODS), keys)
        expect((await rig.shop.sellableKeyIds(STOCK_GOODS)).has(keys[0]!.keyId)).toBe(true)
        await rig.adapter.writeBack(partnerDelivery(order, String(EMPTY_GOODS), keys))
        expect((await rig.shop.sellableKeyIds(STOCK_GOODS)).has(keys[0]!.keyId)).toBe(false)
        expect(rig.logger.lines.some((l) => l.level === 'error' && /back in our stock/.test(l.message))).toBe(true)
      } finally {
        await rig.stop()
      }
    })
  })

  it('runs with exactly the grants adapters/dujiaoka/README.md lists, and refuses to start without PROCESS', async () => {
    const rig = await dujiaokaRig(database())
    const user = `standin_${rig.database}`.slice(0, 32)
    const pools: ReturnType<typeof createMysqlPool>[] = []
    try {
      await rig.shop.pool.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'pw'`)
      await rig.shop.pool.query(`GRANT SELECT, INSERT, UPDATE, CREATE ON \`${rig.database}\`.* TO '${user}'@'127.0.0.1'`)
      const connect = () => {
        const pool = createMysqlPool(
          DbConfig.parse({ host: database().host, port: database().port, user, password: 'pw', database: rig.database, connections: 3 }),
        )
        pools.push(pool)
        return pool
      }
      const consign = { settleMs: 150, settleTimeoutMs: 5_000 }
      await expect(createDujiaokaAdapter({ pool: connect(), logger: rig.logger, consign })).rejects.toThrow(/PROCESS privilege/)
      await rig.shop.pool.query(`GRANT PROCESS ON *.* TO '${user}'@'127.0.0.1'`)
      const pool = connect()
      const adapter = await createDujiaokaAdapter({ pool, logger: rig.logger, consign })
      const keys = await adapter.takeStock(String(STOCK_GOODS), 2)
      await adapter.returnStock(String(STOCK_GOODS), keys.slice(0, 1))
      const order = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'g@example.com', searchPwd: 'g' })
      await rig.shop.pay(order)
      await adapter.setFenced(true)
      await adapter.writeBack(partnerDelivery(order, String(EMPTY_GOODS), keys.slice(1)))
      expect(await rig.shop.order(order)).toMatchObject({ status: 4, info: keys[1]?.key })
      // The bridge under the same grants.
      await rig.bridge.close()
      const paid = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'h@example.com', searchPwd: 'h' })
      await rig.shop.pay(paid)
      const bridge = await DujiaokaBridge.open({
        pool,
        node: new AdapterClient({ baseUrl: rig.node.url, secret: NODE_SECRET }),
        shopUrl: rig.front.url,
        bridge: BridgeConfig.parse({}),
        health: HealthConfig.parse({}),
        money: { currency: 'CNY', minorDigits: 2 },
        buyerLocale: 'en',
        claimKey: NODE_SECRET,
        logger: rig.logger,
      })
      try {
        expect(await bridge.pollOnce()).toMatchObject({ escrowed: 1 })
        expect((await bridge.checkHealth()).platform).toBe('up')
      } finally {
        await bridge.close()
      }
    } finally {
      for (const pool of pools) await pool.end()
      await rig.stop()
    }
  })
}
