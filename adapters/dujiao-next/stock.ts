// Taking keys out of Dujiao-Next's card_secrets for a consignment, and putting recalled ones back.
//
// Dujiao-Next sells in two steps: checkout reserves `available` rows with a guarded UPDATE
// (`… WHERE id IN ? AND status = 'available'`, rows affected checked), after a locking read on
// PostgreSQL; delivery marks reserved (or, topping up, available) rows used with another guarded
// UPDATE. So the move is one step inside one transaction: pick available rows, copy them into
// `standin_card_rows` and delete them from card_secrets.
//   - PostgreSQL: one statement, the rows picked FOR UPDATE SKIP LOCKED: a checkout that locked a
//     row first keeps it; one that comes after no longer finds it.
//   - SQLite: the transaction holds the database's write lock (BEGIN IMMEDIATE, ../sqlite/db.ts);
//     a checkout that read before we committed fails its own write and sells nothing.
// Either way a delivery topping up from a row read before the move finds its guarded UPDATE short
// (or its write refused) and rolls back: the order stays paid, and is escrowed. Out of the table,
// no sale and no admin edit can reach a consigned key; a recall puts the same rows back. Key id =
// card_secrets.id as text; sku = "<product_id>:<sku_id>".
import { z } from 'zod'
import { LIMITS } from '../../protocol/index.js'
import { AdapterError, type CardKey, type Logger } from '../contract.js'
import { sha256Hex } from '../shop-db/hand-delivered.js'
import { columnsOf } from '../shop-db/sql-columns.js'
import { deliveredByHand } from '../shop-db/sql-hand-delivered.js'
import { arrayRows, type Dialect, forUpdate, inIds, type Queryable, selectRows, SqlBool, type SqlDatabase } from '../shop-db/sql.js'
import { TIME_SQL } from './dialect.js'
import { CARD_ROWS_DDL, CARD_STATUS, FULFILLMENT, RowId } from './schema.js'

export interface StockOptions {
  readonly db: SqlDatabase
  readonly logger: Logger
  readonly now: () => number
}

/** The product and sku ids a sku names. */
export function parseSku(sku: string): { productId: string; skuId: string } {
  const match = /^([1-9]\d{0,18}):(\d{1,19})$/.exec(sku)
  if (match === null) throw new AdapterError('unknown_sku', `sku: ${sku} is not a Dujiao-Next sku (skus are "<product_id>:<sku_id>", e.g. "12:34", or "12:0")`)
  return { productId: match[1] as string, skuId: match[2] as string }
}

const ProductRow = z.object({ fulfillment_type: z.string(), is_active: SqlBool, sku_found: SqlBool, sku_active: SqlBool.nullable() })
const CardRow = z.object({ id: RowId, secret: z.string() })
const TakenRow = z.object({ card_id: RowId, sku: z.string(), state: z.string(), secret_sha: z.string() })

/** The available keys a consignment may take: never a key given back (the node refuses a key id it has seen) or a text a person delivered by hand. */
function consignable(dialect: Dialect): string {
  return `c.product_id = $1 AND c.sku_id = $2 AND c.status = $3 AND c.order_id IS NULL AND c.deleted_at IS NULL
    AND octet_length(c.secret) BETWEEN 1 AND $4
    AND NOT EXISTS (SELECT 1 FROM standin_cards s WHERE s.card_id = c.id AND s.state = 'returned')
    AND NOT ${deliveredByHand(dialect, 'c.secret')}`
}

/** Moves up to `count` consignable keys (newest first: Dujiao-Next sells the oldest) out of card_secrets. */
async function moveOut(tx: Queryable, dialect: Dialect, productId: string, skuId: string, count: number): Promise<{ id: string; secret: string }[]> {
  const params = [productId, skuId, CARD_STATUS.available, LIMITS.maxCardKeyBytes, count]
  if (dialect === 'postgres')
    return selectRows(
      tx,
      CardRow,
      `WITH picked AS (SELECT c.id FROM card_secrets c WHERE ${consignable(dialect)} ORDER BY c.id DESC LIMIT $5 FOR UPDATE SKIP LOCKED),
         moved AS (DELETE FROM card_secrets c USING picked WHERE c.id = picked.id AND c.status = $3 RETURNING c.*)
       INSERT INTO standin_card_rows SELECT * FROM moved RETURNING id, secret`,
      params,
    )
  const picked = await selectRows(tx, CardRow, `SELECT c.id, c.secret FROM card_secrets c WHERE ${consignable(dialect)} ORDER BY c.id DESC LIMIT $5`, params)
  const ids = picked.map((c) => c.id)
  if (ids.length === 0) return []
  await tx.query(`INSERT INTO standin_card_rows SELECT * FROM card_secrets WHERE ${inIds(dialect, 'id', '$1')}`, [ids])
  await tx.query(`DELETE FROM card_secrets WHERE ${inIds(dialect, 'id', '$1')}`, [ids])
  return picked
}

