// The start-up column check (../shop-db/columns.ts) on PostgreSQL: the columns of the tables the
// session's search_path finds first (current_schema(), `public` unless the shop set another).
import { z } from 'zod'
import { missingFrom, refuseMissing, type RequiredColumns } from '../shop-db/columns.js'
import { type PgQueryable, selectRows } from './db.js'

const ColumnRow = z.object({ table_name: z.string(), column_name: z.string() })

/** Throws, naming every missing column, unless the shop's tables have all the adapter uses. */
export async function checkColumns(db: PgQueryable, required: RequiredColumns, shop: string, hint: string): Promise<void> {
  const rows = await selectRows(
    db,
    ColumnRow,
    'SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)',
    [Object.keys(required)],
  )
  refuseMissing(missingFrom(rows, required), shop, hint)
}
