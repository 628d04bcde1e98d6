// Runs the dujiaoka adapter as one process beside dujiaoka and its Standin node:
//   node --import tsx adapters/dujiaoka/main.ts <config.json>
// It serves the node's callbacks (fence, stock, write-back) if `callback` is set, and runs the
// bridge (orders, tombstones, health → the node) if `node` is set (../shop-db/process.ts). Environment:
//   STANDIN_ADAPTER_CREDENTIALS  path of the node's adapter.json (else node.credentialsFile)
//   DUJIAOKA_DB_PASSWORD    the database password (else db.password)
// Logs JSON lines to stderr; stops cleanly on SIGTERM or SIGINT.
import { createMysqlPool } from '../mysql/db.js'
import { runAdapterProcess } from '../shop-db/process.js'
import { createDujiaokaAdapter } from './adapter.js'
import { DujiaokaBridge } from './bridge.js'
import { DujiaokaConfig } from './config.js'

await runAdapterProcess({
  name: 'dujiaoka',
  schema: DujiaokaConfig,
  passwordEnv: 'DUJIAOKA_DB_PASSWORD',
  openPool: (db, password) => createMysqlPool({ ...db, password }),
  port: (config, pool, logger) => createDujiaokaAdapter({ pool, logger, consign: config.consign }),
  bridge: (config, pool, node, claimKey, logger) =>
    DujiaokaBridge.open({
      pool,
      node,
      shopUrl: config.shopUrl,
      bridge: config.bridge,
      health: config.health,
      money: config.money,
      buyerLocale: config.buyerLocale,
      claimKey,
      logger,
    }),
})
