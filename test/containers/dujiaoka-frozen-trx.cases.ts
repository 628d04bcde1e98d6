// Consigning while someone else keeps information_schema.INNODB_TRX frozen. InnoDB refreshes that
// list only after 100 ms without reads, so a reader polling faster (here a stand-in for a
// monitoring agent, on the FAKE dujiaoka's own pool) pins an old list that does not show a sale
// begun after it. The consignment must notice the list is stale instead of trusting it: under a
// stale list it would consign keys the sale has already read (adapters/dujiaoka/open-transactions.ts).
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { checkKeyInvariants, heldSale, phaseOneCommitted, rows, until } from './dujiaoka-checks.js'
import { type DujiaokaRig, dujiaokaRig, STOCK_GOODS } from './dujiaoka-rig.js'
import type { MariaDb } from './mariadb.js'

/** Faster than InnoDB's 100 ms refresh idle time, so the list stays as it was at the first read. */
const FREEZER_POLL_MS = 30
/** Bound on the freezer loop (≈ 60 s at FREEZER_POLL_MS), in case a test forgets to stop it. */
const FREEZER_MAX_READS = 2_000

/** Reads INNODB_TRX every FREEZER_POLL_MS until stopped; resolves once the list is pinned. */
async function startFreezer(rig: DujiaokaRig): Promise<{ stop: () => Promise<void> }> {
  let running = true
  await rig.shop.pool.query('SELECT COUNT(*) FROM information_schema.INNODB_TRX')
  const loop = (async () => {
    for (let i = 0; running && i < FREEZER_MAX_READS; i++) {
      await rig.shop.pool.query('SELECT COUNT(*) FROM information_schema.INNODB_TRX')
      await sleep(FREEZER_POLL_MS)
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
    },
  }
}

/** A sale of 3 keys that has read them and holds its transaction open. */
const saleHeldAfterRead = (rig: DujiaokaRig) => heldSale(rig, { goodsId: STOCK_GOODS, qty: 3, email: 'frozen@example.com', step: 'afterRead' })

export function describeFrozenTrxCases(database: () => MariaDb): void {
  describe('consigning while another reader keeps INNODB_TRX frozen', () => {
    it('a sale begun after the list froze is still waited for: its keys are not consigned', async () => {
      const rig = await dujiaokaRig(database())
      try {
        const freezer = await startFreezer(rig)
        const sale = await saleHeldAfterRead(rig)
        const taking = rig.adapter.takeStock(String(STOCK_GOODS), 40)
        await until(() => phaseOneCommitted(rig), 'phase 1 of the consignment')
        // A stale list does not show the sale; if it were trusted, the keys would be consigned now.
        await sleep(600)
        await freezer.stop()
        // Fresh lists show the sale open; once it ends, the keys it sold are left sold.
        await sleep(600)
        sale.release()
        await sale.done
        const taken = await taking
        const sold = (await rig.shop.order(sale.order)).info?.split('\n') ?? []
        expect(sold).toHaveLength(3)
        expect(taken.filter((k) => sold.includes(k.key))).toEqual([])
        expect(taken).toHaveLength(37)
        await checkKeyInvariants(rig, STOCK_GOODS)
      } finally {
        await rig.stop()
      }
    })

    it('while the list never refreshes, the consignment gives up, says why, and puts every key back', async () => {
      const rig = await dujiaokaRig(database(), { consign: { settleTimeoutMs: 1_000 } })
      try {
        const freezer = await startFreezer(rig)
        const sale = await saleHeldAfterRead(rig)
        try {
          await expect(rig.adapter.takeStock(String(STOCK_GOODS), 40)).rejects.toMatchObject({
            code: 'unavailable',
            message: expect.stringMatching(/INNODB_TRX did not refresh/),
          })
        } finally {
          await freezer.stop()
        }
        expect(Number((await rows(rig, 'SELECT COUNT(*) AS n FROM carmis WHERE status = 3 OR deleted_at IS NOT NULL'))[0]?.n)).toBe(0)
        sale.release()
        await sale.done
        expect((await rig.shop.order(sale.order)).info?.split('\n')).toHaveLength(3)
        await checkKeyInvariants(rig, STOCK_GOODS)
      } finally {
        await rig.stop()
      }
    })
  })
}
