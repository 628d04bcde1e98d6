// The hand-delivery record (../shop-db/hand-delivered.ts) on MySQL/MariaDB.
import type { ResultSetHeader } from 'mysql2'
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { handLines, sha256Hex, unsoldWarning } from '../shop-db/hand-delivered.js'
import { type Pool, selectRows } from './db.js'

export { sha256Hex }

export const SHOP_DELIVERED_DDL = `CREATE TABLE IF NOT EXISTS standin_shop_delivered (
    text_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    order_no VARCHAR(150) NOT NULL,
    seen_ms BIGINT NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`

/** SQL: true when the text in `column` was delivered by hand (for a consignment's WHERE). */
export const deliveredByHand = (column: string): string => `EXISTS (SELECT 1 FROM standin_shop_delivered d WHERE d.text_sha256 = SHA2(${column}, 256))`

/** Where the shop keeps its keys, to find the rows of a pasted text that are still unsold. */
export interface KeyTable {
  /** The shop's name, in the operator's message. */
  readonly shop: string
  /** `SELECT id FROM … WHERE <text> IN (?) AND <unsold>`: the key rows with these texts still on sale. */
  readonly unsoldSql: string
  /** The log field naming those rows (dujiaoka `carmisIds`, acg-faka `cardIds`). */
  readonly idsField: string
  readonly noun: string
}

/** Records the lines of hand-completed orders; returns how many key texts were new. */
export async function recordHandDeliveries(
  o: { pool: Pool; logger: Logger; now: () => number },
  keys: KeyTable,
  orders: readonly { readonly order: string; readonly text: string | null }[],
): Promise<number> {
  let fresh = 0
  for (const order of orders) {
    const lines = handLines(order.text)
    if (lines.length === 0) continue
    const [result] = await o.pool.query<ResultSetHeader>('INSERT IGNORE INTO standin_shop_delivered (text_sha256, order_no, seen_ms) VALUES ?', [
      lines.map((line) => [sha256Hex(line), order.order, o.now()]),
    ])
    fresh += result.affectedRows
    // Rare (a person's delivery), so a scan of the key table by text is affordable here.
    const unsold = await selectRows(o.pool, z.object({ id: z.union([z.number(), z.string()]).transform(String) }), keys.unsoldSql, [lines])
    if (unsold.length > 0) o.logger.warn({ order: order.order, [keys.idsField]: unsold.map((r) => r.id) }, unsoldWarning(keys.noun, keys.shop))
  }
  return fresh
}
