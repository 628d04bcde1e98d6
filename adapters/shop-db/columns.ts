// The start-up check that a shop's tables have every column its adapter reads or writes. Forks and
// versions change the schema; an adapter that found out at its first poll or consignment would fail
// half way, or read NULLs as values. So an adapter refuses to start, naming each missing column and
// what it is needed for. The listing of a database's columns is per engine (../mysql/columns.ts,
// ./sql-columns.ts); the comparison and the message are here.

/** Per table, per column: what the adapter needs it for. */
export type RequiredColumns = Readonly<Record<string, Readonly<Record<string, string>>>>

/** The required columns absent from `present`, as `table.column (what for)`; empty when all are there. */
export function missingFrom(present: readonly { readonly table_name: string; readonly column_name: string }[], required: RequiredColumns): string[] {
  const have = new Set(present.map((r) => `${r.table_name.toLowerCase()}.${r.column_name.toLowerCase()}`))
  const missing: string[] = []
  for (const [table, columns] of Object.entries(required))
    for (const [column, why] of Object.entries(columns)) if (!have.has(`${table.toLowerCase()}.${column}`)) missing.push(`${table}.${column} (${why})`)
  return missing
}

/** Throws, naming every missing column, when `missing` is not empty. */
export function refuseMissing(missing: readonly string[], shop: string, hint: string): void {
  if (missing.length > 0)
    throw new Error(`${shop} schema: the database lacks ${missing.length === 1 ? 'a column' : 'columns'} the adapter needs: ${missing.join(', ')}. ${hint}`)
}
