// Partner deliveries written back into acg-faka after a takeover: the order's `secret` becomes the
// partner's keys (one per line, as acg-faka joins them) and `delivery_status` 1, so the buyer's
// order query shows them and acg-faka never delivers the order again. The consigned cards the
// partner used go back into the card table as sold to that order. Idempotent per (order, fulfiller).
import { z } from 'zod'
import type { Logger, PartnerDelivery } from '../contract.js'
import { inTransactionRetrying, type Pool, type PoolConnection, selectRows, unavailableOr } from '../mysql/db.js'
import { stranded } from './orders.js'
import { CARD_STATUS, DELIVERY_STATUS, DELIVERY_WAY, ORDER_STATUS, OrderRow, orderSelect, RowId, type Tables } from './schema.js'
import { restoreRows } from './stock.js'

export type WriteBackResult = 'applied' | 'repeated' | 'duplicate' | 'unknown-order' | 'conflict' | 'manual'

export interface WriteBackOptions {
  readonly pool: Pool
  readonly logger: Logger
  readonly tables: Tables
  readonly now: () => number
}

const TakenRow = z.object({ card_id: RowId, state: z.string() })

/** Marks our consigned cards the partner delivered; returns how many were back in stock (a recall raced the delivery). */
async function markCardsDelivered(connection: PoolConnection, o: WriteBackOptions, delivery: PartnerDelivery, orderId: string | null): Promise<number> {
  const ids = delivery.keys.map((k) => k.keyId).filter((id) => /^\d{1,20}$/.test(id))
  if (ids.length === 0) return 0
  const taken = await selectRows(connection, TakenRow, 'SELECT card_id, state FROM standin_cards WHERE card_id IN (?) FOR UPDATE', [ids])
  const consigned = taken.filter((r) => r.state === 'consigned').map((r) => r.card_id)
  const returned = taken.filter((r) => r.state === 'returned').map((r) => r.card_id)
  await restoreRows(connection, o.tables, consigned, orderId === null ? null : { orderId })
  if (orderId === null && consigned.length > 0)
    await connection.query(`UPDATE \`${o.tables.card}\` SET status = ? WHERE id IN (?)`, [CARD_STATUS.sold, consigned])
  // Recalled into stock, then delivered by the partner anyway: off sale for good.
  if (returned.length > 0)
    await connection.query(`UPDATE \`${o.tables.card}\` SET status = ?, order_id = COALESCE(order_id, ?) WHERE id IN (?)`, [
      CARD_STATUS.sold,
      orderId,
      returned,
    ])
  const marked = [...consigned, ...returned]
  if (marked.length > 0)
    await connection.query("UPDATE standin_cards SET state = 'delivered', trade_no = ?, changed_ms = ? WHERE card_id IN (?)", [delivery.order, o.now(), marked])
  return returned.length
}

export async function writeBack(o: WriteBackOptions, delivery: PartnerDelivery): Promise<WriteBackResult> {
  const t = o.tables
  let outcome: { result: WriteBackResult; raced: number }
  try {
    outcome = await inTransactionRetrying(o.pool, async (connection) => {
      const [order] = await selectRows(connection, OrderRow, `${orderSelect(t)} WHERE o.trade_no = ? FOR UPDATE`, [delivery.order])
      const [prior] = await selectRows(
        connection,
        z.object({ result: z.string() }),
        'SELECT result FROM standin_writebacks WHERE trade_no = ? AND fulfiller = ? FOR UPDATE',
        [delivery.order, delivery.fulfiller],
      )
      if (prior !== undefined) return { result: 'repeated' as const, raced: 0 }
      const at = o.now()
      let result: WriteBackResult
      if (order === undefined) result = 'unknown-order'
      else if (order.delivery_way === DELIVERY_WAY.manual) result = 'manual'
      else if (order.status !== ORDER_STATUS.paid) result = 'conflict'
      else if (!stranded(order))
        result = 'duplicate' // served by the shop: its cards, or a person's text
      else {
        await connection.query(`UPDATE \`${t.order}\` SET secret = ?, delivery_status = ? WHERE id = ?`, [
          delivery.keys.map((k) => k.key).join('\n'),
          DELIVERY_STATUS.delivered,
          order.id,
        ])
        await connection.query(
          `INSERT INTO standin_orders (trade_no, state, paid_at_ms, secret_sha, note, changed_ms) VALUES (?, 'written-back', NULL, NULL, ?, ?)
           ON DUPLICATE KEY UPDATE state = 'written-back', note = VALUES(note), changed_ms = VALUES(changed_ms)`,
          [delivery.order, `delivered by ${delivery.fulfillerName}`.slice(0, 500), at],
        )
        result = 'applied'
      }
      const raced = await markCardsDelivered(connection, o, delivery, result === 'applied' && order !== undefined ? order.id : null)
      await connection.query(
        'INSERT INTO standin_writebacks (trade_no, fulfiller, result, key_ids, epoch, delivered_at_ms, recorded_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [delivery.order, delivery.fulfiller, result, JSON.stringify(delivery.keys.map((k) => k.keyId)), delivery.epoch, delivery.deliveredAt, at],
      )
      return { result, raced }
    })
  } catch (error) {
    throw unavailableOr(error)
  }
  const fields = { order: delivery.order, fulfiller: delivery.fulfiller, keyIds: delivery.keys.map((k) => k.keyId) }
  if (outcome.raced > 0) o.logger.error({ ...fields, raced: outcome.raced }, 'partner delivered cards that were back in our stock: taken off sale, reconcile')
  if (outcome.result === 'applied') o.logger.info(fields, 'partner delivery written back to acg-faka')
  else if (outcome.result === 'duplicate') o.logger.warn(fields, 'duplicate delivery: acg-faka had served this order itself; its own delivery is kept')
  else if (outcome.result !== 'repeated')
    o.logger.error(
      { ...fields, result: outcome.result },
      'partner delivery for an order acg-faka does not hold as waiting; recorded in standin_writebacks, reconcile by hand',
    )
  return outcome.result
}
