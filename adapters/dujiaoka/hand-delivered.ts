// Keys a person delivered by hand. dujiaoka's admin completes an order by editing its `info` and
// `status` only: the carmis row of a pasted key is not touched, so it usually stays unsold
// (status 1) and dujiaoka may sell it again; key texts may also repeat across rows (no unique
// index). Standin must never consign such a key: a partner would hand a second buyer a key the
// first one already has. So the bridge records the SHA-256 of every line of the orders it sees
// completed by hand (escrowed by us and then completed in dujiaoka, or of manual goods) in
// standin_shop_delivered; takeStock skips every key whose text is listed (stock.ts); and a listed
// text still unsold in carmis is logged for the operator, who should mark it sold.
//
// Limits: only orders the bridge reads are seen (from its first start's lookback on); an
// automatic sale marks its keys sold in the same transaction and needs no record.
import { createHash } from 'node:crypto'
import type { ResultSetHeader } from 'mysql2'
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { type Pool, selectRows } from '../mysql/db.js'
import { CARMI_STATUS, RowId } from './schema.js'

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
/** Lines of one order recorded at most: a note or a huge paste is not worth more. */
const MAX_LINES_PER_ORDER = 1_000

export interface HandDelivery {
  readonly order_sn: string
  readonly info: string | null
}

/** Records the lines of hand-completed orders; returns how many key texts were new. */
export async function recordHandDeliveries(o: { pool: Pool; logger: Logger; now: () => number }, orders: readonly HandDelivery[]): Promise<number> {
  let fresh = 0
  for (const order of orders) {
    const lines = [...new Set((order.info ?? '').split(/\r?\n/).filter((l) => l.length > 0))].slice(0, MAX_LINES_PER_ORDER)
    if (lines.length === 0) continue
    const [result] = await o.pool.query<ResultSetHeader>('INSERT IGNORE INTO standin_shop_delivered (carmi_sha256, order_sn, seen_ms) VALUES ?', [
      lines.map((line) => [sha256(line), order.order_sn, o.now()]),
    ])
    fresh += result.affectedRows
    // Rare (a person's delivery), so a scan of carmis by text is affordable here.
    const unsold = await selectRows(o.pool, z.object({ id: RowId }), 'SELECT id FROM carmis WHERE carmi IN (?) AND status = ? AND deleted_at IS NULL', [
      lines,
      CARMI_STATUS.unsold,
    ])
    if (unsold.length > 0)
      o.logger.warn(
        { order: order.order_sn, carmisIds: unsold.map((r) => r.id) },
        'a key delivered by hand is still unsold in dujiaoka, which may sell it again: mark it sold in the admin panel (Standin never consigns it)',
      )
  }
  return fresh
}
