// The hand-delivery record (../shop-db/hand-delivered.ts) on MySQL/MariaDB.
import type { ResultSetHeader } from 'mysql2'
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { type KeyTable, recordHandLines, sha256Hex } from '../shop-db/hand-delivered.js'
import { type Pool, selectRows } from './db.js'

export { sha256Hex }
export type { KeyTable }

const IdRow = z.object({ id: z.union([z.number(), z.string()]).transform(String) })

export const SHOP_DELIVERED_DDL = `CREATE TABLE IF NOT EXISTS standin_shop_delivered (
    text_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    order_no VARCHAR(150) NOT NULL,
    seen_ms BIGINT NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`

/** SQL: true when the text in `column` was delivered by hand (for a consignment's WHERE). */
export const deliveredByHand = (column: string): string => `EXISTS (SELECT 1 FROM standin_shop_delivered d WHERE d.text_sha256 = SHA2(${column}, 256))`

/** Records the lines of hand-completed orders (../shop-db/hand-delivered.ts); returns how many key texts were new. */
export function recordHandDeliveries(
  o: { pool: Pool; logger: Logger; now: () => number },
  keys: KeyTable,
  orders: readonly { readonly order: string; readonly text: string | null }[],
): Promise<number> {
  return recordHandLines(
    o,
    keys,
    {
      async insert(hashes, order, atMs) {
        const [result] = await o.pool.query<ResultSetHeader>('INSERT IGNORE INTO standin_shop_delivered (text_sha256, order_no, seen_ms) VALUES ?', [
          hashes.map((sha) => [sha, order, atMs]),
        ])
        return result.affectedRows
      },
      unsoldIds: async (lines) => (await selectRows(o.pool, IdRow, keys.unsoldSql, [lines])).map((r) => r.id),
    },
    orders,
  )
}
