// What the adapter reads from dujiaoka 2.0.6's tables (validated with zod, since the database is
// outside our control), and the tables it keeps for itself beside them (prefix `standin_`; it
// never alters dujiaoka's own tables).
import { z } from 'zod'
import type { Queryable } from '../mysql/db.js'
import { SHOP_DELIVERED_DDL } from '../mysql/hand-delivered.js'

// ---- dujiaoka's values ----

export const ORDER_STATUS = {
  waitPay: 1,
  pending: 2, // paid, waiting for manual handling
  processing: 3,
  completed: 4,
  failure: 5,
  abnormal: 6, // paid, not enough keys
  expired: -1,
} as const
/** Paid but not delivered: what the bridge escrows. */
export const PAID_WAITING: ReadonlySet<number> = new Set([ORDER_STATUS.pending, ORDER_STATUS.processing, ORDER_STATUS.abnormal])

export const CARMI_STATUS = {
  unsold: 1,
  sold: 2,
  /**
   * Ours, not dujiaoka's: taken by Standin. dujiaoka selects `status = 1` and marks sold by id,
   * so a key in this state is never picked for a sale (see stock.ts for why a marker is needed
   * on top of the soft delete).
   */
  standin: 3,
} as const

/** Goods type 1: keys delivered automatically from `carmis`. */
export const GOODS_AUTOMATIC = 1
/**
 * Goods and orders of type 2: delivered by a person. Such an order's `info` holds what the buyer
 * typed at checkout (lines `<label>:<value>`, e.g. the account to top up), not keys.
 */
export const MANUAL_TYPE = 2
/** `goods.is_open` of goods on sale (0: off sale, 下架). */
export const GOODS_OPEN = 1

/** Integer ids arrive as numbers or, for BIGINT, text; we carry them as decimal text. */
export const RowId = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String)
/** A TIMESTAMP as mysql2 returns it with dateStrings, in our UTC session. */
export const DbTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/, 'must be YYYY-MM-DD HH:MM:SS')
  .refine((text) => Number.isFinite(Date.parse(`${text.replace(' ', 'T')}Z`)), 'must be a real date (not a zero date)')
const SmallInt = z.coerce.number().int()

export const OrderRow = z.object({
  id: RowId,
  order_sn: z.string().min(1),
  goods_id: RowId,
  type: SmallInt,
  email: z.string().nullable(),
  actual_price: z.union([z.string(), z.number()]).transform(String),
  buy_amount: SmallInt,
  status: SmallInt,
  search_pwd: z.string().nullable(),
  info: z.string().nullable(),
  updated_at: DbTime,
  deleted_at: DbTime.nullable(),
})
export type OrderRow = z.infer<typeof OrderRow>

/** Columns of `orders` the bridge reads, in OrderRow's shape. */
export const ORDER_COLUMNS = 'id, order_sn, goods_id, type, email, actual_price, buy_amount, status, search_pwd, info, updated_at, deleted_at'

export const CarmiRow = z.object({ id: RowId, carmi: z.string(), status: SmallInt, deleted_at: DbTime.nullable() })
export type CarmiRow = z.infer<typeof CarmiRow>

/** ms since the epoch of a DbTime read in a UTC session. */
export function dbTimeMs(text: string): number {
  const ms = Date.parse(`${text.replace(' ', 'T')}Z`)
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${text}`)
  return ms
}

/** The DbTime of `ms` (second precision, as dujiaoka's TIMESTAMP columns keep). */
export function dbTimeText(ms: number): string {
  return new Date(Math.max(0, ms)).toISOString().slice(0, 19).replace('T', ' ')
}

// ---- Standin's own tables ----

export type OrderState = 'submitting' | 'escrowed' | 'delivered' | 'cancelled' | 'written-back' | 'invalid' | 'conflict'
export type ConsignState = 'settling' | 'consigned' | 'returned' | 'delivered' | 'raced' | 'aborted'

const DDL = [
  // The bridge's position in `orders`, by (updated_at, id).
  `CREATE TABLE IF NOT EXISTS standin_cursor (
    name VARCHAR(32) NOT NULL PRIMARY KEY,
    updated_at VARCHAR(32) NOT NULL,
    last_id VARCHAR(20) NOT NULL,
    moved_ms BIGINT NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  // What the bridge told the node about each order it escrowed (or could not).
  `CREATE TABLE IF NOT EXISTS standin_orders (
    order_sn VARCHAR(150) NOT NULL PRIMARY KEY,
    state VARCHAR(16) NOT NULL,
    paid_at_ms BIGINT NULL,
    note VARCHAR(500) NULL,
    changed_ms BIGINT NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  // Every carmis row Standin took: which take (batch) it went out in and where it is now.
  `CREATE TABLE IF NOT EXISTS standin_consigned (
    carmis_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    goods_id BIGINT UNSIGNED NOT NULL,
    batch CHAR(36) NOT NULL,
    state VARCHAR(16) NOT NULL,
    carmi_sha256 CHAR(64) NOT NULL,
    order_sn VARCHAR(150) NULL,
    taken_ms BIGINT NOT NULL,
    changed_ms BIGINT NOT NULL,
    KEY standin_consigned_batch (batch),
    KEY standin_consigned_sha (carmi_sha256),
    KEY standin_consigned_state (state, goods_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  // Small singletons: the fence.
  `CREATE TABLE IF NOT EXISTS standin_state (
    name VARCHAR(32) NOT NULL PRIMARY KEY,
    value VARCHAR(255) NOT NULL,
    changed_ms BIGINT NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  // Partner deliveries written back, one row per (order, fulfiller): what makes write-back idempotent.
  `CREATE TABLE IF NOT EXISTS standin_writebacks (
    order_sn VARCHAR(150) NOT NULL,
    fulfiller VARCHAR(64) NOT NULL,
    result VARCHAR(16) NOT NULL,
    key_ids TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    delivered_at_ms BIGINT NOT NULL,
    recorded_ms BIGINT NOT NULL,
    PRIMARY KEY (order_sn, fulfiller)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  // Texts of keys a person delivered by hand (../mysql/hand-delivered.ts): never consigned.
  SHOP_DELIVERED_DDL,
  // Keys found both in a shop-delivered order and among consigned keys (should stay empty).
  `CREATE TABLE IF NOT EXISTS standin_conflicts (
    order_sn VARCHAR(150) NOT NULL,
    carmis_id BIGINT UNSIGNED NOT NULL,
    detected_ms BIGINT NOT NULL,
    PRIMARY KEY (order_sn, carmis_id)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
]

/** Creates Standin's tables if missing (idempotent; safe while dujiaoka runs). */
export async function ensureStandinTables(db: Queryable): Promise<void> {
  for (const statement of DDL) await db.query(statement)
}
