// What the Dujiao-Next adapter reads from Dujiao-Next's tables on PostgreSQL or SQLite (created by
// its GORM AutoMigrate; validated here with zod: the database is outside our control), the columns
// checked at start, and the tables Standin keeps beside them (prefix `standin_`; it never alters
// Dujiao-Next's).
//
// An order in Dujiao-Next is a parent (what the buyer paid, no items) with one child per line
// (`order_no` = the parent's + "-01", …). Each child holds exactly one item, its keys' reservations
// and its fulfillment: Standin's order is the child. Its sku is "<product_id>:<sku_id>".
import { z } from 'zod'
import type { RequiredColumns } from '../shop-db/columns.js'
import { checkColumns } from '../shop-db/sql-columns.js'
import { SHOP_DELIVERED_DDL } from '../shop-db/sql-hand-delivered.js'
import { type Dialect, SqlBool, type SqlDatabase } from '../shop-db/sql.js'
import { TIME_SQL } from './dialect.js'

export const ORDER_STATUS = {
  pendingPayment: 'pending_payment',
  paid: 'paid',
  fulfilling: 'fulfilling',
  partiallyDelivered: 'partially_delivered',
  partiallyRefunded: 'partially_refunded',
  delivered: 'delivered',
  completed: 'completed',
  canceled: 'canceled',
  refunded: 'refunded',
} as const
export const CARD_STATUS = { available: 'available', reserved: 'reserved', used: 'used' } as const
export const FULFILLMENT = { auto: 'auto', manual: 'manual', delivered: 'delivered' } as const

/** Every column of Dujiao-Next's that the adapter uses, with what for. */
export const REQUIRED_COLUMNS: RequiredColumns = {
  orders: {
    id: 'order ids',
    order_no: 'the order number',
    parent_id: 'parent and child orders',
    user_id: "a member's email",
    guest_email: "the buyer's email",
    guest_password: 'the claim secret (order query password)',
    status: 'paid, delivered or cancelled',
    currency: 'the currency',
    total_amount: 'the amount',
    paid_at: 'when it was paid',
    updated_at: 'the cursor',
    deleted_at: 'soft delete',
  },
  order_items: {
    order_id: 'the order of an item',
    product_id: 'the sku',
    sku_id: 'the sku',
    quantity: 'the quantity',
    fulfillment_type: 'automatic or manual delivery',
    deleted_at: 'soft delete',
  },
  card_secrets: {
    id: 'key ids',
    product_id: 'the sku of a key',
    sku_id: 'the sku of a key',
    secret: 'the key text',
    status: 'available, reserved or used',
    order_id: 'the order a key went to',
    reserved_at: 'reservations',
    used_at: 'when a key was sold',
    updated_at: 'changes',
    deleted_at: 'soft delete',
  },
  fulfillments: {
    order_id: 'the order delivered',
    type: 'automatic or manual delivery',
    status: 'delivered or not',
    payload: 'the delivered keys',
    delivered_at: 'when it was delivered',
    created_at: 'the fulfillment row',
    updated_at: 'the fulfillment row',
    deleted_at: 'soft delete',
  },
  products: { id: 'skus', fulfillment_type: 'automatic or manual delivery', is_active: 'on or off sale', deleted_at: 'soft delete' },
  product_skus: { id: 'skus', product_id: 'the product of a sku', is_active: 'on or off sale', deleted_at: 'soft delete' },
  users: { id: 'members', email: "a member's email" },
}

/** Throws, naming every missing column, unless Dujiao-Next's tables have all the adapter uses. */
export function checkShopSchema(db: SqlDatabase): Promise<void> {
  const hint =
    db.dialect === 'postgres'
      ? 'Is this Dujiao-Next on PostgreSQL, with the database (and search_path) of its config.yml? See adapters/dujiao-next/README.md.'
      : "Is this Dujiao-Next's SQLite file (its config.yml database.dsn), after Dujiao-Next's first start made its tables? See adapters/dujiao-next/README.md."
  return checkColumns(db, REQUIRED_COLUMNS, 'Dujiao-Next', hint)
}

export const RowId = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String)

export const OrderRow = z.object({
  id: RowId,
  order_no: z.string().min(1),
  status: z.string(),
  currency: z.string(),
  total_amount: z.string(),
  deleted: SqlBool,
  /** `updated_at` as exact UTC text (./dialect.ts): the cursor. */
  updated: z.string(),
  /** The child's paid_at, else its parent's (Dujiao-Next stamps the parent), in ms; null if neither. */
  paid_at_ms: RowId.nullable(),
  email: z.string().nullable(),
  password: z.string().nullable(),
  /** The child's item (null for a parent, which has none); `items` counts them. */
  product_id: RowId.nullable(),
  sku_id: RowId.nullable(),
  quantity: z.coerce.number().int().nullable(),
  item_type: z.string().nullable(),
  items: z.coerce.number().int(),
  /** The fulfillment row, if any (even soft-deleted: its unique index covers those too). */
  fulfillment_type: z.string().nullable(),
  payload: z.string().nullable(),
})
export type OrderRow = z.infer<typeof OrderRow>

