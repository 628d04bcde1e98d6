// Configuration shared by the adapters that reach their shop through its database (dujiaoka,
// acg-faka on MySQL/MariaDB; Dujiao-Next on PostgreSQL): the connection, the health probe and the currency. Each adapter's own
// config file (its config.ts) embeds these.
import { z } from 'zod'
import { Currency } from '../../protocol/index.js'

export const Port = z.number().int().min(1).max(65_535)
export const Host = z.string().min(1).max(255)

export const DbConfig = z.strictObject({
  host: Host.default('127.0.0.1'),
  port: Port.default(3306),
  user: z.string().min(1).max(80),
  /** Prefer the adapter's environment variable (DUJIAOKA_DB_PASSWORD, ACG_FAKA_DB_PASSWORD); null means "from the environment". */
  password: z.string().max(255).nullable().default(null),
  /** The shop's database (dujiaoka: its .env DB_DATABASE). */
  database: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_$]+$/, 'must be a plain database name'),
  /** Pool size; the bridge holds one connection for its lock, each port call uses one at a time. */
  connections: z.number().int().min(2).max(50).default(5),
  connectTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
  /**
   * Longest any one statement of the adapter may run or wait for a lock. Without it a lock held
   * by a stuck shop worker or a migration would hold a pool connection for 50 s (row locks)
   * or a year (table metadata locks), and every call queued behind it.
   */
  statementTimeoutMs: z.number().int().min(1_000).max(600_000).default(10_000),
})
export type DbConfig = z.infer<typeof DbConfig>

export const HealthConfig = z.strictObject({
  intervalMs: z.number().int().min(100).max(600_000).default(10_000),
  /** Per probe (HTTP front and database each). */
  timeoutMs: z.number().int().min(50).max(60_000).default(5_000),
  /**
   * Consecutive failed probes before the bridge reports `down`; fewer are reported as
   * `degraded`. `down` makes the node ask its partners to take over at once, so one blip must
   * not cause it.
   */
  downAfterFailures: z.number().int().min(1).max(100).default(3),
  /** The same health is reported again after this long, so a restarted node learns it. */
  repeatMs: z.number().int().min(1_000).max(3_600_000).default(60_000),
})
export type HealthConfig = z.infer<typeof HealthConfig>

export const MoneyConfig = z.strictObject({
  /** The currency the shop's prices are in (dujiaoka and acg-faka store none themselves). */
  currency: Currency.default('CNY'),
  /** Digits after the decimal point in one minor unit: 2 for CNY (fen), 0 for JPY. */
  minorDigits: z.number().int().min(0).max(4).default(2),
})
export type MoneyConfig = z.infer<typeof MoneyConfig>

/** Most orders read (and at most sent to the node) per page; the node takes up to 1,000 per request. */
export const MAX_BATCH_ORDERS = 1_000

/** The bridge's polling of the shop's orders, by a cursor column (dujiaoka: updated_at; acg-faka: pay_time). */
export const BridgeConfig = z.strictObject({
  pollIntervalMs: z.number().int().min(100).max(600_000).default(2_000),
  /** Orders per page read (and per request to the node). */
  batchSize: z.number().int().min(1).max(MAX_BATCH_ORDERS).default(500),
  /**
   * Each poll starts this far behind the cursor, in seconds of the cursor column, so an order whose
   * transaction committed after younger ones were read is still seen. Already-reported orders are
   * recognised in `standin_orders`, so the overlap never reports anything twice.
   */
  overlapSeconds: z.number().int().min(0).max(3_600).default(60),
  /**
   * The first poll (no cursor yet) starts this far behind the newest order, in seconds. A shop's
   * history holds paid orders left waiting for years (refunded or settled by hand without a status
   * change); escrowing them would let partners deliver them at the first takeover, on the shop's
   * account. Older waiting orders are counted in a warning instead.
   */
  firstStartLookbackSeconds: z
    .number()
    .int()
    .min(0)
    .max(3_650 * 86_400)
    .default(86_400),
})
export type BridgeConfig = z.infer<typeof BridgeConfig>

/** The Standin node the shop runs beside; null runs the callback host alone. */
export const NodeLink = z
  .strictObject({
    url: z.string().url(),
    /** The node's adapter.json (its credentials for this adapter), relative to the config file; or STANDIN_ADAPTER_CREDENTIALS. */
    credentialsFile: z.string().min(1).nullable().default(null),
  })
  .nullable()

/** Where the node's callbacks are served (`standin init --callback-url http://host:port`); null: no callbacks. */
export const CallbackListen = z.strictObject({ host: Host.default('127.0.0.1'), port: Port }).nullable()

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
