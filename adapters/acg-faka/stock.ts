// Taking cards out of acg-faka's card table for a consignment, and putting recalled ones back.
//
// acg-faka sells inside its payment callback in a SERIALIZABLE transaction: it reads unsold cards
// of the commodity (a SERIALIZABLE read takes shared locks on what it reads) and marks the ones it
// took sold. So one transaction here suffices: lock unsold cards FOR UPDATE (a sale that read them
// holds its locks until it commits, and we wait; a sale that comes after waits for us and then no
// longer finds them), copy their rows into `standin_card_rows` and delete them from the card table.
// Out of the table, no sale and no admin "unlock" (locked 2 → unsold 0) can reach them; a recall
// puts the same rows back. Key id = card id as text; sku = commodity id as text.
import type { RowDataPacket } from 'mysql2'
import { z } from 'zod'
import { LIMITS } from '../../protocol/index.js'
import { AdapterError, type CardKey, type Logger } from '../contract.js'
import { inTransactionRetrying, type Pool, type PoolConnection, selectRows, unavailableOr } from '../mysql/db.js'
import { deliveredByHand, sha256Hex } from '../mysql/hand-delivered.js'
import { CARD_STATUS, COMMODITY_ON_SALE, DELIVERY_WAY, RowId, type Tables } from './schema.js'

export interface StockOptions {
  readonly pool: Pool
  readonly logger: Logger
  readonly tables: Tables
  readonly now: () => number
}

/** The commodity id a sku names; skus are commodity ids as decimal text. */
export function commodityIdOf(sku: string): string {
  if (!/^[1-9]\d{0,19}$/.test(sku)) throw new AdapterError('unknown_sku', `sku: ${sku} is not an acg-faka commodity id (skus are commodity ids, e.g. "12")`)
  return sku
}

const CommodityRow = z.object({ id: RowId, delivery_way: z.coerce.number().int(), status: z.coerce.number().int() })
const CardRow = z.object({ id: RowId, secret: z.string() })
const TakenRow = z.object({ card_id: RowId, commodity_id: RowId, state: z.string(), secret_sha: z.string() })

export async function takeStock(o: StockOptions, sku: string, count: number): Promise<CardKey[]> {
  const commodityId = commodityIdOf(sku)
  const t = o.tables
  try {
    const cards = await inTransactionRetrying(o.pool, async (connection) => {
      const [commodity] = await selectRows(connection, CommodityRow, `SELECT id, delivery_way, status FROM \`${t.commodity}\` WHERE id = ?`, [commodityId])
      if (commodity === undefined) throw new AdapterError('unknown_sku', `sku: no commodity ${sku} in acg-faka`)
      if (commodity.delivery_way !== DELIVERY_WAY.automatic) return []
      if (commodity.status !== COMMODITY_ON_SALE)
        throw new AdapterError('invalid', `sku: commodity ${sku} is off sale in acg-faka (status 0); put it on sale before consigning its cards`)
      // Newest first (acg-faka's default mode sells the oldest). Never a card given back (the node
      // refuses a key id it has seen) or a text a person delivered by hand.
      const rows = await selectRows(
        connection,
        CardRow,
        `SELECT id, secret FROM \`${t.card}\` card
         WHERE commodity_id = ? AND status = ? AND order_id IS NULL AND CHAR_LENGTH(secret) BETWEEN 1 AND ?
           AND NOT EXISTS (SELECT 1 FROM standin_cards s WHERE s.card_id = card.id AND s.state = 'returned')
           AND NOT ${deliveredByHand('card.secret')}
         ORDER BY id DESC LIMIT ? FOR UPDATE`,
        [commodityId, CARD_STATUS.unsold, LIMITS.maxCardKeyBytes, count],
      )
      if (rows.length === 0) return []
      const ids = rows.map((r) => r.id)
      await connection.query(`INSERT INTO standin_card_rows SELECT * FROM \`${t.card}\` WHERE id IN (?)`, [ids])
      await connection.query(`DELETE FROM \`${t.card}\` WHERE id IN (?)`, [ids])
      const at = o.now()
      await connection.query(
        `INSERT INTO standin_cards (card_id, commodity_id, state, secret_sha, trade_no, changed_ms) VALUES ?
         ON DUPLICATE KEY UPDATE commodity_id = VALUES(commodity_id), state = VALUES(state), secret_sha = VALUES(secret_sha), trade_no = NULL, changed_ms = VALUES(changed_ms)`,
        [rows.map((r) => [r.id, commodityId, 'consigned', sha256Hex(r.secret), null, at])],
      )
      return rows
    })
    if (cards.length > 0) o.logger.info({ sku, keys: cards.length }, 'acg-faka cards consigned (moved out of the card table)')
    return cards.map((c) => ({ keyId: c.id, key: c.secret }))
  } catch (error) {
    throw unavailableOr(error)
  }
}

