// The bridge (dujiaoka → node) against real MariaDB and the FAKE node: what is escrowed and how,
// restarts, late commits, conflicts, malformed orders, conflict detection, the one-bridge lock,
// health. Run from dujiaoka.test.ts.
import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import type { NodeIngress } from '../../adapters/contract.js'
import { bridgeLockName } from '../../adapters/dujiaoka/bridge.js'
import { DbConfig } from '../../adapters/shop-db/config.js'
import { createMysqlPool } from '../../adapters/mysql/db.js'
import { HealthProbe } from '../../adapters/shop-db/health.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import type { AdapterOrder } from '../../protocol/index.js'
import { partnerDelivery } from '../adapters/conformance.js'
import { NODE_SECRET } from '../adapters/helpers.js'
import { rows } from './dujiaoka-checks.js'
import { DEFAULT_GOODS, dujiaokaRig, EMPTY_GOODS, MANUAL_GOODS, STOCK_GOODS } from './dujiaoka-rig.js'
import type { MariaDb } from './mariadb.js'

export function describeBridgeCases(database: () => MariaDb): void {
  describe('the bridge', () => {
    it('escrows paid orders waiting for keys (6, or 2 and 3 of automatic goods), never manual goods, unpaid or completed orders, with exact amounts', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const waiting = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 3, email: 'm@example.com', searchPwd: 'secret-m' })
        const short = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 7, email: 'not-an-email', searchPwd: '' })
        const manual = await rig.shop.createOrder({ goodsId: MANUAL_GOODS, qty: 1, email: 'top-up@example.com', searchPwd: 'secret-t' })
        const unpaid = await rig.shop.createOrder({ goodsId: STOCK_GOODS, qty: 1, email: 'u@example.com' })
        const sold = await rig.shop.createOrder({ goodsId: STOCK_GOODS, qty: 1, email: 's@example.com' })
        for (const order of [waiting, short, manual, sold]) await rig.shop.pay(order)
        // The manual order's info holds the buyer's own input (the account to top up), as dujiaoka keeps it.
        await rig.shop.pool.query("UPDATE orders SET info = '充值账号:10001' WHERE order_sn = ?", [manual])
        const result = await rig.bridge.pollOnce()
        expect(result).toMatchObject({ escrowed: 2, delivered: 0, cancelled: 0, invalid: 0 })
        expect([...rig.node.escrow.keys()].sort()).toEqual([waiting, short].sort())
        expect((await rig.shop.order(manual)).status).toBe(2)
        const held = (id: string) => rig.node.escrow.get(id)?.order as AdapterOrder
        expect(held(waiting)).toMatchObject({
          sku: String(EMPTY_GOODS),
          qty: 3,
          amount: { minorUnits: 297, currency: 'CNY' },
          claimSecret: 'secret-m',
          buyer: { email: 'm@example.com', locale: 'zh-CN' },
        })
        // No query password: a secret derived from the order number (the buyer gets the key by mail).
        const derived = createHmac('sha256', NODE_SECRET).update(`standin/dujiaoka/claim\n${short}`).digest('base64url').slice(0, 22)
        expect(held(short)).toMatchObject({ qty: 7, amount: { minorUnits: 693, currency: 'CNY' }, claimSecret: derived, buyer: { email: null } })
        expect(rig.node.escrow.has(unpaid)).toBe(false)
        // paidAt is the time the order was seen paid (its updated_at), read as an instant whatever dujiaoka's session zone.
        const [{ ms }] = (await rows(rig, 'SELECT UNIX_TIMESTAMP(updated_at) * 1000 AS ms FROM orders WHERE order_sn = ?', [waiting])) as [{ ms: string }]
        expect(held(waiting).paidAt).toBe(Number(ms))

        // A partner's write-back for the manual order (it was never escrowed: a hostile or confused
        // partner) keeps the buyer's input and the status; it is recorded, not applied.
        const keys = await rig.adapter.takeStock(String(STOCK_GOODS), 1)
        await rig.adapter.writeBack(partnerDelivery(manual, String(MANUAL_GOODS), keys))
        expect(await rig.shop.order(manual)).toMatchObject({ status: 2, info: '充值账号:10001' })
        expect(await rows(rig, 'SELECT result FROM standin_writebacks WHERE order_sn = ?', [manual])).toEqual([{ result: 'manual' }])
      } finally {
        await rig.stop()
      }
    })

    it('a key delivered by hand stays unsold in dujiaoka: never consigned (nor a duplicate text of it), and the operator is told', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const order = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'hand@example.com', searchPwd: 'pw-h' })
        await rig.shop.pay(order)
        await rig.bridge.pollOnce()
        // The operator pastes an unsold key of the stocked goods; its row stays status 1.
        const [pasted] = await rig.shop.deliverByHand(order, STOCK_GOODS)
        const [{ carmi }] = (await rows(rig, 'SELECT carmi FROM carmis WHERE id = ?', [pasted])) as [{ carmi: string }]
        // The same text in a second row (dujiaoka has no unique index on carmi).
        await rig.shop.pool.query('INSERT INTO carmis (goods_id, status, is_loop, carmi, created_at, updated_at) VALUES (?, 1, 0, ?, NOW(), NOW())', [
          STOCK_GOODS,
          carmi,
        ])
        expect(await rig.bridge.pollOnce()).toMatchObject({ delivered: 1 })
        const twins = (await rows(rig, 'SELECT id FROM carmis WHERE carmi = ?', [carmi])).map((r) => String(r.id))
        expect(twins).toHaveLength(2)
        const warned = rig.logger.lines.filter((l) => /delivered by hand is still unsold/.test(l.message))
        expect(warned.map((l) => l.fields.carmisIds)).toEqual([expect.arrayContaining(twins)])
        // Every other key can be consigned; neither row with the pasted text ever is.
        const taken = await rig.adapter.takeStock(String(STOCK_GOODS), 1_000)
        expect(taken.map((k) => k.keyId)).not.toContain(twins[0])
        expect(taken.map((k) => k.keyId)).not.toContain(twins[1])
        expect(taken.map((k) => k.key)).not.toContain(carmi)
        expect(taken).toHaveLength(DEFAULT_GOODS[0]!.keys - 1)
      } finally {
        await rig.stop()
      }
    })

    it('first start: only orders changed within the lookback of the newest are escrowed; older waiting ones are counted in a warning', async () => {
      const rig = await dujiaokaRig(database(), { bridge: { firstStartLookbackSeconds: 3_600 } })
      try {
        const stale = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'old@example.com', searchPwd: 'pw-old' })
        await rig.shop.pay(stale)
        await rig.shop.pool.query('UPDATE orders SET updated_at = updated_at - INTERVAL 3 DAY WHERE order_sn = ?', [stale])
        const fresh = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'new@example.com', searchPwd: 'pw-new' })
        await rig.shop.pay(fresh)
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 1 })
        expect([...rig.node.escrow.keys()]).toEqual([fresh])
        expect(rig.logger.lines.filter((l) => l.level === 'warn' && /first start/.test(l.message)).map((l) => l.fields.waiting)).toEqual([1])
        // Decided once: the saved cursor keeps it so, across polls and restarts.
        await rig.bridge.close()
        const restarted = await rig.openBridge()
        expect(await restarted.pollOnce()).toMatchObject({ escrowed: 0 })
        expect(rig.node.escrow.has(stale)).toBe(false)
        expect(rig.logger.lines.filter((l) => /first start/.test(l.message))).toHaveLength(2) // the warning and the start line, once
      } finally {
        await rig.stop()
      }
    })

    // dujiaoka writes China wall-clock text ('PRC') that the server reads in its own zone: here the
    // shift a server in another zone would give is applied to updated_at by hand.
    it('a server behind China time (dujiaoka times run 8 h ahead): paidAt and tombstone times are capped at now, and the start says why', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const paid = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'ahead@example.com', searchPwd: 'pw-a' })
        await rig.shop.pay(paid)
        await rig.shop.pool.query('UPDATE orders SET updated_at = updated_at + INTERVAL 8 HOUR WHERE order_sn = ?', [paid])
        const before = Date.now()
        await rig.bridge.pollOnce()
        const paidAt = rig.node.escrow.get(paid)?.order.paidAt ?? Number.NaN
        expect(paidAt).toBeGreaterThanOrEqual(before)
        expect(paidAt).toBeLessThanOrEqual(Date.now())
        await rig.bridge.close()
        await rig.openBridge()
        expect(rig.logger.lines.filter((l) => l.level === 'warn' && /runs ahead of UTC/.test(l.message)).map((l) => l.fields.aheadHours)).toEqual([8])
      } finally {
        await rig.stop()
      }
    })

    it('a server ahead of China time (dujiaoka times lag): a write-back does not move the cursor past orders dujiaoka updates next', async () => {
      const rig = await dujiaokaRig(database())
      // Every dujiaoka write (checkout, payment) lands an hour behind real time.
      const lag = (order: string) => rig.shop.pool.query('UPDATE orders SET updated_at = updated_at - INTERVAL 1 HOUR WHERE order_sn = ?', [order])
      const laggedPaidOrder = async (email: string) => {
        const order = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email, searchPwd: `pw-${email}` })
        await lag(order)
        await rig.shop.pay(order)
        await lag(order)
        return order
      }
      try {
        const first = await laggedPaidOrder('lag1@example.com')
        await rig.bridge.pollOnce()
        const keys = await rig.adapter.takeStock(String(STOCK_GOODS), 1)
        await rig.adapter.writeBack(partnerDelivery(first, String(EMPTY_GOODS), keys))
        await rig.bridge.pollOnce()
        const second = await laggedPaidOrder('lag2@example.com')
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 1 })
        expect(rig.node.escrow.has(second)).toBe(true)
      } finally {
        await rig.stop()
      }
    })

    it('restarts without losing or doubling orders: a crash after the node acknowledged a page resubmits it as duplicates', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const orders: string[] = []
        for (let i = 0; i < 25; i++) {
          const order = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: `r${i}@example.com`, searchPwd: `pw${i}` })
          await rig.shop.pay(order)
          orders.push(order)
        }
        // The first process: its third page reaches the node, then the process "dies" before recording it.
        const client = new AdapterClient({ baseUrl: rig.node.url, secret: NODE_SECRET })
        let submits = 0
        const crashing: NodeIngress = {
          submitOrders: async (batch) => {
            const reply = await client.submitOrders(batch)
            if (++submits === 3) throw new Error('process killed after the node acknowledged')
            return reply
          },
          markDelivered: (batch) => client.markDelivered(batch),
          markCancelled: (batch) => client.markCancelled(batch),
          reportHealth: (body) => client.reportHealth(body),
        }
        await rig.bridge.close()
        const first = await rig.openBridge(crashing)
        await expect(first.pollOnce()).rejects.toThrow('process killed')
        await first.close()
        expect(rig.node.escrow.size).toBe(21) // 3 pages of 7 acknowledged
        // The restarted process: everything once, the third page twice (counted as duplicates by the node).
        rig.bridge = await rig.openBridge()
        const result = await rig.bridge.pollOnce()
        expect(result.escrowed).toBe(11)
        expect([...rig.node.escrow.keys()].sort()).toEqual([...orders].sort())
        expect(rig.node.duplicateSubmissions).toHaveLength(7)
        const again = await rig.bridge.pollOnce()
        expect(again.escrowed).toBe(0)
        expect(rig.node.duplicateSubmissions).toHaveLength(7)

        // Status changes after the restart: tombstoned once each.
        await rig.shop.deliverByHand(orders[0] as string, STOCK_GOODS)
        await rig.shop.setStatus(orders[1] as string, 5)
        await rig.shop.pool.query('UPDATE orders SET deleted_at = NOW(), updated_at = NOW() WHERE order_sn = ?', [orders[2]])
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 0, delivered: 1, cancelled: 2 })
        expect(await rig.bridge.pollOnce()).toMatchObject({ delivered: 0, cancelled: 0 })
        expect(rig.node.escrow.get(orders[0] as string)?.state).toBe('delivered')
        expect(rig.node.escrow.get(orders[1] as string)?.state).toBe('cancelled')
        expect(rig.node.escrow.get(orders[2] as string)?.state).toBe('cancelled')
      } finally {
        await rig.stop()
      }
    })

    it('an order whose content changed after the node took it is isolated as a conflict; the rest of its page goes through', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const orders: string[] = []
        for (let i = 0; i < 3; i++) {
          const order = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: `c${i}@example.com`, searchPwd: `pw${i}` })
          await rig.shop.pay(order)
          orders.push(order)
        }
        const client = new AdapterClient({ baseUrl: rig.node.url, secret: NODE_SECRET })
        const crashing: NodeIngress = {
          submitOrders: async (batch) => {
            await client.submitOrders(batch)
            throw new Error('process killed after the node acknowledged')
          },
          markDelivered: (batch) => client.markDelivered(batch),
          markCancelled: (batch) => client.markCancelled(batch),
          reportHealth: (body) => client.reportHealth(body),
        }
        await rig.bridge.close()
        const first = await rig.openBridge(crashing)
        await expect(first.pollOnce()).rejects.toThrow('process killed')
        await first.close()
        // Edited in the admin panel while the bridge was down: the node holds the old address.
        await rig.shop.pool.query("UPDATE orders SET email = 'changed@example.com' WHERE order_sn = ?", [orders[1]])
        rig.bridge = await rig.openBridge()
        const result = await rig.bridge.pollOnce()
        expect(result.escrowed).toBe(2)
        const states = await rows(rig, 'SELECT order_sn, state FROM standin_orders ORDER BY order_sn')
        expect(Object.fromEntries(states.map((r) => [r.order_sn, r.state]))).toEqual({
          [orders[0] as string]: 'escrowed',
          [orders[1] as string]: 'conflict',
          [orders[2] as string]: 'escrowed',
        })
        expect(rig.logger.lines.some((l) => l.level === 'error' && l.fields.order === orders[1])).toBe(true)
        expect((await rig.bridge.pollOnce()).escrowed).toBe(0)
      } finally {
        await rig.stop()
      }
    })

    it('an order committed late with an updated_at behind the cursor is still found (within the overlap)', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const first = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'a@example.com', searchPwd: 'a' })
        await rig.shop.pay(first)
        await rig.bridge.pollOnce()
        const late = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'b@example.com', searchPwd: 'b' })
        await rig.shop.pay(late)
        // As if its transaction had stamped the time 3 s before the cursor and committed after the poll.
        await rig.shop.pool.query(
          'UPDATE orders SET updated_at = (SELECT t FROM (SELECT updated_at - INTERVAL 3 SECOND AS t FROM orders WHERE order_sn = ?) x) WHERE order_sn = ?',
          [first, late],
        )
        expect((await rig.bridge.pollOnce()).escrowed).toBe(1)
        expect(rig.node.escrow.has(late)).toBe(true)
        expect(rig.node.duplicateSubmissions).toEqual([])
      } finally {
        await rig.stop()
      }
    })

    it('orders that cannot be escrowed are recorded as invalid, logged once, and do not hold up the others', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const good = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'ok@example.com', searchPwd: 'ok' })
        const noQty = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'z@example.com', searchPwd: 'z' })
        const spaced = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 's@example.com', searchPwd: 's' })
        const zeroDate = await rig.shop.createOrder({ goodsId: EMPTY_GOODS, qty: 1, email: 'd@example.com', searchPwd: 'd' })
        for (const order of [good, noQty, spaced, zeroDate]) await rig.shop.pay(order)
        await rig.shop.pool.query('UPDATE orders SET buy_amount = 0 WHERE order_sn = ?', [noQty])
        await rig.shop.pool.query("UPDATE orders SET order_sn = 'HAS SPACE' WHERE order_sn = ?", [spaced])
        // A zero date sorts before every real time: such a row is never read (documented; Laravel never writes one).
        await rig.shop.pool.query("UPDATE orders SET updated_at = '0000-00-00 00:00:00' WHERE order_sn = ?", [zeroDate])
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 1, invalid: 2 })
        expect([...rig.node.escrow.keys()]).toEqual([good])
        const states = await rows(rig, "SELECT order_sn FROM standin_orders WHERE state = 'invalid'")
        expect(states.map((r) => String(r.order_sn)).sort()).toEqual(['HAS SPACE', noQty].sort())
        expect(rig.logger.lines.filter((l) => l.level === 'error' && /cannot be escrowed/.test(l.message))).toHaveLength(2)
        expect(await rig.bridge.pollOnce()).toMatchObject({ escrowed: 0, invalid: 0 })
      } finally {
        await rig.stop()
      }
    })

    // 2,400 other lines put the key past the first query's 1,000 hashes (conflicts.ts checks in chunks).
    for (const otherLines of [0, 2_400])
      it(`a key found both in a dujiaoka-completed order (${otherLines} other keys) and in a consignment is recorded and logged once`, async () => {
        const rig = await dujiaokaRig(database())
        try {
          const [key] = await rig.adapter.takeStock(String(STOCK_GOODS), 1)
          // As if a sale had outlived the consignment's wait: dujiaoka delivered a consigned key.
          const order = await rig.shop.createOrder({ goodsId: STOCK_GOODS, qty: 1, email: 'x@example.com' })
          const info = [...Array.from({ length: otherLines }, (_, i) => `OTHER-${i}`), key?.key].join('\n')
          await rig.shop.pool.query('UPDATE orders SET info = ?, status = 4, updated_at = NOW() WHERE order_sn = ?', [info, order])
          expect((await rig.bridge.pollOnce()).conflicts).toBe(1)
          expect((await rig.bridge.pollOnce()).conflicts).toBe(0)
          expect((await rows(rig, 'SELECT order_sn, carmis_id FROM standin_conflicts')).map((r) => [r.order_sn, String(r.carmis_id)])).toEqual([
            [order, key?.keyId],
          ])
          expect(rig.logger.lines.filter((l) => l.level === 'error' && /also consigned/.test(l.message))).toHaveLength(1)
        } finally {
          await rig.stop()
        }
      })

    it('refuses a second bridge on the same database', async () => {
      const rig = await dujiaokaRig(database())
      try {
        await expect(rig.openBridge()).rejects.toThrow(/another Standin bridge/)
      } finally {
        await rig.stop()
      }
    })

    it('runs one bridge per database, not per server: two shops on one MariaDB both bridge', async () => {
      // Shared hosting (one MariaDB, a database per site) is common for dujiaoka; GET_LOCK names
      // are server-wide, so the lock must name the database.
      const first = await dujiaokaRig(database())
      try {
        const second = await dujiaokaRig(database())
        try {
          await expect(second.bridge.pollOnce()).resolves.toMatchObject({ conflicts: 0 })
          await expect(first.openBridge()).rejects.toThrow(/another Standin bridge/)
          await expect(second.openBridge()).rejects.toThrow(/another Standin bridge/)
        } finally {
          await second.stop()
        }
      } finally {
        await first.stop()
      }
    })

    it('a lock lost with its connection (idle timeout, kill) is taken back at the next poll, or the poll refuses if another bridge took it', async () => {
      const rig = await dujiaokaRig(database())
      // What the server's wait_timeout does to the idle lock connection, done at once.
      const killHolder = async () => {
        const [[holder]] = (await rig.shop.pool.query('SELECT IS_USED_LOCK(?) AS id', [bridgeLockName(rig.database)])) as unknown as [[{ id: number | null }]]
        expect(holder.id).not.toBeNull()
        await rig.shop.pool.query(`KILL ${Number(holder.id)}`)
      }
      try {
        await killHolder()
        await expect(rig.bridge.pollOnce()).resolves.toMatchObject({ conflicts: 0 })
        expect(rig.logger.lines.filter((l) => /one-bridge lock was lost/.test(l.message))).toHaveLength(1)
        await expect(rig.openBridge()).rejects.toThrow(/another Standin bridge/)
        // Lost again, and this time a second bridge starts first: the first one stands down.
        await killHolder()
        const second = await rig.openBridge()
        await expect(rig.bridge.pollOnce()).rejects.toThrow(/another Standin bridge/)
        await expect(second.pollOnce()).resolves.toMatchObject({ conflicts: 0 })
      } finally {
        await rig.stop()
      }
    })

    it('health: a database that does not answer is degraded, then down', async () => {
      const rig = await dujiaokaRig(database())
      const dead = createMysqlPool(DbConfig.parse({ host: '127.0.0.1', port: 1, user: 'nobody', database: 'none', connections: 2, connectTimeoutMs: 500 }))
      try {
        const probe = new HealthProbe({ name: 'dujiaoka', db: dead, shopUrl: rig.front.url, config: { timeoutMs: 1_000, downAfterFailures: 2 } })
        expect((await probe.check()).platform).toBe('degraded')
        const down = await probe.check()
        expect(down.platform).toBe('down')
        expect(down.detail).toMatch(/database/)
        const live = new HealthProbe({ name: 'dujiaoka', db: rig.pool, shopUrl: rig.front.url, config: { timeoutMs: 1_000, downAfterFailures: 2 } })
        expect((await live.check()).platform).toBe('up')
      } finally {
        await dead.end()
        await rig.stop()
      }
    })
  })
}
