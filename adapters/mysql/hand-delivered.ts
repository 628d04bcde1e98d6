// Keys a person delivered by hand, for both database adapters. The shops' admins complete an order
// by editing its text only (dujiaoka: `orders.info`; acg-faka: `order.secret`): the pasted key's
// row is not touched, so it usually stays unsold and the shop may sell it again; key texts may
// also repeat across rows (no unique index). Standin must never consign such a key: a partner
// would hand a second buyer a key the first one already has. So the bridge records the SHA-256 of
// every line of the orders it sees completed by hand in standin_shop_delivered; consignment skips
// every key whose text is listed; and a listed text still unsold is logged for the operator.
//
// Limits: only orders the bridge reads are seen (from its first start's lookback on); an automatic
// sale marks its keys sold in the same transaction and needs no record.
import { createHash } from 'node:crypto'
import type { ResultSetHeader } from 'mysql2'
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { type Pool, selectRows } from './db.js'

/** Lowercase hex SHA-256 of a text's UTF-8 bytes: what MySQL's SHA2(text, 256) gives for the same text. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** Lines of one order recorded at most: a note or a huge paste is not worth more. */
const MAX_LINES_PER_ORDER = 1_000

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
    const lines = [...new Set((order.text ?? '').split(/\r?\n/).filter((l) => l.length > 0))].slice(0, MAX_LINES_PER_ORDER)
    if (lines.length === 0) continue
    const [result] = await o.pool.query<ResultSetHeader>('INSERT IGNORE INTO standin_shop_delivered (text_sha256, order_no, seen_ms) VALUES ?', [
      lines.map((line) => [sha256Hex(line), order.order, o.now()]),
    ])
    fresh += result.affectedRows
    // Rare (a person's delivery), so a scan of the key table by text is affordable here.
    const unsold = await selectRows(o.pool, z.object({ id: z.union([z.number(), z.string()]).transform(String) }), keys.unsoldSql, [lines])
    if (unsold.length > 0)
      o.logger.warn(
        { order: order.order, [keys.idsField]: unsold.map((r) => r.id) },
        `a ${keys.noun} delivered by hand is still unsold in ${keys.shop}, which may sell it again: mark it sold (Standin never consigns it)`,
      )
  }
  return fresh
}
