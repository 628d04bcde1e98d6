// The start-up schema check (issue 20): a dujiaoka fork whose tables lack a column the adapter uses
// makes both halves refuse to start, naming every missing column; nothing of Standin's is written
// first. Run from dujiaoka.test.ts.
import { describe, expect, it } from 'vitest'
import { createDujiaokaAdapter } from '../../adapters/dujiaoka/adapter.js'
import { DujiaokaBridge } from '../../adapters/dujiaoka/bridge.js'
import { ConsignConfig } from '../../adapters/dujiaoka/config.js'
import { BridgeConfig, HealthConfig } from '../../adapters/shop-db/config.js'
import { missingColumns } from '../../adapters/dujiaoka/schema-check.js'
import { AdapterClient } from '../../adapters/generic/client.js'
import { NODE_SECRET } from '../adapters/helpers.js'
import { rows } from './dujiaoka-checks.js'
import { dujiaokaRig } from './dujiaoka-rig.js'
import type { MariaDb } from './mariadb.js'

export function describeSchemaCases(database: () => MariaDb): void {
  describe('dujiaoka schema check at start', () => {
    it('the test shop, built on the real column types, has every column; a fork without three of them is refused by name', async () => {
      const rig = await dujiaokaRig(database())
      try {
        expect(await missingColumns(rig.pool)).toEqual([])
        // A fork: no buy_amount and no info in orders, no is_open in goods.
        await rig.pool.query('ALTER TABLE orders DROP COLUMN buy_amount, DROP COLUMN info')
        await rig.pool.query('ALTER TABLE goods DROP COLUMN is_open')
        await rig.pool.query('DROP TABLE standin_state')
        const refused = createDujiaokaAdapter({ pool: rig.pool, logger: rig.logger, consign: ConsignConfig.parse({}) })
        await expect(refused).rejects.toThrow(/orders\.buy_amount \(the quantity\)/)
        await expect(refused).rejects.toThrow(/orders\.info/)
        await expect(refused).rejects.toThrow(/goods\.is_open/)
        const bridge = DujiaokaBridge.open({
          pool: rig.pool,
          node: new AdapterClient({ baseUrl: rig.node.url, secret: NODE_SECRET }),
          shopUrl: rig.front.url,
          bridge: BridgeConfig.parse({}),
          health: HealthConfig.parse({}),
          money: { currency: 'CNY', minorDigits: 2 },
          buyerLocale: 'zh-CN',
          claimKey: NODE_SECRET,
          logger: rig.logger,
        })
        await expect(bridge).rejects.toThrow(/orders\.buy_amount.*orders\.info.*goods\.is_open/)
        // Refused before anything of Standin's was created.
        const [left] = await rows(rig, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'standin_state'")
        expect(Number(left?.n)).toBe(0)
      } finally {
        await rig.stop()
      }
    })
  })
}
