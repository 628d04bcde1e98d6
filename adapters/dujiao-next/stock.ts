// Taking keys out of Dujiao-Next's card_secrets for a consignment, and putting recalled ones back.
//
// Dujiao-Next sells in two steps: checkout locks `available` rows FOR UPDATE and reserves them with
// a guarded UPDATE (`… WHERE id IN ? AND status = 'available'`, rows affected checked); delivery
// marks reserved (or, topping up, available) rows used with another guarded UPDATE. So one
// statement suffices here: lock available rows the sales have not locked (SKIP LOCKED), move them
// into `standin_card_rows` and delete them from card_secrets. A checkout that locked a row first
// keeps it; one that comes after no longer finds it; a delivery topping up from a row read before
// the move finds its guarded UPDATE short and rolls back (the order stays paid, and is escrowed).
// Out of the table, no sale and no admin edit can reach a consigned key; a recall puts the same
// rows back. Key id = card_secrets.id as text; sku = "<product_id>:<sku_id>".
import { z } from 'zod'
import { LIMITS } from '../../protocol/index.js'
import { AdapterError, type CardKey, type Logger } from '../contract.js'
import { inTransactionRetrying, type PgClient, type PgPool, selectRows, unavailableOr } from '../postgres/db.js'
import { deliveredByHand } from '../postgres/hand-delivered.js'
import { sha256Hex } from '../shop-db/hand-delivered.js'
import { CARD_STATUS, FULFILLMENT, RowId } from './schema.js'

export interface StockOptions {
  readonly pool: PgPool
  readonly logger: Logger
  readonly now: () => number
}

/** The product and sku ids a sku names. */
export function parseSku(sku: string): { productId: string; skuId: string } {
  const match = /^([1-9]\d{0,18}):(\d{1,19})$/.exec(sku)
  if (match === null) throw new AdapterError('unknown_sku', `sku: ${sku} is not a Dujiao-Next sku (skus are "<product_id>:<sku_id>", e.g. "12:34", or "12:0")`)
  return { productId: match[1] as string, skuId: match[2] as string }
}

const ProductRow = z.object({ fulfillment_type: z.string(), is_active: z.boolean(), sku_found: z.boolean(), sku_active: z.boolean().nullable() })
const CardRow = z.object({ id: RowId, secret: z.string() })
const TakenRow = z.object({ card_id: RowId, sku: z.string(), state: z.string(), secret_sha: z.string() })

