// The acg-faka adapter's configuration: one JSON file for the process that runs both halves
// (bridge: acg-faka → node; callback host: node → acg-faka). Secrets are not written in it: the
// adapter's credentials come from the node's adapter.json (or STANDIN_ADAPTER_CREDENTIALS), the
// database password from ACG_FAKA_DB_PASSWORD (or `db.password`).
import { z } from 'zod'
import { Locale } from '../../protocol/index.js'
import { BridgeConfig, CallbackListen, DbConfig, HealthConfig, LogLevel, MoneyConfig, NodeLink } from '../shop-db/config.js'

export const AcgFakaConfig = z.strictObject({
  version: z.literal(1),
  /** acg-faka's public front, probed for health (any answer below 500 counts as up). */
  shopUrl: z.string().url(),
  db: DbConfig,
  /** The table prefix chosen at install (`acg_` by default). */
  tablePrefix: z
    .string()
    .max(32)
    .regex(/^[A-Za-z0-9_]*$/, 'must be letters, digits and _ only')
    .default('acg_'),
  /**
   * The zone of acg-faka's wall-clock DATETIME values (`pay_time`, `create_time`): PHP writes
   * `date('Y-m-d H:i:s')` in its own zone, China time by default.
   */
  shopTimeZone: z
    .string()
    .regex(/^[+-]\d{2}:\d{2}$/, 'must be an offset such as +08:00')
    .default('+08:00'),
  node: NodeLink,
  callback: CallbackListen,
  bridge: BridgeConfig.default(BridgeConfig.parse({})),
  health: HealthConfig.default(HealthConfig.parse({})),
  money: MoneyConfig.default(MoneyConfig.parse({})),
  buyerLocale: Locale.default('zh-CN'),
  logLevel: LogLevel,
})
export type AcgFakaConfig = z.infer<typeof AcgFakaConfig>
