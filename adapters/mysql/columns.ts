// The start-up check that a shop's tables have every column its adapter reads or writes. Forks and
// versions change the schema; an adapter that found out at its first poll or consignment would fail
// half way, or read NULLs as values. So an adapter refuses to start, naming each missing column and
// what it is needed for.
import { z } from 'zod'
import { type Queryable, selectRows } from './db.js'

/** Per table, per column: what the adapter needs it for. */
export type RequiredColumns = Readonly<Record<string, Readonly<Record<string, string>>>>

const ColumnRow = z.object({ table_name: z.string(), column_name: z.string() })

/** The required columns the database lacks, as `table.column (what for)`; empty when all are there. */
export async function missingColumns(db: Queryable, required: RequiredColumns): Promise<string[]> {
  const rows = await selectRows(
    db,
    ColumnRow,
    'SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
    [Object.keys(required)],
  )
  const present = new Set(rows.map((r) => `${r.table_name.toLowerCase()}.${r.column_name.toLowerCase()}`))
  const missing: string[] = []
  for (const [table, columns] of Object.entries(required))
    for (const [column, why] of Object.entries(columns)) if (!present.has(`${table.toLowerCase()}.${column}`)) missing.push(`${table}.${column} (${why})`)
  return missing
}

/** Throws, naming every missing column, unless the shop's tables have all the adapter uses. */
export async function checkColumns(db: Queryable, required: RequiredColumns, shop: string, hint: string): Promise<void> {
  const missing = await missingColumns(db, required)
  if (missing.length > 0)
    throw new Error(`${shop} schema: the database lacks ${missing.length === 1 ? 'a column' : 'columns'} the adapter needs: ${missing.join(', ')}. ${hint}`)
}