export async function takeStock(o: StockOptions, sku: string, count: number): Promise<CardKey[]> {
  const { productId, skuId } = parseSku(sku)
  try {
    const cards = await inTransactionRetrying(o.pool, async (client) => {
      const [product] = await selectRows(
        client,
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
      // Newest first (Dujiao-Next sells the oldest). Never a key given back (the node refuses a key
      // id it has seen) or a text a person delivered by hand.
      return selectRows(
        client,
        CardRow,
        `WITH picked AS (
           SELECT c.id FROM card_secrets c
           WHERE c.product_id = $1 AND c.sku_id = $2 AND c.status = $3 AND c.order_id IS NULL AND c.deleted_at IS NULL
             AND octet_length(c.secret) BETWEEN 1 AND $4
             AND NOT EXISTS (SELECT 1 FROM standin_cards s WHERE s.card_id = c.id AND s.state = 'returned')
             AND NOT ${deliveredByHand('c.secret')}
           ORDER BY c.id DESC LIMIT $5 FOR UPDATE SKIP LOCKED),
         moved AS (DELETE FROM card_secrets c USING picked WHERE c.id = picked.id AND c.status = $3 RETURNING c.*)
         INSERT INTO standin_card_rows SELECT * FROM moved RETURNING id, secret`,
        [productId, skuId, CARD_STATUS.available, LIMITS.maxCardKeyBytes, count],
      ).then(async (rows) => {
        if (rows.length > 0) await recordTaken(client, rows, sku, o.now())
        return rows
      })
    })
    if (cards.length > 0) o.logger.info({ sku, keys: cards.length }, 'Dujiao-Next keys consigned (moved out of card_secrets)')
    return cards.map((c) => ({ keyId: c.id, key: c.secret }))
  } catch (error) {
    throw unavailableOr(error)
  }
}

async function recordTaken(client: PgClient, rows: readonly { id: string; secret: string }[], sku: string, at: number): Promise<void> {
  await client.query(
    `INSERT INTO standin_cards (card_id, sku, state, secret_sha, order_no, changed_ms)
     SELECT id, $2, 'consigned', sha, NULL, $4 FROM unnest($1::bigint[], $3::text[]) AS t(id, sha)
     ON CONFLICT (card_id) DO UPDATE SET sku = EXCLUDED.sku, state = EXCLUDED.state, secret_sha = EXCLUDED.secret_sha, order_no = NULL, changed_ms = EXCLUDED.changed_ms`,
    [rows.map((r) => r.id), sku, rows.map((r) => sha256Hex(r.secret)), at],
  )
}

/** Moves consigned rows back into card_secrets: as they were, or used by `order` (a child order's id; null when the order is not ours to name). */
export async function restoreRows(client: PgClient, ids: readonly string[], used: { orderId: string | null } | null): Promise<void> {
  if (ids.length === 0) return
  await client.query('INSERT INTO card_secrets SELECT * FROM standin_card_rows WHERE id = ANY($1::bigint[])', [ids])
  await client.query('DELETE FROM standin_card_rows WHERE id = ANY($1::bigint[])', [ids])
  if (used !== null)
    await client.query(
      'UPDATE card_secrets SET status = $2, order_id = $3, used_at = NOW(), reserved_at = NULL, updated_at = NOW() WHERE id = ANY($1::bigint[])',
      [ids, CARD_STATUS.used, used.orderId],
    )
}

export async function returnStock(o: StockOptions, sku: string, keys: readonly CardKey[]): Promise<void> {
  parseSku(sku)
  if (keys.length === 0) return
  const ids = keys.map((k) => k.keyId)
  if (!ids.every((id) => /^\d{1,19}$/.test(id)))
    throw new AdapterError('unknown_key', `keys: ${ids.find((id) => !/^\d{1,19}$/.test(id))} is not a Dujiao-Next key id`)
  try {
    await inTransactionRetrying(o.pool, async (client) => {
      const taken = await selectRows(
        client,
        TakenRow,
        'SELECT card_id, sku, state, secret_sha FROM standin_cards WHERE card_id = ANY($1::bigint[]) FOR UPDATE',
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
      await restoreRows(client, restore, null)
      if (restore.length > 0)
        await client.query("UPDATE standin_cards SET state = 'returned', changed_ms = $2 WHERE card_id = ANY($1::bigint[])", [restore, o.now()])
    })
  } catch (error) {
    throw unavailableOr(error)
  }
}

/** Rows in `standin_card_rows` must match card_secrets' columns; an upgrade that changed them is caught at start. */
export async function checkShadowTable(pool: PgPool): Promise<void> {
  const columns = async (table: string) =>
    (
      await selectRows(
        pool,
        z.object({ c: z.string() }),
        'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
        [table],
      )
    )
      .map((r) => r.c)
      .join(',')
  if ((await columns('card_secrets')) === (await columns('standin_card_rows'))) return
  const [held] = await selectRows(pool, z.object({ n: z.coerce.number() }), 'SELECT COUNT(*) AS n FROM standin_card_rows')
  if ((held?.n ?? 0) > 0)
    throw new Error(
      `Dujiao-Next's card_secrets table changed columns (an upgrade?) while standin_card_rows holds ${held?.n} consigned keys: recall them with the old columns first, or align standin_card_rows by hand`,
    )
  await pool.query('DROP TABLE standin_card_rows')
  await pool.query('CREATE TABLE standin_card_rows (LIKE card_secrets INCLUDING DEFAULTS)')
}
