// The shop database connection of the SQLite adapters (Dujiao-Next's default engine): one
// better-sqlite3 connection to the shop's database file, used by the adapter process beside the
// shop's own. SQLite has no row locks: one writer at a time holds the whole database, and a reader
// sees a snapshot (WAL mode, which Dujiao-Next turns on). So every transaction here is BEGIN
// IMMEDIATE: it takes the write lock before reading, waits up to `busyTimeoutMs` for the shop's
// writer to finish, and what it reads cannot change until it commits. A shop transaction that read
// before ours committed fails its own write (SQLITE_BUSY_SNAPSHOT) and rolls back.
//
// better-sqlite3 is synchronous: a statement waiting for the lock blocks this process's event loop
// for up to busyTimeoutMs, which is why the adapter runs as its own process. Calls are queued so that
// one transaction's statements never interleave with another's on the one connection.
//
// better-sqlite3 is an optional dependency compiled at `npm install` (a C++ toolchain; no binary is
// downloaded): without it, opening a database says so.
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import type BetterSqlite3 from 'better-sqlite3'
import { AdapterError } from '../contract.js'
import type { Queryable, QueryResult, SqlDatabase } from '../shop-db/sql.js'

export interface SqliteConfig {
  /** The shop's database file (Dujiao-Next: its config.yml `database.dsn`). */
  readonly path: string
  /** Longest wait for the shop's writer to release the database, per statement. */
  readonly busyTimeoutMs: number
}

/** SQLite's result codes that mean "the database is busy or locked now": retry later. */
const BUSY = /^SQLITE_(BUSY|LOCKED)/

/** Binds `$1 … $n` as SQLite named parameters; arrays as JSON text (read with json_each), booleans as 1/0. */
function bind(params: readonly unknown[]): Record<string, unknown> {
  const named: Record<string, unknown> = {}
  params.forEach((value, i) => {
    named[String(i + 1)] = Array.isArray(value) ? JSON.stringify(value) : typeof value === 'boolean' ? (value ? 1 : 0) : value
  })
  return named
}

function run(db: BetterSqlite3.Database, sql: string, params: readonly unknown[] = []): QueryResult {
  const statement = db.prepare(sql)
  if (statement.reader) {
    const rows = statement.all(bind(params))
    return { rows, rowCount: rows.length }
  }
  return { rows: [], rowCount: statement.run(bind(params)).changes }
}

function loadDriver(): typeof BetterSqlite3 {
  try {
    return createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3
  } catch (error) {
    throw new Error(
      `the SQLite driver (better-sqlite3, an optional dependency built from source at npm install) is not installed: ${error instanceof Error ? error.message : String(error)}. ` +
        'Install a C++ toolchain (Debian: apt install build-essential python3), then run npm install again; see adapters/dujiao-next/README.md',
    )
  }
}

export function openSqliteDatabase(config: SqliteConfig): SqlDatabase {
  const Driver = loadDriver()
  // The file must exist: a wrong path would otherwise create an empty database beside the shop's.
  const db = new Driver(config.path, { fileMustExist: true, timeout: config.busyTimeoutMs })
  // Key texts are compared by SHA-256 (the hand-delivery record); PostgreSQL and MySQL have it built in.
  db.function('standin_sha256', { deterministic: true }, (text: unknown) =>
    typeof text === 'string' ? createHash('sha256').update(text, 'utf8').digest('hex') : null,
  )
  let queue: Promise<unknown> = Promise.resolve()
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work)
    queue = result.catch(() => undefined)
    return result
  }
  const direct: Queryable = { query: async (sql, params) => run(db, sql, params) }
  return {
    dialect: 'sqlite',
    query: (sql, params) => serial(async () => run(db, sql, params)),
    transaction: <T>(work: (tx: Queryable) => Promise<T>) =>
      serial(async () => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const result = await work(direct)
          db.exec('COMMIT')
          return result
        } catch (error) {
          if (db.inTransaction) db.exec('ROLLBACK')
          throw error
        }
      }),
    unavailableOr(error: unknown): unknown {
      const code = String((error as { code?: unknown } | null)?.code ?? '')
      if (BUSY.test(code))
        return new AdapterError('unavailable', `database: ${code} (the shop held the database longer than ${config.busyTimeoutMs} ms); retry later`)
      return error
    },
    end: () =>
      serial(async () => {
        db.close()
      }),
  }
}
