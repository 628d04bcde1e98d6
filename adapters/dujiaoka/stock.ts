// Taking keys out of dujiaoka's `carmis` for a consignment, and putting recalled keys back.
//
// Why two phases. dujiaoka sells without locks: in one transaction it SELECTs unsold keys of the
// goods (a plain snapshot read), saves the order with their text in `info`, then marks them sold
// by id (`UPDATE … WHERE id IN (…) AND deleted_at IS NULL`). Locking the rows (`FOR UPDATE`) stops
// two consignments taking one key, but cannot stop a sale that already *read* a key from
// delivering it. So:
//
//   phase 1  (one transaction) lock unsold, non-loop, live keys FOR UPDATE, newest first, and mark
//            them status 3 (ours; dujiaoka only ever selects status 1). From its commit on, no new
//            sale can pick them. Record them in standin_consigned as `settling`.
//   settle   a sale that read one of them earlier is still going to mark it sold by id, and that
//            UPDATE still matches (the row is not soft-deleted yet): it turns our 3 into 2. So wait
//            until every transaction open when phase 1 committed has ended. InnoDB lists a
//            transaction in information_schema.INNODB_TRX from its first read (read-only ones with
//            trx_id 0, so they are told apart by thread and start time). That view is a cache
//            others can freeze; open-transactions.ts reads it so that each list is provably newer
//            than the moment we asked, hence newer than phase 1. Needs the PROCESS privilege.
//   phase 2  (one transaction) keys still status 3 are consigned: soft-deleted (`deleted_at`), so
//            dujiaoka's SoftDeletes scope hides them everywhere; keys a sale turned to 2 are sold,
//            recorded as `raced`, and not handed out.
//
// Any failure before phase 2 commits puts the batch back (3 → 1). A crash leaves `settling` rows;
// `recoverSettling` puts them back at start. Key id = `carmis.id` as text; sku = `goods.id` as text.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RowDataPacket } from 'mysql2'
import { z } from 'zod'
import { LIMITS } from '../../protocol/index.js'
import { AdapterError, type CardKey, type Logger } from '../contract.js'
import type { ConsignConfig } from './config.js'
import { deliveredByHand, sha256Hex } from '../mysql/hand-delivered.js'
import { inTransaction, inTransactionRetrying, type Pool, selectRows, unavailableOr } from '../mysql/db.js'
import type { OpenTransaction, OpenTransactionsReader } from './open-transactions.js'
import { CARMI_STATUS, CarmiRow, GOODS_AUTOMATIC, GOODS_OPEN, RowId } from './schema.js'

export interface StockOptions {
  readonly pool: Pool
  readonly logger: Logger
  readonly consign: ConsignConfig
  readonly openTransactions: OpenTransactionsReader
  readonly now: () => number
}

/** The goods id a sku names; skus are goods ids as decimal text. */
export function goodsIdOf(sku: string): string {
  if (!/^[1-9]\d{0,19}$/.test(sku)) throw new AdapterError('unknown_sku', `sku: ${sku} is not a dujiaoka goods id (skus are goods ids, e.g. "12")`)
  return sku
}

const GoodsRow = z.object({ id: RowId, type: z.coerce.number().int(), is_open: z.coerce.number().int() })
const ConsignedRow = z.object({
  carmis_id: RowId,
  goods_id: RowId,
  state: z.string(),
  carmi: z.string().nullable(),
  status: z.coerce.number().int().nullable(),
})

/**
 * Waits `settleMs`, then until every transaction open at that moment has ended: a superset of those
 * that may have read the keys before phase 1. A transaction is (thread, start second); a thread
 * that starts another one in the same second only makes us wait a little longer.
 */
async function waitForOlderTransactions(o: StockOptions): Promise<void> {
  await sleep(o.consign.settleMs)
  const deadlineMs = performance.now() + o.consign.settleTimeoutMs
  const key = (t: OpenTransaction) => `${t.thread}@${t.started}`
  const list = () => o.openTransactions.read(Math.max(1, deadlineMs - performance.now()))
  let waiting = new Set((await list()).map(key))
  while (waiting.size > 0) {
    if (performance.now() > deadlineMs) {
      throw new AdapterError(
        'unavailable',
        `stock: ${waiting.size} transaction(s) open since before the keys were marked did not finish within ${o.consign.settleTimeoutMs} ms (thread@start ${[...waiting].slice(0, 5).join(', ')}); nothing consigned, try again`,
      )
    }
    const open = new Set((await list()).map(key))
    waiting = new Set([...waiting].filter((t) => open.has(t)))
  }
}

