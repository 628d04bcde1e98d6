// Runs the acg-faka adapter as one process beside acg-faka and its Standin node:
//   node --import tsx adapters/acg-faka/main.ts <config.json>
// It serves the node's callbacks (fence, stock, write-back) if `callback` is set, and runs the
// bridge (orders, tombstones, health → the node) if `node` is set (../shop-db/process.ts). Environment:
//   STANDIN_ADAPTER_CREDENTIALS  path of the node's adapter.json (else node.credentialsFile)
//   ACG_FAKA_DB_PASSWORD         the database password (else db.password)
// Logs JSON lines to stderr; stops cleanly on SIGTERM or SIGINT.
import { createMysqlPool } from '../mysql/db.js'
import { runAdapterProcess } from '../shop-db/process.js'
import { createAcgFakaAdapter } from './adapter.js'
import { AcgFakaBridge } from './bridge.js'
import { AcgFakaConfig } from './config.js'

await runAdapterProcess({
  name: 'acg-faka',
  schema: AcgFakaConfig,
  passwordEnv: 'ACG_FAKA_DB_PASSWORD',
  openPool: (db, password) => createMysqlPool({ ...db, password }),
  port: (config, pool, logger) => createAcgFakaAdapter({ pool, logger, tablePrefix: config.tablePrefix }),
  bridge: (config, pool, node, claimKey, logger) =>
    AcgFakaBridge.open({
      pool,
      node,
      shopUrl: config.shopUrl,
      tablePrefix: config.tablePrefix,
      shopTimeZone: config.shopTimeZone,
      bridge: config.bridge,
      health: config.health,
      money: config.money,
      buyerLocale: config.buyerLocale,
      claimKey,
      logger,
    }),
})
