// The hand-delivery record (./hand-delivered.ts) on an SqlDatabase (PostgreSQL or SQLite, ./sql.ts).
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { type KeyTable, recordHandLines } from './hand-delivered.js'
import { arrayRows, type Dialect, selectRows, sha256Sql, type SqlDatabase } from './sql.js'

const IdRow = z.object({ id: z.union([z.number(), z.string()]).transform(String) })

export const SHOP_DELIVERED_DDL = `CREATE TABLE IF NOT EXISTS standin_shop_delivered (
    text_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    order_no VARCHAR(150) NOT NULL,
    seen_ms BIGINT NOT NULL
  )`

/** SQL: true when the text in `column` was delivered by hand (for a consignment's WHERE). */
export const deliveredByHand = (dialect: Dialect, column: string): string =>
  `EXISTS (SELECT 1 FROM standin_shop_delivered d WHERE d.text_sha256 = ${sha256Sql(dialect, column)})`

/** Records the lines of hand-completed orders (./hand-delivered.ts); returns how many key texts were new. */
export function recordHandDeliveries(
  o: { db: SqlDatabase; logger: Logger; now: () => number },
  keys: KeyTable,
  orders: readonly { readonly order: string; readonly text: string | null }[],
): Promise<number> {
  return recordHandLines(
    o,
    keys,
    {
      async insert(hashes, order, atMs) {
        const result = await o.db.query(
          `INSERT INTO standin_shop_delivered (text_sha256, order_no, seen_ms)
           SELECT t.sha, $2, $3 FROM ${arrayRows(o.db.dialect, 't', [['sha', '$1', 'text']])} WHERE true ON CONFLICT DO NOTHING`,
          [hashes, order, atMs],
        )
        return result.rowCount ?? 0
      },
      unsoldIds: async (lines) => (await selectRows(o.db, IdRow, keys.unsoldSql, [lines])).map((r) => r.id),
    },
    orders,
  )
}