export async function takeStock(o: StockOptions, sku: string, count: number): Promise<CardKey[]> {
  const { productId, skuId } = parseSku(sku)
  const dialect = o.db.dialect
  try {
    const cards = await o.db.transaction(async (tx) => {
      const [product] = await selectRows(
        tx,
        ProductRow,
        `SELECT p.fulfillment_type, COALESCE(p.is_active, false) AS is_active, s.id IS NOT NULL AS sku_found, s.is_active AS sku_active
         FROM products p LEFT JOIN product_skus s ON s.id = $2 AND s.product_id = p.id AND s.deleted_at IS NULL
         WHERE p.id = $1 AND p.deleted_at IS NULL`,
        [productId, skuId],
      )
      if (product === undefined) throw new AdapterError('unknown_sku', `sku: no product ${productId} in Dujiao-Next`)
      if (skuId !== '0' && !product.sku_found) throw new AdapterError('unknown_sku', `sku: product ${productId} has no sku ${skuId} in Dujiao-Next`)
      if (product.fulfillment_type !== FULFILLMENT.auto) return []
      if (!product.is_active || product.sku_active === false)
        throw new AdapterError('invalid', `sku: ${sku} is off sale in Dujiao-Next (is_active false); put it on sale before consigning its keys`)
      const rows = await moveOut(tx, dialect, productId, skuId, count)
      if (rows.length > 0) await recordTaken(tx, dialect, rows, sku, o.now())
      return rows
    })
    if (cards.length > 0) o.logger.info({ sku, keys: cards.length }, 'Dujiao-Next keys consigned (moved out of card_secrets)')
    return cards.map((c) => ({ keyId: c.id, key: c.secret }))
  } catch (error) {
    throw o.db.unavailableOr(error)
  }
}

async function recordTaken(tx: Queryable, dialect: Dialect, rows: readonly { id: string; secret: string }[], sku: string, at: number): Promise<void> {
  await tx.query(
    `INSERT INTO standin_cards (card_id, sku, state, secret_sha, order_no, changed_ms)
     SELECT t.id, $2, 'consigned', t.sha, NULL, $4 FROM ${arrayRows(dialect, 't', [
       ['id', '$1', 'bigint'],
       ['sha', '$3', 'text'],
     ])} WHERE true
     ON CONFLICT (card_id) DO UPDATE SET sku = EXCLUDED.sku, state = EXCLUDED.state, secret_sha = EXCLUDED.secret_sha, order_no = NULL, changed_ms = EXCLUDED.changed_ms`,
    [rows.map((r) => r.id), sku, rows.map((r) => sha256Hex(r.secret)), at],
  )
}

/** Moves consigned rows back into card_secrets: as they were, or used by `order` (a child order's id; null when the order is not ours to name). */
export async function restoreRows(tx: Queryable, dialect: Dialect, ids: readonly string[], used: { orderId: string | null } | null): Promise<void> {
  if (ids.length === 0) return
  const now = TIME_SQL[dialect].now
  await tx.query(`INSERT INTO card_secrets SELECT * FROM standin_card_rows WHERE ${inIds(dialect, 'id', '$1')}`, [ids])
  await tx.query(`DELETE FROM standin_card_rows WHERE ${inIds(dialect, 'id', '$1')}`, [ids])
  if (used !== null)
    await tx.query(
      `UPDATE card_secrets SET status = $2, order_id = $3, used_at = ${now}, reserved_at = NULL, updated_at = ${now} WHERE ${inIds(dialect, 'id', '$1')}`,
      [ids, CARD_STATUS.used, used.orderId],
    )
}

export async function returnStock(o: StockOptions, sku: string, keys: readonly CardKey[]): Promise<void> {
  parseSku(sku)
  if (keys.length === 0) return
  const ids = keys.map((k) => k.keyId)
  if (!ids.every((id) => /^\d{1,19}$/.test(id)))
    throw new AdapterError('unknown_key', `keys: ${ids.find((id) => !/^\d{1,19}$/.test(id))} is not a Dujiao-Next key id`)
  const dialect = o.db.dialect
  try {
    await o.db.transaction(async (tx) => {
      const taken = await selectRows(
        tx,
        TakenRow,
        `SELECT card_id, sku, state, secret_sha FROM standin_cards WHERE ${inIds(dialect, 'card_id', '$1')}${forUpdate(dialect)}`,
        [ids],
      )
      const byId = new Map(taken.map((r) => [r.card_id, r]))
      const restore: string[] = []
      for (const key of keys) {
        const row = byId.get(key.keyId)
        if (row === undefined || row.sku !== sku || row.secret_sha !== sha256Hex(key.key))
          throw new AdapterError('unknown_key', `keys: ${key.keyId} never left this shop's stock of sku ${sku} for a consignment`)
        if (row.state === 'delivered') throw new AdapterError('key_conflict', `keys: ${key.keyId} was delivered by a partner and cannot go back on sale`)
        if (row.state === 'consigned') restore.push(row.card_id)
      }
      await restoreRows(tx, dialect, restore, null)
      if (restore.length > 0)
        await tx.query(`UPDATE standin_cards SET state = 'returned', changed_ms = $2 WHERE ${inIds(dialect, 'card_id', '$1')}`, [restore, o.now()])
    })
  } catch (error) {
    throw o.db.unavailableOr(error)
  }
}

/** Rows in `standin_card_rows` must match card_secrets' columns; an upgrade that changed them is caught at start. */
export async function checkShadowTable(db: SqlDatabase): Promise<void> {
  if ((await columnsOf(db, 'card_secrets')).join(',') === (await columnsOf(db, 'standin_card_rows')).join(',')) return
  const [held] = await selectRows(db, z.object({ n: z.coerce.number() }), 'SELECT COUNT(*) AS n FROM standin_card_rows')
  if ((held?.n ?? 0) > 0)
    throw new Error(
      `Dujiao-Next's card_secrets table changed columns (an upgrade?) while standin_card_rows holds ${held?.n} consigned keys: recall them with the old columns first, or align standin_card_rows by hand`,
    )
  await db.query('DROP TABLE standin_card_rows')
  await db.query(CARD_ROWS_DDL[db.dialect])
}
