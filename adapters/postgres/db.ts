// The shop database connection of the PostgreSQL adapters (Dujiao-Next): a pg pool whose sessions
// run in UTC with a statement and lock timeout, returning int8 and numeric as text (ids and prices
// never pass through a float). Rows are validated with zod before use (each adapter's schema.ts).
import pg from 'pg'
import { AdapterError } from '../contract.js'
import type { DbConfig } from '../shop-db/config.js'
import { retryingConflicts } from '../shop-db/retry.js'
import type { Queryable, SqlDatabase } from '../shop-db/sql.js'

export type PgPool = pg.Pool
export type PgClient = pg.PoolClient
/** A pool or one of its clients: anything that can run a query. */
export type PgQueryable = pg.Pool | pg.PoolClient

export function createPgPool(config: DbConfig & { password: string | null }): PgPool {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password ?? undefined,
    database: config.database,
    max: config.connections,
    connectionTimeoutMillis: config.connectTimeoutMs,
    // A lock held by a stuck shop worker or a migration must not hold a pool client for ever.
    statement_timeout: config.statementTimeoutMs,
    lock_timeout: config.statementTimeoutMs,
    idle_in_transaction_session_timeout: config.statementTimeoutMs * 3,
    options: '-c TimeZone=UTC',
    keepAlive: true,
  })
  // An idle client whose server went away emits here; without a listener it would crash the process.
  pool.on('error', () => undefined)
  return pool
}

/** Runs `work` in one transaction on one client; rolls back on any error. */
export async function inTransaction<T>(pool: PgPool, work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await pool.connect()
  let broken = false
  try {
    await client.query('BEGIN')
    try {
      const result = await work(client)
      await client.query('COMMIT')
      return result
    } catch (error) {
      await client.query('ROLLBACK').catch(() => (broken = true))
      throw error
    }
  } finally {
    client.release(broken)
  }
}

/** SQLSTATEs of a transaction PostgreSQL aborted whole: serialization_failure, deadlock_detected. */
const CONFLICTS = new Set(['40001', '40P01'])

/** `inTransaction`, run again when PostgreSQL aborted it as a conflict (../shop-db/retry.ts). */
export function inTransactionRetrying<T>(pool: PgPool, work: (client: PgClient) => Promise<T>): Promise<T> {
  return retryingConflicts(
    () => inTransaction(pool, work),
    (error) => CONFLICTS.has(String((error as { code?: unknown }).code)),
  )
}

/** The pool as the engine-neutral database of ../shop-db/sql.ts. */
export function pgDatabase(pool: PgPool): SqlDatabase {
  return {
    dialect: 'postgres',
    query: (sql, params) => pool.query(sql, params),
    transaction: <T>(work: (tx: Queryable) => Promise<T>) => inTransactionRetrying(pool, work),
    unavailableOr,
    end: () => pool.end(),
  }
}

/** Network failures (node's codes) and SQLSTATEs that mean "could not reach or use the database now". */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNRESET',
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available (lock_timeout)
  '57014', // query_canceled (statement_timeout)
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P03', // cannot_connect_now
])

/**
 * Rethrows connection-level failures as AdapterError('unavailable') so callers answer 503. Use it
 * only where that is true: the transaction rolled back, or the call is idempotent.
 */
export function unavailableOr(error: unknown): unknown {
  const code = String((error as { code?: unknown } | null)?.code ?? '')
  const message = error instanceof Error ? error.message : ''
  if (UNAVAILABLE.has(code) || code.startsWith('08') || /Connection terminated|timeout exceeded when trying to connect/i.test(message))
    return new AdapterError('unavailable', `database: ${code || message}; retry later`)
  return error
}
