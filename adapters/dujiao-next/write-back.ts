// Partner deliveries written back into Dujiao-Next after a takeover, as an admin's manual delivery
// would be: a fulfillment row (type manual, status delivered, payload = the partner's keys one per
// line) and the child order `delivered`, its parent's status derived again as Dujiao-Next does. The
// buyer's order page then shows the keys and Dujiao-Next never delivers the order again (its
// automatic delivery needs status `paid` and no fulfillment; the fulfillment's unique order_id
// settles a race with it). Keys still reserved for the order go back on sale; the consigned keys
// the partner used go back into card_secrets as used by the order. Idempotent per (order, fulfiller).
import { z } from 'zod'
import type { Logger, PartnerDelivery } from '../contract.js'
import { type Dialect, forUpdate, inIds, type Queryable, selectRows, type SqlDatabase } from '../shop-db/sql.js'
import { TIME_SQL } from './dialect.js'
import { stranded } from './orders.js'
import { CARD_STATUS, FULFILLMENT, ORDER_STATUS, orderSelect, OrderRow, parentStatus, RowId } from './schema.js'
import { restoreRows } from './stock.js'

export type WriteBackResult = 'applied' | 'repeated' | 'duplicate' | 'unknown-order' | 'conflict' | 'manual'

export interface WriteBackOptions {
  readonly db: SqlDatabase
  readonly logger: Logger
  readonly now: () => number
}

const TakenRow = z.object({ card_id: RowId, state: z.string() })

/** Marks our consigned keys the partner delivered; returns how many were back in stock (a recall raced the delivery). */
async function markCardsDelivered(tx: Queryable, o: WriteBackOptions, delivery: PartnerDelivery, orderId: string | null): Promise<number> {
  const dialect = o.db.dialect
  const ids = delivery.keys.map((k) => k.keyId).filter((id) => /^\d{1,19}$/.test(id))
  if (ids.length === 0) return 0
  const taken = await selectRows(tx, TakenRow, `SELECT card_id, state FROM standin_cards WHERE ${inIds(dialect, 'card_id', '$1')}${forUpdate(dialect)}`, [ids])
  const consigned = taken.filter((r) => r.state === 'consigned').map((r) => r.card_id)
  const returned = taken.filter((r) => r.state === 'returned').map((r) => r.card_id)
  await restoreRows(tx, dialect, consigned, { orderId })
  // Recalled into stock, then delivered by the partner anyway: off sale for good.
  const now = TIME_SQL[dialect].now
  if (returned.length > 0)
    await tx.query(
      `UPDATE card_secrets SET status = $2, order_id = COALESCE(order_id, $3), used_at = ${now}, reserved_at = NULL, updated_at = ${now} WHERE ${inIds(dialect, 'id', '$1')}`,
      [returned, CARD_STATUS.used, orderId],
    )
  const marked = [...consigned, ...returned]
  if (marked.length > 0)
    await tx.query(`UPDATE standin_cards SET state = 'delivered', order_no = $2, changed_ms = $3 WHERE ${inIds(dialect, 'card_id', '$1')}`, [
      marked,
      delivery.order,
      o.now(),
    ])
  return returned.length
}

/** The child order delivered, its reserved keys released, and its parent's status derived again. */
async function applyDelivery(tx: Queryable, dialect: Dialect, order: OrderRow, delivery: PartnerDelivery): Promise<boolean> {
  const t = TIME_SQL[dialect]
  const inserted = await tx.query(
    `INSERT INTO fulfillments (order_id, type, status, payload, delivered_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, ${t.fromMs('$5')}, ${t.now}, ${t.now}) ON CONFLICT (order_id) DO NOTHING`,
    [order.id, FULFILLMENT.manual, FULFILLMENT.delivered, delivery.keys.map((k) => k.key).join('\n'), delivery.deliveredAt],
  )
  if (inserted.rowCount !== 1) return false
  await tx.query(`UPDATE orders SET status = $2, updated_at = ${t.now} WHERE id = $1`, [order.id, ORDER_STATUS.delivered])
  await tx.query(
    `UPDATE card_secrets SET status = $2, order_id = NULL, reserved_at = NULL, updated_at = ${t.now} WHERE order_id = $1 AND status = $3 AND deleted_at IS NULL`,
    [order.id, CARD_STATUS.available, CARD_STATUS.reserved],
  )
  const [parent] = await selectRows(tx, z.object({ parent_id: RowId.nullable() }), 'SELECT parent_id FROM orders WHERE id = $1', [order.id])
  if (parent?.parent_id == null) return true
  const children = await selectRows(
    tx,
    z.object({ status: z.string() }),
    `SELECT status FROM orders WHERE parent_id = $1 AND deleted_at IS NULL ORDER BY id${forUpdate(dialect)}`,
    [parent.parent_id],
  )
  const derived = parentStatus(children.map((c) => c.status))
  if (derived !== null) await tx.query(`UPDATE orders SET status = $2, updated_at = ${t.now} WHERE id = $1 AND status <> $2`, [parent.parent_id, derived])
  return true
}

