// The start-up column check (./columns.ts) on an SqlDatabase. PostgreSQL: the tables the session's
// search_path finds first (current_schema(), `public` unless the shop set another). SQLite: the
// tables of the main database file.
import { z } from 'zod'
import { missingFrom, refuseMissing, type RequiredColumns } from './columns.js'
import { inList, selectRows, type SqlDatabase } from './sql.js'

const ColumnRow = z.object({ table_name: z.string(), column_name: z.string() })

const LISTING = {
  postgres: `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND ${inList('postgres', 'table_name', '$1')}
    ORDER BY table_name, ordinal_position`,
  sqlite: `SELECT m.name AS table_name, p.name AS column_name FROM sqlite_schema m JOIN pragma_table_info(m.name) p
    WHERE m.type = 'table' AND ${inList('sqlite', 'm.name', '$1')} ORDER BY m.name, p.cid`,
} as const

/** Every column of `table`, in order. */
export async function columnsOf(db: SqlDatabase, table: string): Promise<string[]> {
  return (await selectRows(db, ColumnRow, LISTING[db.dialect], [[table]])).map((r) => r.column_name)
}

/** Throws, naming every missing column, unless the shop's tables have all the adapter uses. */
export async function checkColumns(db: SqlDatabase, required: RequiredColumns, shop: string, hint: string): Promise<void> {
  const rows = await selectRows(db, ColumnRow, LISTING[db.dialect], [Object.keys(required)])
  refuseMissing(missingFrom(rows, required), shop, hint)
}
