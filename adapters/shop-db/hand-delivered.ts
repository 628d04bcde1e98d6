// Keys a person delivered by hand, for every database adapter. The shops' admins complete an order
// by writing its text only (dujiaoka: `orders.info`; acg-faka: `order.secret`; Dujiao-Next: a manual
// fulfillment's `payload`): the pasted key's row is not touched, so it usually stays unsold and the
// shop may sell it again; key texts may also repeat across rows (no unique index). Standin must
// never consign such a key: a partner would hand a second buyer a key the first one already has.
// So each bridge records the SHA-256 of every line of the orders it sees completed by hand
// (`standin_shop_delivered`, per engine: ../mysql/hand-delivered.ts, ./sql-hand-delivered.ts),
// consignment skips every key whose text is listed, and a listed text still unsold is logged for
// the operator.
//
// Limits: only orders the bridge reads are seen (from its first start's lookback on); an automatic
// sale marks its keys sold in the same transaction and needs no record.
import { createHash } from 'node:crypto'
import type { Logger } from '../contract.js'

/** Lowercase hex SHA-256 of a text's UTF-8 bytes: what MySQL's SHA2(text, 256) and PostgreSQL's sha256() give. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** Lines of one order recorded at most: a note or a huge paste is not worth more. */
const MAX_LINES_PER_ORDER = 1_000

/** The distinct non-empty lines of a delivered text, at most MAX_LINES_PER_ORDER. */
export function handLines(text: string | null): string[] {
  return [...new Set((text ?? '').split(/\r?\n/).filter((l) => l.length > 0))].slice(0, MAX_LINES_PER_ORDER)
}

/** Where the shop keeps its keys, to find the rows of a pasted text that are still unsold. */
export interface KeyTable {
  /** The shop's name, in the operator's message. */
  readonly shop: string
  /** `SELECT id FROM … WHERE <text> IN (…) AND <unsold>`: the key rows with these texts still on sale (the engine's placeholder for the list). */
  readonly unsoldSql: string
  /** The log field naming those rows (dujiaoka `carmisIds`, acg-faka `cardIds`, Dujiao-Next `cardSecretIds`). */
  readonly idsField: string
  readonly noun: string
}

/** The engine's two statements: record the hashes (returns how many were new), find unsold rows with these texts. */
export interface HandRecordSql {
  insert(hashes: readonly string[], order: string, atMs: number): Promise<number>
  unsoldIds(lines: readonly string[]): Promise<string[]>
}

/** Records the lines of hand-completed orders; returns how many key texts were new. */
export async function recordHandLines(
  o: { logger: Logger; now: () => number },
  keys: KeyTable,
  sql: HandRecordSql,
  orders: readonly { readonly order: string; readonly text: string | null }[],
): Promise<number> {
  let fresh = 0
  for (const order of orders) {
    const lines = handLines(order.text)
    if (lines.length === 0) continue
    fresh += await sql.insert(lines.map(sha256Hex), order.order, o.now())
    // Rare (a person's delivery), so a scan of the key table by text is affordable here.
    const unsold = await sql.unsoldIds(lines)
    if (unsold.length > 0)
      o.logger.warn(
        { order: order.order, [keys.idsField]: unsold },
        `a ${keys.noun} delivered by hand is still unsold in ${keys.shop}, which may sell it again: mark it sold (Standin never consigns it)`,
      )
  }
  return fresh
}
