// Handback: recording in dujiaoka that a partner delivered one of its orders. The order gets the
// partner's keys in `info` (joined by newlines, as dujiaoka stores its own) and status 4, so the
// buyer's order query shows them. Idempotent per (order, fulfiller) through standin_writebacks:
//
//   paid, not delivered (2, 3, 6)   → applied
//   same (order, fulfiller) again   → nothing (a retry)
//   already completed (4)           → duplicate: recorded and logged, the shop's own keys stay
//   unknown, unpaid, failed, deleted → recorded and logged for the operator; nothing else changes
// In every case the delivered keys that were ours are marked delivered, so a recall can never put
// them back on sale.
import type { Logger, PartnerDelivery } from '../contract.js'
import { z } from 'zod'
import { inTransaction, type Pool, type PoolConnection, selectRows, unavailableOr } from '../mysql/db.js'
import { CARMI_STATUS, MANUAL_TYPE, ORDER_STATUS, PAID_WAITING, RowId } from './schema.js'

export type WriteBackResult = 'applied' | 'repeated' | 'duplicate' | 'unknown-order' | 'conflict' | 'too-long' | 'manual'

/** `orders.info` is TEXT. Longer text fails in strict SQL mode (and would block every write-back after it) or is cut short. */
export const MAX_ORDER_INFO_BYTES = 65_535

export interface WriteBackOptions {
  readonly pool: Pool
  readonly logger: Logger
  readonly now: () => number
}

const OrderLock = z.object({ id: RowId, type: z.coerce.number().int(), status: z.coerce.number().int(), deleted_at: z.string().nullable() })
const KeyState = z.object({ carmis_id: RowId, state: z.string(), status: z.coerce.number().int().nullable() })

/** Marks our consigned keys that the partner delivered; returns how many were in our stock or sold by us (double deliveries). */
async function markKeysDelivered(connection: PoolConnection, delivery: PartnerDelivery, at: number): Promise<number> {
  const ids = delivery.keys.map((k) => k.keyId).filter((id) => /^\d{1,20}$/.test(id))
  if (ids.length === 0) return 0
  const rows = await selectRows(
    connection,
    KeyState,
    'SELECT s.carmis_id, s.state, c.status FROM standin_consigned s LEFT JOIN carmis c ON c.id = s.carmis_id WHERE s.carmis_id IN (?) FOR UPDATE',
    [ids],
  )
  let conflicts = 0
  const mark: string[] = []
  for (const row of rows) {
    if (row.state === 'delivered') continue
    // Back on sale (returned) or sold by us: the key reached two buyers, or could.
    if (row.state !== 'consigned') conflicts++
    mark.push(row.carmis_id)
  }
  if (mark.length === 0) return conflicts
  // Off sale for good, whatever it was: a key a partner delivered must never be sold again.
  await connection.query('UPDATE carmis SET status = ?, deleted_at = COALESCE(deleted_at, NOW()) WHERE id IN (?) AND status = ?', [
    CARMI_STATUS.standin,
    mark,
    CARMI_STATUS.unsold,
  ])
  await connection.query("UPDATE standin_consigned SET state = 'delivered', order_sn = ?, changed_ms = ? WHERE carmis_id IN (?)", [delivery.order, at, mark])
  return conflicts
}

export async function writeBack(o: WriteBackOptions, delivery: PartnerDelivery): Promise<WriteBackResult> {
  let outcome: { result: WriteBackResult; keyConflicts: number }
  try {
    outcome = await inTransaction(o.pool, async (connection) => {
      const [order] = await selectRows(connection, OrderLock, 'SELECT id, type, status, deleted_at FROM orders WHERE order_sn = ? FOR UPDATE', [delivery.order])
      const [prior] = await selectRows(
        connection,
        z.object({ result: z.string() }),
        'SELECT result FROM standin_writebacks WHERE order_sn = ? AND fulfiller = ? FOR UPDATE',
        [delivery.order, delivery.fulfiller],
      )
      if (prior !== undefined) return { result: 'repeated' as const, keyConflicts: 0 }
      const at = o.now()
      let result: WriteBackResult
      const keysText = delivery.keys.map((k) => k.key).join('\n')
      const fits = Buffer.byteLength(keysText, 'utf8') <= MAX_ORDER_INFO_BYTES
      // Too long for the column: the order is still completed (so dujiaoka never delivers it
      // again), with a note; the buyer has every key from the partner's mail and claim page.
      const info = fits
        ? keysText
        : `${delivery.keys.length} keys delivered by ${delivery.fulfillerName} through Standin: too many to show here; the delivery email and the claim page have them all.`
      if (order === undefined) result = 'unknown-order'
      // Never escrowed (orders.ts): its info is the buyer's own input, kept.
      else if (order.type === MANUAL_TYPE) result = 'manual'
      else if (order.deleted_at === null && PAID_WAITING.has(order.status)) {
        // updated_at is left alone: dujiaoka writes it as China wall-clock text, which a server in
        // another zone keeps hours off real time; our NOW() among those values could move the
        // bridge's cursor past orders dujiaoka updates next. standin_orders already says written-back.
        await connection.query('UPDATE orders SET info = ?, status = ? WHERE id = ?', [info, ORDER_STATUS.completed, order.id])
        await connection.query(
          `INSERT INTO standin_orders (order_sn, state, paid_at_ms, note, changed_ms) VALUES (?, 'written-back', NULL, ?, ?)
           ON DUPLICATE KEY UPDATE state = 'written-back', note = VALUES(note), changed_ms = VALUES(changed_ms)`,
          [delivery.order, `delivered by ${delivery.fulfillerName}`.slice(0, 500), at],
        )
        result = fits ? 'applied' : 'too-long'
      } else result = order.deleted_at === null && order.status === ORDER_STATUS.completed ? 'duplicate' : 'conflict'
      const keyConflicts = await markKeysDelivered(connection, delivery, at)
      await connection.query(
        'INSERT INTO standin_writebacks (order_sn, fulfiller, result, key_ids, epoch, delivered_at_ms, recorded_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [delivery.order, delivery.fulfiller, result, JSON.stringify(delivery.keys.map((k) => k.keyId)), delivery.epoch, delivery.deliveredAt, at],
      )
      return { result, keyConflicts }
    })
  } catch (error) {
    throw unavailableOr(error)
  }
  const fields = { order: delivery.order, fulfiller: delivery.fulfiller, keyIds: delivery.keys.map((k) => k.keyId) }
  if (outcome.keyConflicts > 0)
    o.logger.error(
      { ...fields, keyConflicts: outcome.keyConflicts },
      'partner delivered keys that were back in our stock or sold by us: taken off sale, reconcile',
    )
  if (outcome.result === 'applied') o.logger.info(fields, 'partner delivery written back to dujiaoka')
  else if (outcome.result === 'duplicate') o.logger.warn(fields, 'duplicate delivery: dujiaoka had completed this order itself; its own keys are kept')
  else if (outcome.result === 'too-long')
    o.logger.warn(
      { ...fields, maxBytes: MAX_ORDER_INFO_BYTES },
      "partner delivery written back with a note: its keys do not fit dujiaoka's orders.info (the buyer has them from the partner)",
    )
  else if (outcome.result === 'unknown-order' || outcome.result === 'conflict' || outcome.result === 'manual')
    o.logger.error(
      { ...fields, result: outcome.result },
      'partner delivery for an order dujiaoka does not hold as paid; recorded in standin_writebacks, reconcile by hand',
    )
  return outcome.result
}
