// The Dujiao-Next adapter's configuration: one JSON file for the process that runs both halves
// (bridge: Dujiao-Next → node; callback host: node → Dujiao-Next). Secrets are not written in it:
// the adapter's credentials come from the node's adapter.json (or STANDIN_ADAPTER_CREDENTIALS), the
// database password from DUJIAO_NEXT_DB_PASSWORD (or `db.password`).
import { isAbsolute } from 'node:path'
import { z } from 'zod'
import { Locale } from '../../protocol/index.js'
import { BridgeConfig, CallbackListen, DbConfig, HealthConfig, LogLevel, NodeLink } from '../shop-db/config.js'

/** Dujiao-Next on PostgreSQL (its config.yml `database.driver: postgres`, `database.dsn`); the port defaults to PostgreSQL's. */
export const PgDbConfig = DbConfig.extend({ port: DbConfig.shape.port.removeDefault().default(5432) })
export type PgDbConfig = z.infer<typeof PgDbConfig>

/** Dujiao-Next on SQLite (its default: `database.driver: sqlite`): the same database file, opened beside it. */
export const SqliteDbConfig = z.strictObject({
  driver: z.literal('sqlite'),
  /** The database file of Dujiao-Next's config.yml `database.dsn`, as this process sees it (a shared volume under Docker). */
  path: z.string().min(1).max(4_096).refine(isAbsolute, 'must be an absolute path'),
  /**
   * Longest wait for Dujiao-Next's writer to release the database, per statement (SQLite has one
   * writer at a time). Dujiao-Next waits 5,000 ms for ours. The adapter's process does nothing else
   * while it waits (the driver is synchronous).
   */
  busyTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
})
export type SqliteDbConfig = z.infer<typeof SqliteDbConfig>

/** `db`: PostgreSQL when `driver` is absent or "postgres", SQLite when "sqlite". */
export const DujiaoNextDbConfig = z.preprocess(
  (value) => (value !== null && typeof value === 'object' && !('driver' in value) ? { ...value, driver: 'postgres' } : value),
  z.discriminatedUnion('driver', [PgDbConfig.extend({ driver: z.literal('postgres') }), SqliteDbConfig]),
)
export type DujiaoNextDbConfig = z.infer<typeof DujiaoNextDbConfig>

export const DujiaoNextConfig = z.strictObject({
  version: z.literal(1),
  /** Dujiao-Next's public front or API, probed for health (any answer below 500 counts as up). */
  shopUrl: z.string().url(),
  db: DujiaoNextDbConfig,
  node: NodeLink,
  callback: CallbackListen,
  bridge: BridgeConfig.default(BridgeConfig.parse({})),
  health: HealthConfig.default(HealthConfig.parse({})),
  /** Dujiao-Next stores each order's currency; only the digits of its minor unit are configured (2 for CNY, 0 for JPY). */
  money: z.strictObject({ minorDigits: z.number().int().min(0).max(4).default(2) }).default({ minorDigits: 2 }),
  buyerLocale: Locale.default('zh-CN'),
  logLevel: LogLevel,
})
export type DujiaoNextConfig = z.infer<typeof DujiaoNextConfig>
