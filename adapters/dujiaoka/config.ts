// The dujiaoka adapter's configuration: one JSON file for the process that runs both halves
// (bridge: dujiaoka → node; callback host: node → dujiaoka). Not a wire document, so it lives
// here, not in protocol/. Secrets are not written in it: the adapter's credentials are read from
// the node's adapter.json (or the file STANDIN_ADAPTER_CREDENTIALS names), the database password
// from DUJIAOKA_DB_PASSWORD (or `db.password`).
import { z } from 'zod'
import { Locale } from '../../protocol/index.js'
import { DbConfig, HealthConfig, Host, MoneyConfig, Port } from '../mysql/config.js'

/** Most orders read (and at most sent to the node) per page; the node takes up to 1,000 per request. */
export const MAX_BATCH_ORDERS = 1_000
/**
 * Longest the consignment waits for sales that may have read its keys (see stock.ts). Below the
 * node's take-stock timeout (60 s, node/shop/callback-adapter.ts) with room for both phases.
 */
export const MAX_SETTLE_TIMEOUT_MS = 45_000

export const BridgeConfig = z.strictObject({
  pollIntervalMs: z.number().int().min(100).max(600_000).default(2_000),
  /** Orders per page read from `orders` (and per request to the node). */
  batchSize: z.number().int().min(1).max(MAX_BATCH_ORDERS).default(500),
  /**
   * Each poll starts this far behind the cursor, in `orders.updated_at` seconds, so an order whose
   * transaction committed after younger ones were read is still seen. Already-reported orders are
   * recognised in `standin_orders`, so the overlap never reports anything twice.
   */
  overlapSeconds: z.number().int().min(0).max(3_600).default(60),
  /**
   * The first poll (no cursor yet) starts this far behind the newest order, in `updated_at`
   * seconds. A shop's history holds paid orders left waiting for years (refunded or settled by
   * hand without a status change); escrowing them would let partners deliver them at the first
   * takeover, on the shop's account. Older waiting orders are counted in a warning instead.
   */
  firstStartLookbackSeconds: z
    .number()
    .int()
    .min(0)
    .max(3_650 * 86_400)
    .default(86_400),
})
export type BridgeConfig = z.infer<typeof BridgeConfig>

export const ConsignConfig = z.strictObject({
  /**
   * After keys are marked, wait this long before the first look at the open transactions. Safety
   * no longer rests on it (each list is checked to be newer than the marking, open-transactions.ts);
   * it stays as a short pause that lets sales already under way finish before we look.
   */
  settleMs: z.number().int().min(150).max(60_000).default(250),
  /** Give up (and put the keys back) if transactions older than the marking are still open after this. */
  settleTimeoutMs: z.number().int().min(100).max(MAX_SETTLE_TIMEOUT_MS).default(30_000),
})
export type ConsignConfig = z.infer<typeof ConsignConfig>

export const DujiaokaConfig = z.strictObject({
  version: z.literal(1),
  /** dujiaoka's public front, probed for health (any answer below 500 counts as up). */
  shopUrl: z.string().url(),
  db: DbConfig,
  /** The Standin node this shop runs beside; null runs the callback host alone. */
  node: z
    .strictObject({
      url: z.string().url(),
      /** The node's adapter.json (its credentials for this adapter), relative to this file; or STANDIN_ADAPTER_CREDENTIALS. */
      credentialsFile: z.string().min(1).nullable().default(null),
    })
    .nullable(),
  /** Where the node's callbacks are served (`standin init --callback-url http://host:port`); null: no callbacks. */
  callback: z.strictObject({ host: Host.default('127.0.0.1'), port: Port }).nullable(),
  bridge: BridgeConfig.default(BridgeConfig.parse({})),
  health: HealthConfig.default(HealthConfig.parse({})),
  money: MoneyConfig.default(MoneyConfig.parse({})),
  consign: ConsignConfig.default(ConsignConfig.parse({})),
  /** Language of the buyer mail partners send for this shop's orders (dujiaoka keeps none per order). */
  buyerLocale: Locale.default('zh-CN'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
export type DujiaokaConfig = z.infer<typeof DujiaokaConfig>