export async function writeBack(o: WriteBackOptions, delivery: PartnerDelivery): Promise<WriteBackResult> {
  const dialect = o.db.dialect
  let outcome: { result: WriteBackResult; raced: number }
  try {
    outcome = await o.db.transaction(async (tx) => {
      const [order] = await selectRows(tx, OrderRow, `${orderSelect(dialect)} WHERE o.order_no = $1${forUpdate(dialect, 'o')}`, [delivery.order])
      const [prior] = await selectRows(
        tx,
        z.object({ result: z.string() }),
        `SELECT result FROM standin_writebacks WHERE order_no = $1 AND fulfiller = $2${forUpdate(dialect)}`,
        [delivery.order, delivery.fulfiller],
      )
      if (prior !== undefined) return { result: 'repeated' as const, raced: 0 }
      const at = o.now()
      let result: WriteBackResult
      if (order === undefined || order.deleted || order.items !== 1) result = 'unknown-order'
      else if (order.item_type !== FULFILLMENT.auto) result = 'manual'
      else if (order.fulfillment_type !== null || [ORDER_STATUS.delivered, ORDER_STATUS.completed].includes(order.status as 'delivered'))
        result = 'duplicate' // served by the shop itself, or by a person
      else if (!stranded(order)) result = 'conflict'
      else if (!(await applyDelivery(tx, dialect, order, delivery)))
        result = 'duplicate' // Dujiao-Next's own delivery won the race
      else {
        await tx.query(
          `INSERT INTO standin_orders (order_no, state, paid_at_ms, note, changed_ms) VALUES ($1, 'written-back', NULL, $2, $3)
           ON CONFLICT (order_no) DO UPDATE SET state = 'written-back', note = EXCLUDED.note, changed_ms = EXCLUDED.changed_ms`,
          [delivery.order, `delivered by ${delivery.fulfillerName}`.slice(0, 500), at],
        )
        result = 'applied'
      }
      const raced = await markCardsDelivered(tx, o, delivery, result === 'applied' && order !== undefined ? order.id : null)
      await tx.query(
        'INSERT INTO standin_writebacks (order_no, fulfiller, result, key_ids, epoch, delivered_at_ms, recorded_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [delivery.order, delivery.fulfiller, result, JSON.stringify(delivery.keys.map((k) => k.keyId)), delivery.epoch, delivery.deliveredAt, at],
      )
      return { result, raced }
    })
  } catch (error) {
    throw o.db.unavailableOr(error)
  }
  const fields = { order: delivery.order, fulfiller: delivery.fulfiller, keyIds: delivery.keys.map((k) => k.keyId) }
  if (outcome.raced > 0) o.logger.error({ ...fields, raced: outcome.raced }, 'partner delivered keys that were back in our stock: taken off sale, reconcile')
  if (outcome.result === 'applied') o.logger.info(fields, 'partner delivery written back to Dujiao-Next')
  else if (outcome.result === 'duplicate') o.logger.warn(fields, 'duplicate delivery: Dujiao-Next had served this order itself; its own delivery is kept')
  else if (outcome.result !== 'repeated')
    o.logger.error(
      { ...fields, result: outcome.result },
      'partner delivery for an order Dujiao-Next does not hold as waiting; recorded in standin_writebacks, reconcile by hand',
    )
  return outcome.result
}
