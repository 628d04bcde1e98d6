// The Dujiao-Next adapter's configuration: one JSON file for the process that runs both halves
// (bridge: Dujiao-Next → node; callback host: node → Dujiao-Next). Secrets are not written in it:
// the adapter's credentials come from the node's adapter.json (or STANDIN_ADAPTER_CREDENTIALS), the
// database password from DUJIAO_NEXT_DB_PASSWORD (or `db.password`).
import { z } from 'zod'
import { Locale } from '../../protocol/index.js'
import { BridgeConfig, CallbackListen, DbConfig, HealthConfig, LogLevel, NodeLink } from '../shop-db/config.js'

/** Dujiao-Next's PostgreSQL (its config.yml `database.dsn`); the port defaults to PostgreSQL's. */
export const PgDbConfig = DbConfig.extend({ port: DbConfig.shape.port.removeDefault().default(5432) })
export type PgDbConfig = z.infer<typeof PgDbConfig>

export const DujiaoNextConfig = z.strictObject({
  version: z.literal(1),
  /** Dujiao-Next's public front or API, probed for health (any answer below 500 counts as up). */
  shopUrl: z.string().url(),
  db: PgDbConfig,
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
