// What the acg-faka adapter reads from acg-faka 3.x's tables (validated with zod: the database is
// outside our control), the columns it checks for at start, and the tables it keeps beside them
// (prefix `standin_`; it never alters acg-faka's tables). Table names carry the install's prefix.
import { z } from 'zod'
import { checkColumns, type RequiredColumns } from '../mysql/columns.js'
import type { Queryable } from '../mysql/db.js'
import { SHOP_DELIVERED_DDL } from '../mysql/hand-delivered.js'

export const ORDER_STATUS = { unpaid: 0, paid: 1 } as const
export const DELIVERY_STATUS = { waiting: 0, delivered: 1 } as const
export const CARD_STATUS = { unsold: 0, sold: 1, locked: 2 } as const
export const DELIVERY_WAY = { automatic: 0, manual: 1 } as const
export const COMMODITY_ON_SALE = 1
/**
 * What acg-faka's payment callback writes into `secret` when an automatic order finds too few
 * unsold cards: it still marks the order delivered (`delivery_status = 1`). Such an order is paid
 * and not served: the stranded order Standin exists for.
 */
export const APOLOGY_TEXT = '很抱歉，有人在你付款之前抢走了商品，请联系客服。'

export interface Tables {
  readonly order: string
  readonly card: string
  readonly commodity: string
}

export function tablesOf(prefix: string): Tables {
  if (!/^[A-Za-z0-9_]*$/.test(prefix)) throw new Error(`tablePrefix: ${prefix} is not letters, digits and _`)
  return { order: `${prefix}order`, card: `${prefix}card`, commodity: `${prefix}commodity` }
}

/** Every column of acg-faka's that the adapter uses, with what for. */
export function requiredColumns(t: Tables): RequiredColumns {
  return {
    [t.order]: {
      id: 'order ids',
      trade_no: 'the order number',
      commodity_id: 'the sku',
      card_num: 'the quantity',
      amount: 'the amount paid',
      status: 'paid or not',
      delivery_status: 'delivered or not',
      secret: 'the delivered text',
      password: 'the claim secret (query password)',
      contact: "the buyer's contact",
      pay_time: 'the cursor',
    },
    [t.card]: {
      id: 'card (key) ids',
      commodity_id: 'the sku of a card',
      secret: 'the key text',
      status: 'unsold, sold or locked',
      order_id: 'the order a card went to',
      purchase_time: 'when a card was sold',
    },
    [t.commodity]: {
      id: 'skus',
      delivery_way: 'automatic or manual delivery',
      status: 'on or off sale',
    },
  }
}

/** Throws, naming every missing column, unless acg-faka's tables have all the adapter uses. */
export function checkShopSchema(db: Queryable, t: Tables): Promise<void> {
  return checkColumns(db, requiredColumns(t), 'acg-faka', 'Is this acg-faka 3.x with this table prefix (tablePrefix)? See adapters/acg-faka/README.md.')
}

export const RowId = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String)
const SmallInt = z.coerce.number().int()
/** A DATETIME as mysql2 returns it with dateStrings: acg-faka's wall-clock text. */
export const DbDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/, 'must be YYYY-MM-DD HH:MM:SS')

export const OrderRow = z.object({
  id: RowId,
  trade_no: z.string().min(1),
  commodity_id: RowId,
  card_num: SmallInt,
  amount: z.union([z.string(), z.number()]).transform(String),
  status: SmallInt,
  delivery_status: SmallInt,
  secret: z.string().nullable(),
  password: z.string().nullable(),
  contact: z.string().nullable(),
  pay_time: DbDateTime.nullable(),
  /** Joined: the commodity's delivery way (null when the commodity is gone). */
  delivery_way: SmallInt.nullable(),
  /** Joined: cards of the shop's own stock attached to the order. */
  cards: SmallInt,
})
export type OrderRow = z.infer<typeof OrderRow>

