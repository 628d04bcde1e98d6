// The hand-delivery record (../shop-db/hand-delivered.ts) on PostgreSQL.
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { handLines, sha256Hex, unsoldWarning } from '../shop-db/hand-delivered.js'
import { type PgPool, selectRows } from './db.js'

export const SHOP_DELIVERED_DDL = `CREATE TABLE IF NOT EXISTS standin_shop_delivered (
    text_sha256 CHAR(64) NOT NULL PRIMARY KEY,
    order_no VARCHAR(150) NOT NULL,
    seen_ms BIGINT NOT NULL
  )`

/** SQL: true when the text in `column` was delivered by hand (for a consignment's WHERE). */
export const deliveredByHand = (column: string): string =>
  `EXISTS (SELECT 1 FROM standin_shop_delivered d WHERE d.text_sha256 = encode(sha256(convert_to(${column}, 'UTF8')), 'hex'))`

/** Where the shop keeps its keys: `SELECT id FROM … WHERE <text> = ANY($1) AND <unsold>`, and how the message names them. */
export interface PgKeyTable {
  readonly shop: string
  readonly unsoldSql: string
  readonly idsField: string
  readonly noun: string
}

/** Records the lines of hand-completed orders; returns how many key texts were new. */
export async function recordHandDeliveries(
  o: { pool: PgPool; logger: Logger; now: () => number },
  keys: PgKeyTable,
  orders: readonly { readonly order: string; readonly text: string | null }[],
): Promise<number> {
  let fresh = 0
  for (const order of orders) {
    const lines = handLines(order.text)
    if (lines.length === 0) continue
    const result = await o.pool.query(
      `INSERT INTO standin_shop_delivered (text_sha256, order_no, seen_ms) SELECT sha, $2, $3 FROM unnest($1::text[]) AS sha ON CONFLICT DO NOTHING`,
      [lines.map(sha256Hex), order.order, o.now()],
    )
    fresh += result.rowCount ?? 0
    // Rare (a person's delivery), so a scan of the key table by text is affordable here.
    const unsold = await selectRows(o.pool, z.object({ id: z.union([z.number(), z.string()]).transform(String) }), keys.unsoldSql, [lines])
    if (unsold.length > 0) o.logger.warn({ order: order.order, [keys.idsField]: unsold.map((r) => r.id) }, unsoldWarning(keys.noun, keys.shop))
  }
  return fresh
}
