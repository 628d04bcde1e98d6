// The start-up check that dujiaoka's tables have every column the adapter reads or writes. Forks
// change the schema (one has no `orders.goods_id`, `buy_amount` or `info`); an adapter that found
// out at its first poll or consignment would fail half way, or worse, read NULLs as values. So
// both halves refuse to start, naming each missing column and what it is needed for.
import { z } from 'zod'
import { type Queryable, selectRows } from './db.js'

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
} as const satisfies Record<string, Record<string, string>>

const ColumnRow = z.object({ table_name: z.string(), column_name: z.string() })

/** The columns dujiaoka's tables lack, as `table.column (what for)`; empty when all are there. */
export async function missingColumns(db: Queryable): Promise<string[]> {
  const rows = await selectRows(
    db,
    ColumnRow,
    'SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
    [Object.keys(REQUIRED_COLUMNS)],
  )
  const present = new Set(rows.map((r) => `${r.table_name.toLowerCase()}.${r.column_name.toLowerCase()}`))
  const missing: string[] = []
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS))
    for (const [column, why] of Object.entries(columns)) if (!present.has(`${table}.${column}`)) missing.push(`${table}.${column} (${why})`)
  return missing
}

/** Throws, naming every missing column, unless dujiaoka's tables have all the adapter uses. */
export async function checkShopSchema(db: Queryable): Promise<void> {
  const missing = await missingColumns(db)
  if (missing.length > 0)
    throw new Error(
      `dujiaoka schema: the database lacks ${missing.length === 1 ? 'a column' : 'columns'} the adapter needs: ${missing.join(', ')}. Is this dujiaoka 2.0.x, or a fork that changed its tables? See adapters/dujiaoka/README.md.`,
    )
}