/** Puts a batch that never left back on sale (status 3 → 1; rows already consigned are not touched). */
async function releaseBatch(o: StockOptions, batch: string, state: 'aborted'): Promise<number> {
  return inTransaction(o.pool, async (connection) => {
    const [rows] = await connection.query<RowDataPacket[]>("SELECT carmis_id FROM standin_consigned WHERE batch = ? AND state = 'settling' FOR UPDATE", [batch])
    const ids = rows.map((r) => String(r.carmis_id))
    if (ids.length === 0) return 0
    await connection.query('UPDATE carmis SET status = ? WHERE id IN (?) AND status = ? AND deleted_at IS NULL', [
      CARMI_STATUS.unsold,
      ids,
      CARMI_STATUS.standin,
    ])
    await connection.query('UPDATE standin_consigned SET state = ?, changed_ms = ? WHERE carmis_id IN (?)', [state, o.now(), ids])
    return ids.length
  })
}

/** At start: batches a crashed process left half-taken go back on sale (the node never got them). */
export async function recoverSettling(o: StockOptions): Promise<number> {
  const [rows] = await o.pool.query<RowDataPacket[]>("SELECT DISTINCT batch FROM standin_consigned WHERE state = 'settling'")
  let released = 0
  for (const row of rows) released += await releaseBatch(o, String(row.batch), 'aborted')
  if (released > 0) o.logger.warn({ released }, 'keys of interrupted consignments put back on sale')
  return released
}

export async function takeStock(o: StockOptions, sku: string, count: number): Promise<CardKey[]> {
  const goodsId = goodsIdOf(sku)
  const batch = randomUUID()
  let marked: { id: string; carmi: string }[]
  try {
    // A deadlock with a sale or another consignment undoes phase 1 whole: it is tried again.
    marked = await inTransactionRetrying(o.pool, async (connection) => {
      const [goods] = await selectRows(connection, GoodsRow, 'SELECT id, type, is_open FROM goods WHERE id = ? AND deleted_at IS NULL', [goodsId])
      if (goods === undefined) throw new AdapterError('unknown_sku', `sku: no goods ${sku} in dujiaoka`)
      if (goods.type !== GOODS_AUTOMATIC) return []
      // Off sale (下架): the owner stopped selling these keys, perhaps because they are bad or
      // promised elsewhere; a partner must not deliver them either.
      if (goods.is_open !== GOODS_OPEN)
        throw new AdapterError('invalid', `sku: goods ${sku} is off sale in dujiaoka (is_open = 0); put it on sale before consigning its keys`)
      // Newest first: dujiaoka's unordered `take(n)` tends to read the oldest, so races are rarer.
      // Never a key given back: the node refuses a key id it has seen and would send the whole
      // batch back, and newest-first would pick the same keys every time. They stay on sale here.
      // Never a key whose text a person delivered by hand (../mysql/hand-delivered.ts), in any row.
      const rows = await selectRows(
        connection,
        CarmiRow,
        `SELECT id, carmi, status, deleted_at FROM carmis
         WHERE goods_id = ? AND status = ? AND is_loop = 0 AND deleted_at IS NULL AND CHAR_LENGTH(carmi) BETWEEN 1 AND ?
           AND NOT EXISTS (SELECT 1 FROM standin_consigned s WHERE s.carmis_id = carmis.id AND s.state = 'returned')
           AND NOT ${deliveredByHand('carmis.carmi')}
         ORDER BY id DESC LIMIT ? FOR UPDATE`,
        [goodsId, CARMI_STATUS.unsold, LIMITS.maxCardKeyBytes, count],
      )
      if (rows.length === 0) return []
      const ids = rows.map((r) => r.id)
      await connection.query('UPDATE carmis SET status = ? WHERE id IN (?)', [CARMI_STATUS.standin, ids])
      const at = o.now()
      await connection.query(
        `INSERT INTO standin_consigned (carmis_id, goods_id, batch, state, carmi_sha256, order_sn, taken_ms, changed_ms) VALUES ?
         ON DUPLICATE KEY UPDATE goods_id = VALUES(goods_id), batch = VALUES(batch), state = VALUES(state), carmi_sha256 = VALUES(carmi_sha256),
           order_sn = NULL, taken_ms = VALUES(taken_ms), changed_ms = VALUES(changed_ms)`,
        [rows.map((r) => [r.id, goodsId, batch, 'settling', sha256Hex(r.carmi), null, at, at])],
      )
      return rows.map((r) => ({ id: r.id, carmi: r.carmi }))
    })
  } catch (error) {
    // Rolled back, or (connection lost at COMMIT) perhaps not: put back whatever did commit.
    await releaseBatch(o, batch, 'aborted').catch(() => undefined)
    throw unavailableOr(error)
  }
  if (marked.length === 0) return []

  let consigned: CardKey[]
  try {
    await waitForOlderTransactions(o)
    consigned = await inTransaction(o.pool, async (connection) => {
      const rows = await selectRows(connection, CarmiRow, 'SELECT id, carmi, status, deleted_at FROM carmis WHERE id IN (?) FOR UPDATE', [
        marked.map((m) => m.id),
      ])
      const kept = rows.filter((r) => r.status === CARMI_STATUS.standin && r.deleted_at === null)
      const raced = rows.filter((r) => !kept.includes(r)).map((r) => r.id)
      const at = o.now()
      if (kept.length > 0) {
        await connection.query('UPDATE carmis SET deleted_at = NOW() WHERE id IN (?)', [kept.map((r) => r.id)])
        await connection.query("UPDATE standin_consigned SET state = 'consigned', changed_ms = ? WHERE carmis_id IN (?)", [at, kept.map((r) => r.id)])
      }
      if (raced.length > 0) {
        await connection.query("UPDATE standin_consigned SET state = 'raced', changed_ms = ? WHERE carmis_id IN (?)", [at, raced])
        o.logger.warn({ sku, raced }, 'keys sold by dujiaoka while being consigned: left sold, not consigned')
      }
      const byId = new Map(kept.map((r) => [r.id, r.carmi]))
      // In phase-1 order (newest first), each key exactly as stored.
      return marked.filter((m) => byId.has(m.id)).map((m) => ({ keyId: m.id, key: byId.get(m.id) as string }))
    })
  } catch (error) {
    // Phase 2 did not commit (or we cannot tell): put back what is still settling, then report.
    await releaseBatch(o, batch, 'aborted').catch((releaseError: unknown) =>
      o.logger.error({ batch, err: String(releaseError) }, 'could not put keys of a failed consignment back; they are released at the next start'),
    )
    const [left] = await o.pool
      .query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM standin_consigned WHERE batch = ? AND state = 'consigned'", [batch])
      .catch(() => [[{ n: -1 }] as RowDataPacket[]])
    if (Number(left[0]?.n) !== 0) {
      // The commit may have happened with the reply lost: these keys are out of stock and the
      // node does not have them. Never answer "nothing changed" then.
      o.logger.error(
        { sku, batch, err: error instanceof Error ? error.message : String(error) },
        'consignment outcome unknown: keys of this batch may be out of stock; reconcile with standin_consigned',
      )
      throw new Error(`stock: consignment batch ${batch} may have committed; see standin_consigned before taking again`)
    }
    throw unavailableOr(error)
  }
  o.logger.info({ sku, requested: count, taken: consigned.length, batch }, 'keys taken from dujiaoka for a consignment')
  return consigned
}