/** Moves consigned card rows back into acg-faka's table (as they were, or sold to `order`). */
export async function restoreRows(connection: PoolConnection, t: Tables, ids: readonly string[], soldTo: { orderId: string } | null): Promise<void> {
  if (ids.length === 0) return
  await connection.query(`INSERT INTO \`${t.card}\` SELECT * FROM standin_card_rows WHERE id IN (?)`, [ids])
  await connection.query('DELETE FROM standin_card_rows WHERE id IN (?)', [ids])
  if (soldTo !== null)
    await connection.query(`UPDATE \`${t.card}\` SET status = ?, order_id = ?, purchase_time = NOW() WHERE id IN (?)`, [CARD_STATUS.sold, soldTo.orderId, ids])
}

export async function returnStock(o: StockOptions, sku: string, keys: readonly CardKey[]): Promise<void> {
  const commodityId = commodityIdOf(sku)
  if (keys.length === 0) return
  try {
    await inTransactionRetrying(o.pool, async (connection) => {
      const taken = await selectRows(
        connection,
        TakenRow,
        'SELECT card_id, commodity_id, state, secret_sha FROM standin_cards WHERE card_id IN (?) FOR UPDATE',
        [keys.map((k) => k.keyId)],
      )
      const byId = new Map(taken.map((r) => [r.card_id, r]))
      const restore: string[] = []
      for (const key of keys) {
        const row = byId.get(key.keyId)
        if (row === undefined || row.commodity_id !== commodityId || row.secret_sha !== sha256Hex(key.key))
          throw new AdapterError('unknown_key', `keys: ${key.keyId} never left this shop's stock of sku ${sku} for a consignment`)
        if (row.state === 'delivered') throw new AdapterError('key_conflict', `keys: ${key.keyId} was delivered by a partner and cannot go back on sale`)
        if (row.state === 'consigned') restore.push(row.card_id)
      }
      await restoreRows(connection, o.tables, restore, null)
      if (restore.length > 0) await connection.query("UPDATE standin_cards SET state = 'returned', changed_ms = ? WHERE card_id IN (?)", [o.now(), restore])
    })
  } catch (error) {
    throw unavailableOr(error)
  }
}

/** Rows in `standin_card_rows` must match the card table's columns; an upgrade that changed them is caught at start. */
export async function checkShadowTable(pool: Pool, t: Tables): Promise<void> {
  const columns = async (table: string) => {
    const [rows] = await pool.query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [table],
    )
    return rows.map((r) => String(r.c)).join(',')
  }
  if ((await columns(t.card)) === (await columns('standin_card_rows'))) return
  const [[held]] = await pool.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM standin_card_rows')
  if (Number(held?.n) > 0)
    throw new Error(
      `acg-faka's ${t.card} table changed columns (an upgrade?) while standin_card_rows holds ${Number(held?.n)} consigned cards: recall them with the old columns first, or align standin_card_rows by hand`,
    )
  await pool.query('DROP TABLE standin_card_rows')
  await pool.query(`CREATE TABLE standin_card_rows LIKE \`${t.card}\``)
}
