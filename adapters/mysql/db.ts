// The shop database connection of the MySQL/MariaDB adapters (dujiaoka, acg-faka): a mysql2 pool
// whose sessions run in UTC and return dates and decimals as text, so timestamps are compared
// exactly as stored and prices never pass through a float. Rows are validated with zod before use
// (each adapter's schema.ts).
import mysql, { type Pool, type PoolConnection, type RowDataPacket } from 'mysql2/promise'
import type { z } from 'zod'
import { AdapterError } from '../contract.js'
import type { DbConfig } from '../shop-db/config.js'
import { retryingConflicts } from '../shop-db/retry.js'
import { parseRows } from '../shop-db/rows.js'

export type { Pool, PoolConnection }
/** A pool or one of its connections: anything that can run a query. */
export type Queryable = Pool | PoolConnection

/**
 * The session settings every connection gets before the pool hands it out: UTC, and the statement
 * timeout. Lock waits are bounded on MySQL and MariaDB alike (whole seconds); MariaDB also aborts
 * any statement that runs longer (`max_statement_time`, in a comment only MariaDB executes, since
 * MySQL has no such variable and would refuse the whole SET).
 */
export function sessionSettings(statementTimeoutMs: number): string {
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 1_000)
    throw new RangeError(`statementTimeoutMs: ${statementTimeoutMs} is not a whole number of ms ≥ 1000`)
  const lockWaitSeconds = Math.ceil(statementTimeoutMs / 1_000)
  return (
    `SET time_zone = '+00:00', innodb_lock_wait_timeout = ${lockWaitSeconds}, lock_wait_timeout = ${lockWaitSeconds}` +
    ` /*M!100108 , max_statement_time = ${statementTimeoutMs / 1_000} */`
  )
}

export function createMysqlPool(config: DbConfig & { password: string | null }): Pool {
  const settings = sessionSettings(config.statementTimeoutMs)
  const pool = mysql.createPool({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password ?? undefined,
    database: config.database,
    connectionLimit: config.connections,
    connectTimeout: config.connectTimeoutMs,
    // Text, not Date: a TIMESTAMP is compared and stored back exactly as read, with no JS time zone.
    dateStrings: true,
    // DECIMAL stays text (the mysql2 default, stated here because money depends on it).
    decimalNumbers: false,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
    enableKeepAlive: true,
  })
  // Every session in UTC, so a TIMESTAMP's text means the same instant in every connection (the
  // shop's own sessions may use another zone; we only compare its values with each other).
  // Queued before the pool hands the new connection out; a session that cannot be set is dropped.
  pool.pool.on('connection', (connection) => {
    connection.query(settings, (error) => {
      if (error) connection.destroy()
    })
  })
  return pool
}

/** Runs `work` in one transaction on one connection; rolls back on any error. */
export async function inTransaction<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  const connection = await pool.getConnection()
  try {
    await connection.beginTransaction()
    try {
      const result = await work(connection)
      await connection.commit()
      return result
    } catch (error) {
      await connection.rollback().catch(() => undefined)
      throw error
    }
  } finally {
    connection.release()
  }
}

/**
 * `inTransaction`, run again when InnoDB rolls it back as a deadlock's victim (../shop-db/retry.ts).
 * Other errors, and the last deadlock, are thrown.
 */
export function inTransactionRetrying<T>(pool: Pool, work: (connection: PoolConnection) => Promise<T>): Promise<T> {
  return retryingConflicts(
    () => inTransaction(pool, work),
    (error) => (error as { code?: unknown }).code === 'ER_LOCK_DEADLOCK',
  )
}

/** SELECT, each row validated; a row that does not match is an error naming the query and field. */
export async function selectRows<S extends z.ZodType>(db: Queryable, schema: S, sql: string, params: unknown[] = []): Promise<z.infer<S>[]> {
  const [rows] = await db.query<RowDataPacket[]>(sql, params)
  return parseRows(schema, sql, rows)
}

/** Database errors that mean "could not reach or use the database", as opposed to a bug. */
const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ECONNRESET',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_LOCK_DEADLOCK',
])
/** MariaDB's `max_statement_time exceeded` (mysql2 has no code name for it). */
const ER_STATEMENT_TIMEOUT = 1969

/**
 * Rethrows connection-level failures as AdapterError('unavailable') so callers answer 503. Use it
 * only where that is true: the transaction rolled back, or the call is idempotent and a retry
 * repairs a commit whose reply was lost (takeStock handles its own ambiguous case, stock.ts).
 */
export function unavailableOr(error: unknown): unknown {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown }
  if (typeof code === 'string' && UNAVAILABLE.has(code)) return new AdapterError('unavailable', `database: ${code}; retry later`)
  if (errno === ER_STATEMENT_TIMEOUT)
    return new AdapterError('unavailable', 'database: a statement ran past db.statementTimeoutMs (ER_STATEMENT_TIMEOUT); retry later')
  return error
}
