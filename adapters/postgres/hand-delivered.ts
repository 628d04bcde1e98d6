// The hand-delivery record (../shop-db/hand-delivered.ts) on PostgreSQL.
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { type KeyTable, recordHandLines } from '../shop-db/hand-delivered.js'
import { type PgPool, selectRows } from './db.js'

const IdRow = z.object({ id: z.union([z.number(), z.string()]).transform(String) })

export const SHOP_DELIVERED_DDL = `CREATE TABLE IF NOT EXISTS standin_shop_delivered (
    text_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    order_no VARCHAR(150) NOT NULL,
    seen_ms BIGINT NOT NULL
  )`

/** SQL: true when the text in `column` was delivered by hand (for a consignment's WHERE). */
export const deliveredByHand = (column: string): string =>
  `EXISTS (SELECT 1 FROM standin_shop_delivered d WHERE d.text_sha256 = encode(sha256(convert_to(${column}, 'UTF8')), 'hex'))`

/** Records the lines of hand-completed orders (../shop-db/hand-delivered.ts); returns how many key texts were new. */
export function recordHandDeliveries(
  o: { pool: PgPool; logger: Logger; now: () => number },
  keys: KeyTable,
  orders: readonly { readonly order: string; readonly text: string | null }[],
): Promise<number> {
  return recordHandLines(
    o,
    keys,
    {
      async insert(hashes, order, atMs) {
        const result = await o.pool.query(
          'INSERT INTO standin_shop_delivered (text_sha256, order_no, seen_ms) SELECT sha, $2, $3 FROM unnest($1::text[]) AS sha ON CONFLICT DO NOTHING',
          [hashes, order, atMs],
        )
        return result.rowCount ?? 0
      },
      unsoldIds: async (lines) => (await selectRows(o.pool, IdRow, keys.unsoldSql, [lines])).map((r) => r.id),
    },
    orders,
  )
}