export async function returnStock(o: StockOptions, sku: string, keys: readonly CardKey[]): Promise<void> {
  const goodsId = goodsIdOf(sku)
  if (keys.length === 0) return
  const ids: string[] = keys.map((k, i) => {
    if (!/^\d{1,20}$/.test(k.keyId)) throw new AdapterError('unknown_key', `keys.${i}: key ${k.keyId} of sku ${sku} was never consigned from this shop`)
    return k.keyId
  })
  try {
    await inTransaction(o.pool, async (connection) => {
      const rows = await selectRows(
        connection,
        ConsignedRow,
        'SELECT s.carmis_id, s.goods_id, s.state, c.carmi, c.status FROM standin_consigned s LEFT JOIN carmis c ON c.id = s.carmis_id WHERE s.carmis_id IN (?) FOR UPDATE',
        [ids],
      )
      const found = new Map(rows.map((r) => [r.carmis_id, r]))
      const restore: string[] = []
      // Check every key before changing any, so a refusal changes nothing.
      keys.forEach((key, i) => {
        const row = found.get(key.keyId)
        if (row === undefined || row.goods_id !== goodsId || row.carmi !== key.key) {
          throw new AdapterError('unknown_key', `keys.${i}: key ${key.keyId} of sku ${sku} was never consigned from this shop`)
        }
        if (row.state === 'consigned') restore.push(key.keyId)
        else if (row.state !== 'returned' && row.state !== 'aborted') {
          throw new AdapterError(
            'key_conflict',
            `keys.${i}: key ${key.keyId} is ${row.state === 'delivered' ? 'delivered by a partner' : row.state}; it cannot go back on sale`,
          )
        }
      })
      if (restore.length === 0) return
      await connection.query('UPDATE carmis SET status = ?, deleted_at = NULL WHERE id IN (?)', [CARMI_STATUS.unsold, restore])
      await connection.query("UPDATE standin_consigned SET state = 'returned', changed_ms = ? WHERE carmis_id IN (?)", [o.now(), restore])
    })
  } catch (error) {
    throw unavailableOr(error)
  }
  o.logger.info({ sku, returned: keys.length }, 'consigned keys put back on sale in dujiaoka')
}