/**
 * The SELECT of OrderRow: `o` the order, `p` its parent, `i` its first item, `f` its fulfillment.
 * The first item is joined by a subquery (SQLite has no LATERAL), the count beside it.
 */
export function orderSelect(dialect: Dialect): string {
  const t = TIME_SQL[dialect]
  return `SELECT o.id, o.order_no, o.status, o.currency, CAST(o.total_amount AS TEXT) AS total_amount, o.deleted_at IS NOT NULL AS deleted,
    ${t.key('o.updated_at')} AS updated, ${t.msOf('COALESCE(o.paid_at, p.paid_at)')} AS paid_at_ms,
    COALESCE(NULLIF(o.guest_email, ''), NULLIF(p.guest_email, ''), u.email) AS email,
    COALESCE(NULLIF(p.guest_password, ''), NULLIF(o.guest_password, '')) AS password,
    i.product_id, i.sku_id, i.quantity, i.fulfillment_type AS item_type,
    (SELECT COUNT(*) FROM order_items n WHERE n.order_id = o.id AND n.deleted_at IS NULL) AS items,
    f.type AS fulfillment_type, f.payload
  FROM orders o
  LEFT JOIN orders p ON p.id = o.parent_id
  LEFT JOIN users u ON u.id = COALESCE(p.user_id, o.user_id) AND COALESCE(p.user_id, o.user_id) <> 0
  LEFT JOIN order_items i ON i.id = (SELECT MIN(m.id) FROM order_items m WHERE m.order_id = o.id AND m.deleted_at IS NULL)
  LEFT JOIN fulfillments f ON f.order_id = o.id`
}

export type OrderState = 'submitting' | 'escrowed' | 'delivered' | 'cancelled' | 'written-back' | 'invalid'

/** `standin_card_rows`: consigned card_secrets rows, the same columns (no constraints). */
export const CARD_ROWS_DDL: Readonly<Record<Dialect, string>> = {
  postgres: 'CREATE TABLE IF NOT EXISTS standin_card_rows (LIKE card_secrets INCLUDING DEFAULTS)',
  sqlite: 'CREATE TABLE IF NOT EXISTS standin_card_rows AS SELECT * FROM card_secrets WHERE 0',
}

/** Standin's tables (standard SQL both engines take). */
const DDL = [
  `CREATE TABLE IF NOT EXISTS standin_cursor (name VARCHAR(32) PRIMARY KEY, updated TEXT NOT NULL, last_id BIGINT NOT NULL, moved_ms BIGINT NOT NULL)`,
  // What the bridge told the node about each order.
  `CREATE TABLE IF NOT EXISTS standin_orders (order_no VARCHAR(150) PRIMARY KEY, state VARCHAR(16) NOT NULL, paid_at_ms BIGINT NULL,
    note VARCHAR(500) NULL, changed_ms BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS standin_orders_state ON standin_orders (state)`,
  // Every key Standin took and where it is now.
  `CREATE TABLE IF NOT EXISTS standin_cards (card_id BIGINT PRIMARY KEY, sku VARCHAR(64) NOT NULL, state VARCHAR(16) NOT NULL,
    secret_sha CHAR(64) NOT NULL, order_no VARCHAR(150) NULL, changed_ms BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS standin_state (name VARCHAR(32) PRIMARY KEY, value VARCHAR(255) NOT NULL, changed_ms BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS standin_writebacks (order_no VARCHAR(150) NOT NULL, fulfiller VARCHAR(64) NOT NULL, result VARCHAR(16) NOT NULL,
    key_ids TEXT NOT NULL, epoch BIGINT NOT NULL, delivered_at_ms BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, PRIMARY KEY (order_no, fulfiller))`,
  SHOP_DELIVERED_DDL,
]

export async function ensureStandinTables(db: SqlDatabase): Promise<void> {
  for (const statement of [...DDL, CARD_ROWS_DDL[db.dialect]]) await db.query(statement)
}

/** The parent's status from its children's, as Dujiao-Next derives it (service/order_status.go, calcParentStatus). */
export function parentStatus(children: readonly string[]): string | null {
  const n = children.length
  if (n === 0) return null
  const count = (s: string) => children.filter((c) => c === s).length
  const S = ORDER_STATUS
  if (count(S.canceled) === n) return S.canceled
  if (count(S.refunded) === n) return S.refunded
  if (count(S.refunded) + count(S.partiallyRefunded) > 0) return S.partiallyRefunded
  if (count(S.completed) === n) return S.completed
  const served = count(S.delivered) + count(S.completed)
  if (served === n) return S.delivered
  if (served > 0) return S.partiallyDelivered
  if (count(S.fulfilling) > 0) return S.fulfilling
  if (count(S.paid) > 0) return S.paid
  if (count(S.pendingPayment) > 0) return S.pendingPayment
  return null
}

/** A sku as "<product_id>:<sku_id>" (sku_id 0 for keys stocked without a sku). */
export function skuOf(productId: string, skuId: string): string {
  return `${productId}:${skuId}`
}
