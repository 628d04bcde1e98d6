// Statements bounded by db.statementTimeoutMs. A stuck dujiaoka worker holding key rows, or a
// migration holding a table, must cost a consignment one timeout and a clear "retry later", not a
// pool connection for 50 s (InnoDB's default lock wait) or a year (the metadata lock default).
// Without the session settings these cases run past vitest's 30 s test timeout.
import type { PoolConnection } from 'mysql2/promise'
import { describe, expect, it } from 'vitest'
import { AdapterError } from '../../adapters/contract.js'
import { unavailableOr } from '../../adapters/mysql/db.js'
import { checkKeyInvariants, rows } from './dujiaoka-checks.js'
import { dujiaokaRig, STOCK_GOODS } from './dujiaoka-rig.js'
import type { MariaDb } from './mariadb.js'

const STATEMENT_TIMEOUT_MS = 1_500

/** What dujiaoka's side does to hold the keys of STOCK_GOODS; `undo` lets go. */
const LOCKS: { name: string; hold: (c: PoolConnection) => Promise<void>; undo: (c: PoolConnection) => Promise<void> }[] = [
  {
    name: 'a sale stuck with the key rows locked',
    hold: async (c) => {
      await c.query('BEGIN')
      await c.query('SELECT id FROM carmis WHERE goods_id = ? FOR UPDATE', [STOCK_GOODS])
    },
    undo: async (c) => {
      await c.query('ROLLBACK')
    },
  },
  {
    name: 'a migration holding the carmis table',
    hold: async (c) => {
      await c.query('LOCK TABLES carmis WRITE')
    },
    undo: async (c) => {
      await c.query('UNLOCK TABLES')
    },
  },
]

export function describeStatementTimeoutCases(database: () => MariaDb): void {
  describe('statements bounded by db.statementTimeoutMs', () => {
    it('every session the pool hands out runs in UTC with lock waits and statements bounded', async () => {
      const rig = await dujiaokaRig(database(), { statementTimeoutMs: STATEMENT_TIMEOUT_MS })
      try {
        const [session] = await rows(
          rig,
          'SELECT @@time_zone AS tz, @@innodb_lock_wait_timeout AS rowLockS, @@lock_wait_timeout AS tableLockS, @@max_statement_time AS statementS',
        )
        // BIGINT comes back as text (the pool's bigNumberStrings), DOUBLE as a number.
        expect(session).toMatchObject({ tz: '+00:00', rowLockS: '2', tableLockS: '2', statementS: 1.5 })
        const slow = await rig.pool.query('SELECT SLEEP(10)').then(
          () => null,
          (error: unknown) => error,
        )
        expect(slow).toMatchObject({ errno: 1969 })
        expect(unavailableOr(slow)).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/statementTimeoutMs/) })
        expect(unavailableOr(slow)).toBeInstanceOf(AdapterError)
      } finally {
        await rig.stop()
      }
    })

    for (const lock of LOCKS) {
      it(`${lock.name}: takeStock answers "unavailable", changes nothing, and works once it is gone`, async () => {
        const rig = await dujiaokaRig(database(), { statementTimeoutMs: STATEMENT_TIMEOUT_MS })
        const holder = await rig.shop.pool.getConnection()
        try {
          const before = await checkKeyInvariants(rig, STOCK_GOODS)
          await lock.hold(holder)
          try {
            await expect(rig.adapter.takeStock(String(STOCK_GOODS), 5)).rejects.toMatchObject({ code: 'unavailable' })
          } finally {
            await lock.undo(holder)
          }
          const after = await checkKeyInvariants(rig, STOCK_GOODS)
          expect(after.consigned.size).toBe(0)
          expect([...after.sellable].sort()).toEqual([...before.sellable].sort())
          expect(await rig.adapter.takeStock(String(STOCK_GOODS), 5)).toHaveLength(5)
          expect((await checkKeyInvariants(rig, STOCK_GOODS)).consigned.size).toBe(5)
        } finally {
          holder.release()
          await rig.stop()
        }
      })
    }
  })
}
