// The columns of dujiaoka's that the adapter uses: both halves check them at start
// (../mysql/columns.ts) and refuse to start naming each missing one. Forks change these tables
// (one has no `orders.goods_id`, `buy_amount` or `info`).
import { checkColumns, missingColumns as missingColumnsOf, type RequiredColumns } from '../mysql/columns.js'
import type { Queryable } from '../mysql/db.js'

/** Every column of dujiaoka's that the adapter uses, per table, with what it needs it for. */
export const REQUIRED_COLUMNS = {
  orders: {
    id: 'order ids (cursor)',
    order_sn: 'the order number',
    goods_id: 'the sku',
    type: 'automatic or manual goods',
    email: "the buyer's address",
    actual_price: 'the amount paid',
    buy_amount: 'the quantity',
    status: 'paid, waiting, delivered or cancelled',
    search_pwd: 'the claim secret',
    info: 'the keys delivered',
    updated_at: 'the cursor',
    deleted_at: 'soft deletes',
  },
  carmis: {
    id: 'key ids',
    goods_id: 'the sku of a key',
    status: 'unsold or sold',
    is_loop: 'reusable keys (never consigned)',
    carmi: 'the key text',
    deleted_at: 'soft deletes (consigned keys are hidden with it)',
  },
  goods: {
    id: 'skus',
    type: 'automatic or manual goods',
    is_open: 'goods on or off sale',
    deleted_at: 'soft deletes',
  },
} as const satisfies RequiredColumns

/** The columns of REQUIRED_COLUMNS the database lacks. */
export const missingColumns = (db: Queryable): Promise<string[]> => missingColumnsOf(db, REQUIRED_COLUMNS)

/** Throws, naming every missing column, unless dujiaoka's tables have all the adapter uses. */
export function checkShopSchema(db: Queryable): Promise<void> {
  return checkColumns(db, REQUIRED_COLUMNS, 'dujiaoka', 'Is this dujiaoka 2.0.x, or a fork that changed its tables? See adapters/dujiaoka/README.md.')
}
