// Keys a person delivered by hand, for every database adapter. The shops' admins complete an order
// by writing its text only (dujiaoka: `orders.info`; acg-faka: `order.secret`; Dujiao-Next: a manual
// fulfillment's `payload`): the pasted key's row is not touched, so it usually stays unsold and the
// shop may sell it again; key texts may also repeat across rows (no unique index). Standin must
// never consign such a key: a partner would hand a second buyer a key the first one already has.
// So each bridge records the SHA-256 of every line of the orders it sees completed by hand
// (`standin_shop_delivered`, per engine: ../mysql/hand-delivered.ts, ../postgres/hand-delivered.ts),
// consignment skips every key whose text is listed, and a listed text still unsold is logged for
// the operator.
//
// Limits: only orders the bridge reads are seen (from its first start's lookback on); an automatic
// sale marks its keys sold in the same transaction and needs no record.
import { createHash } from 'node:crypto'

/** Lowercase hex SHA-256 of a text's UTF-8 bytes: what MySQL's SHA2(text, 256) and PostgreSQL's sha256() give. */
export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')

/** Lines of one order recorded at most: a note or a huge paste is not worth more. */
const MAX_LINES_PER_ORDER = 1_000

/** The distinct non-empty lines of a delivered text, at most MAX_LINES_PER_ORDER. */
export function handLines(text: string | null): string[] {
  return [...new Set((text ?? '').split(/\r?\n/).filter((l) => l.length > 0))].slice(0, MAX_LINES_PER_ORDER)
}

/** The operator's message for pasted keys still on sale. */
export function unsoldWarning(noun: string, shop: string): string {
  return `a ${noun} delivered by hand is still unsold in ${shop}, which may sell it again: mark it sold (Standin never consigns it)`
}
