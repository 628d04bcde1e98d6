// One shape for the SQL engines an adapter may meet with the same schema: Dujiao-Next runs on
// PostgreSQL or SQLite (its default). Both answer `query(sql, params)` with rows and a count, take
// `$1 … $n` placeholders, and run a transaction as one unit of work; what differs in the SQL text
// is each adapter's dialect table (../dujiao-next/dialect.ts). The engines: ../postgres/db.ts
// (pgDatabase) and ../sqlite/db.ts.
import { z } from 'zod'
import { parseRows } from './rows.js'

export type Dialect = 'postgres' | 'sqlite'

export interface QueryResult {
  readonly rows: unknown[]
  /** Rows written (or returned, for a statement with RETURNING). */
  readonly rowCount: number | null
}

/** Anything that runs a statement: a database, or a transaction's handle. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<QueryResult>
}

export interface SqlDatabase extends Queryable {
  readonly dialect: Dialect
  /**
   * Runs `work` as one transaction and commits, or rolls back on any error. PostgreSQL: READ
   * COMMITTED, retried when aborted as a conflict. SQLite: BEGIN IMMEDIATE (the write lock taken
   * first: the shop's writers wait, and nothing read inside can go stale).
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>
  /**
   * `error` as AdapterError('unavailable') when it means "could not reach or use the database now"
   * (callers answer 503), else unchanged. Use it only where that is true: the transaction rolled
   * back, or the call is idempotent.
   */
  unavailableOr(error: unknown): unknown
  end(): Promise<void>
}

/** SELECT, each row validated; a row that does not match is an error naming the query and field. */
export async function selectRows<S extends z.ZodType>(db: Queryable, schema: S, sql: string, params: unknown[] = []): Promise<z.infer<S>[]> {
  const result = await db.query(sql, params)
  return parseRows(schema, sql, result.rows)
}

/** A boolean column or expression: PostgreSQL answers true/false, SQLite 1/0. */
export const SqlBool = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((v) => v === true || v === 1)

// SQL fragments that differ between the engines. Lists are bound as arrays: PostgreSQL takes them
// as arrays, ../sqlite/db.ts binds them as JSON text, read with json_each.

/** `column` is one of the texts in the array parameter `param`. */
export function inList(dialect: Dialect, column: string, param: string): string {
  return dialect === 'postgres' ? `${column} = ANY(${param}::text[])` : `${column} IN (SELECT value FROM json_each(${param}))`
}

/** `column` (an integer id) is one of the ids (decimal texts) in the array parameter `param`. */
export function inIds(dialect: Dialect, column: string, param: string): string {
  return dialect === 'postgres' ? `${column} = ANY(${param}::bigint[])` : `${column} IN (SELECT CAST(value AS INTEGER) FROM json_each(${param}))`
}

/**
 * A table `alias(name, …)` of parallel array parameters, one row per index, for INSERT … SELECT:
 * columns as [name, param, PostgreSQL element type]. (SQLite needs a WHERE clause on a SELECT
 * followed by ON CONFLICT; callers write `WHERE true`.)
 */
export function arrayRows(dialect: Dialect, alias: string, columns: readonly (readonly [string, string, string])[]): string {
  if (dialect === 'postgres')
    return `unnest(${columns.map(([, param, type]) => `${param}::${type}[]`).join(', ')}) AS ${alias}(${columns.map(([name]) => name).join(', ')})`
  const [first, ...rest] = columns.map(([name, param], i) => ({ name, param, j: `j${i}` }))
  if (first === undefined) throw new Error('arrayRows: no columns')
  const select = [first, ...rest].map((c) => `${c.j}.value AS ${c.name}`).join(', ')
  const joins = rest.map((c) => ` JOIN json_each(${c.param}) ${c.j} ON ${c.j}.key = ${first.j}.key`).join('')
  return `(SELECT ${select} FROM json_each(${first.param}) ${first.j}${joins}) AS ${alias}`
}

/** ` FOR UPDATE [OF …]` on PostgreSQL; nothing on SQLite, where the transaction already holds the write lock. */
export function forUpdate(dialect: Dialect, of = ''): string {
  return dialect === 'postgres' ? ` FOR UPDATE${of === '' ? '' : ` OF ${of}`}` : ''
}

/** Lowercase hex SHA-256 of a text column's UTF-8 bytes (on SQLite, the function ../sqlite/db.ts registers). */
export function sha256Sql(dialect: Dialect, column: string): string {
  return dialect === 'postgres' ? `encode(sha256(convert_to(${column}, 'UTF8')), 'hex')` : `standin_sha256(${column})`
}
