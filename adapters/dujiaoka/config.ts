// The dujiaoka adapter's configuration: one JSON file for the process that runs both halves
// (bridge: dujiaoka → node; callback host: node → dujiaoka). Not a wire document, so it lives
// here, not in protocol/. Secrets are not written in it: the adapter's credentials are read from
// the node's adapter.json (or the file STANDIN_ADAPTER_CREDENTIALS names), the database password
// from DUJIAOKA_DB_PASSWORD (or `db.password`).
import { z } from 'zod'
import { Locale } from '../../protocol/index.js'
import { BridgeConfig, CallbackListen, DbConfig, HealthConfig, LogLevel, MoneyConfig, NodeLink } from '../shop-db/config.js'

/**
 * Longest the consignment waits for sales that may have read its keys (see stock.ts). Below the
 * node's take-stock timeout (60 s, node/shop/callback-adapter.ts) with room for both phases.
 */
export const MAX_SETTLE_TIMEOUT_MS = 45_000

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
  node: NodeLink,
  callback: CallbackListen,
  bridge: BridgeConfig.default(BridgeConfig.parse({})),
  health: HealthConfig.default(HealthConfig.parse({})),
  money: MoneyConfig.default(MoneyConfig.parse({})),
  consign: ConsignConfig.default(ConsignConfig.parse({})),
  /** Language of the buyer mail partners send for this shop's orders (dujiaoka keeps none per order). */
  buyerLocale: Locale.default('zh-CN'),
  logLevel: LogLevel,
})
export type DujiaokaConfig = z.infer<typeof DujiaokaConfig>
