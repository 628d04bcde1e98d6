// Runs the Dujiao-Next adapter as one process beside Dujiao-Next and its Standin node:
//   node --import tsx adapters/dujiao-next/main.ts <config.json>
// It serves the node's callbacks (fence, stock, write-back) if `callback` is set, and runs the
// bridge (orders, tombstones, health → the node) if `node` is set (../shop-db/process.ts). Environment:
//   STANDIN_ADAPTER_CREDENTIALS  path of the node's adapter.json (else node.credentialsFile)
//   DUJIAO_NEXT_DB_PASSWORD      the PostgreSQL password (else db.password)
// Logs JSON lines to stderr; stops cleanly on SIGTERM or SIGINT.
import { runAdapterProcess } from '../shop-db/process.js'
import { createDujiaoNextAdapter } from './adapter.js'
import { DujiaoNextBridge } from './bridge.js'
import { DujiaoNextConfig } from './config.js'
import { openDujiaoNextDatabase } from './database.js'

await runAdapterProcess({
  name: 'dujiao-next',
  schema: DujiaoNextConfig,
  passwordEnv: 'DUJIAO_NEXT_DB_PASSWORD',
  openPool: openDujiaoNextDatabase,
  port: (_config, db, logger) => createDujiaoNextAdapter({ db, logger }),
  bridge: (config, db, node, claimKey, logger) =>
    DujiaoNextBridge.open({
      db,
      node,
      shopUrl: config.shopUrl,
      bridge: config.bridge,
      health: config.health,
      minorDigits: config.money.minorDigits,
      buyerLocale: config.buyerLocale,
      claimKey,
      logger,
    }),
})
