// The last line behind the consignment's two phases (stock.ts): a key that reached a buyer through
// dujiaoka AND sits in a consignment. It can only happen if a sale outlives what the consignment
// waits for (a dujiaoka variant reading keys outside its transaction, say). The bridge checks every
// completed order it reads, by SHA-256 of each `info` line against standin_consigned, and records
// each hit once in standin_conflicts with an error log: a duplicate key is never silent.
import type { ResultSetHeader } from 'mysql2'
import { z } from 'zod'
import type { Logger } from '../contract.js'
import { type Pool, selectRows } from '../mysql/db.js'
import { sha256Hex } from '../mysql/hand-delivered.js'
import { ORDER_STATUS, type OrderRow, RowId } from './schema.js'

const HitRow = z.object({ carmis_id: RowId, carmi_sha256: z.string(), state: z.string(), order_sn: z.string().nullable() })

/** Hashes per query (≈ 67 KB of SQL): a page of wholesale orders must not pass max_allowed_packet. */
const MAX_HASHES_PER_QUERY = 1_000

/** Records keys of completed orders in `rows` that are also consigned; returns how many were new. */
export async function detectConflicts(o: { pool: Pool; logger: Logger; now: () => number }, rows: readonly OrderRow[]): Promise<number> {
  const lines = new Map<string, string[]>() // sha → orders
  for (const row of rows) {
    if (row.status !== ORDER_STATUS.completed || row.info === null) continue
    for (const line of row.info.split(/\r?\n/)) {
      if (line.length === 0) continue
      const sha = sha256Hex(line)
      lines.set(sha, [...(lines.get(sha) ?? []), row.order_sn])
    }
  }
  const hashes = [...lines.keys()]
  const hits: z.infer<typeof HitRow>[] = []
  for (let start = 0; start < hashes.length; start += MAX_HASHES_PER_QUERY) {
    hits.push(
      ...(await selectRows(
        o.pool,
        HitRow,
        "SELECT carmis_id, carmi_sha256, state, order_sn FROM standin_consigned WHERE carmi_sha256 IN (?) AND state IN ('consigned', 'delivered')",
        [hashes.slice(start, start + MAX_HASHES_PER_QUERY)],
      )),
    )
  }
  let fresh = 0
  for (const hit of hits) {
    for (const order of lines.get(hit.carmi_sha256) ?? []) {
      if (hit.state === 'delivered' && hit.order_sn === order) continue // the partner's own delivery, written back
      const [result] = await o.pool.query<ResultSetHeader>('INSERT IGNORE INTO standin_conflicts (order_sn, carmis_id, detected_ms) VALUES (?, ?, ?)', [
        order,
        hit.carmis_id,
        o.now(),
      ])
      if (result.affectedRows === 1) {
        fresh++
        o.logger.error(
          { order, carmisId: hit.carmis_id, consignState: hit.state },
          'key delivered by dujiaoka is also consigned to a partner: duplicate key, reconcile with the holder',
        )
      }
    }
  }
  return fresh
}