/** The SELECT list of OrderRow, with `o` the order table, `m` the commodity. */
export function orderSelect(t: Tables): string {
  return `SELECT o.id, o.trade_no, o.commodity_id, o.card_num, o.amount, o.status, o.delivery_status, o.secret, o.password, o.contact, o.pay_time,
    m.delivery_way, (SELECT COUNT(*) FROM \`${t.card}\` c WHERE c.order_id = o.id) AS cards
    FROM \`${t.order}\` o LEFT JOIN \`${t.commodity}\` m ON m.id = o.commodity_id`
}

export type OrderState = 'submitting' | 'escrowed' | 'delivered' | 'cancelled' | 'written-back' | 'invalid' | 'conflict'

/** Standin's tables; `standin_card_rows` is created LIKE the card table (same columns, no foreign keys). */
function ddl(t: Tables): string[] {
  const opts = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci'
  return [
    `CREATE TABLE IF NOT EXISTS standin_cursor (name VARCHAR(32) NOT NULL PRIMARY KEY, pay_time VARCHAR(32) NOT NULL, last_id VARCHAR(20) NOT NULL, moved_ms BIGINT NOT NULL) ${opts}`,
    // What the bridge told the node about each order; secret_sha: the order's text when escrowed,
    // so a person's delivery (a new text) is told apart.
    `CREATE TABLE IF NOT EXISTS standin_orders (trade_no VARCHAR(64) NOT NULL PRIMARY KEY, state VARCHAR(16) NOT NULL, paid_at_ms BIGINT NULL,
      secret_sha CHAR(64) NULL, note VARCHAR(500) NULL, changed_ms BIGINT NOT NULL, KEY standin_orders_state (state)) ${opts}`,
    // Every card Standin took and where it is now.
    `CREATE TABLE IF NOT EXISTS standin_cards (card_id BIGINT UNSIGNED NOT NULL PRIMARY KEY, commodity_id BIGINT UNSIGNED NOT NULL, state VARCHAR(16) NOT NULL,
      secret_sha CHAR(64) NOT NULL, trade_no VARCHAR(64) NULL, changed_ms BIGINT NOT NULL, KEY standin_cards_sha (secret_sha)) ${opts}`,
    // The card rows themselves while consigned (out of acg-faka's table, so no sale or admin unlock reaches them).
    `CREATE TABLE IF NOT EXISTS standin_card_rows LIKE \`${t.card}\``,
    `CREATE TABLE IF NOT EXISTS standin_state (name VARCHAR(32) NOT NULL PRIMARY KEY, value VARCHAR(255) NOT NULL, changed_ms BIGINT NOT NULL) ${opts}`,
    `CREATE TABLE IF NOT EXISTS standin_writebacks (trade_no VARCHAR(64) NOT NULL, fulfiller VARCHAR(64) NOT NULL, result VARCHAR(16) NOT NULL, key_ids TEXT NOT NULL,
      epoch BIGINT NOT NULL, delivered_at_ms BIGINT NOT NULL, recorded_ms BIGINT NOT NULL, PRIMARY KEY (trade_no, fulfiller)) ${opts}`,
    // Texts a person delivered by hand: never consigned (../mysql/hand-delivered.ts).
    SHOP_DELIVERED_DDL,
  ]
}

export async function ensureStandinTables(db: Queryable, t: Tables): Promise<void> {
  for (const statement of ddl(t)) await db.query(statement)
}

/** ms since the epoch of acg-faka wall-clock text in zone `offset` (+08:00). */
export function wallClockMs(text: string, offset: string): number {
  const ms = Date.parse(`${text.slice(0, 19).replace(' ', 'T')}${offset}`)
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${text}`)
  return ms
}

/** The wall-clock text of `ms` in zone `offset`. */
export function wallClockText(ms: number, offset: string): string {
  const sign = offset.startsWith('-') ? -1 : 1
  const [h = 0, m = 0] = offset.slice(1).split(':').map(Number)
  return new Date(Math.max(0, ms + sign * (h * 60 + m) * 60_000)).toISOString().slice(0, 19).replace('T', ' ')
}
