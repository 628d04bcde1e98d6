// Dujiao-Next's database on the engine its config names (config.ts `db.driver`).
import { createPgPool, pgDatabase } from '../postgres/db.js'
import type { SqlDatabase } from '../shop-db/sql.js'
import { openSqliteDatabase } from '../sqlite/db.js'
import type { DujiaoNextDbConfig } from './config.js'

/** PostgreSQL (a pg pool) or SQLite (one connection to the file); the password applies to PostgreSQL only. */
export function openDujiaoNextDatabase(db: DujiaoNextDbConfig, password: string | null): SqlDatabase {
  if (db.driver === 'sqlite') return openSqliteDatabase(db)
  return pgDatabase(createPgPool({ ...db, password }))
}
