// The start-up column check (../shop-db/columns.ts) on MySQL/MariaDB: the columns of the
// connection's database, from information_schema.
import { z } from 'zod'
import { missingFrom, refuseMissing, type RequiredColumns } from '../shop-db/columns.js'
import { type Queryable, selectRows } from './db.js'

export type { RequiredColumns }

const ColumnRow = z.object({ table_name: z.string(), column_name: z.string() })

/** The required columns the database lacks, as `table.column (what for)`; empty when all are there. */
export async function missingColumns(db: Queryable, required: RequiredColumns): Promise<string[]> {
  const rows = await selectRows(
    db,
    ColumnRow,
    'SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
    [Object.keys(required)],
  )
  return missingFrom(rows, required)
}

/** Throws, naming every missing column, unless the shop's tables have all the adapter uses. */
export async function checkColumns(db: Queryable, required: RequiredColumns, shop: string, hint: string): Promise<void> {
  refuseMissing(await missingColumns(db, required), shop, hint)
}
