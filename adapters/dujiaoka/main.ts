// Runs the dujiaoka adapter as one process beside dujiaoka and its Standin node:
//   node --import tsx adapters/dujiaoka/main.ts <config.json>
// It serves the node's callbacks (fence, stock, write-back) if `callback` is set, and runs the
// bridge (orders, tombstones, health → the node) if `node` is set. Environment:
//   STANDIN_ADAPTER_CREDENTIALS  path of the node's adapter.json (else node.credentialsFile)
//   DUJIAOKA_DB_PASSWORD    the database password (else db.password)
// Logs JSON lines to stderr; stops cleanly on SIGTERM or SIGINT.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import pino from 'pino'
import { formatZodError } from '../../protocol/index.js'
import type { AdapterCredentials } from '../contract.js'
import { readAdapterCredentials } from '../generic/credentials.js'
import { startCallbackHost } from '../generic/callback-host.js'
import { AdapterClient } from '../generic/client.js'
import { createDujiaokaAdapter } from './adapter.js'
import { DujiaokaBridge } from './bridge.js'
import { DujiaokaConfig } from './config.js'
import { createMysqlPool } from '../mysql/db.js'

function loadConfig(path: string): DujiaokaConfig {
  const parsed = DujiaokaConfig.safeParse(JSON.parse(readFileSync(path, 'utf8')))
  if (!parsed.success) throw new Error(`${path}: ${formatZodError(parsed.error)}`)
  return parsed.data
}

/** The credentials the node wrote for its adapter (adapter.json); never the node's secrets.json. */
function credentials(config: DujiaokaConfig, configPath: string): AdapterCredentials {
  const fromEnv = process.env.STANDIN_ADAPTER_CREDENTIALS
  if (fromEnv !== undefined && fromEnv !== '') return readAdapterCredentials(fromEnv)
  const file = config.node?.credentialsFile
  if (file === null || file === undefined) throw new Error("no credentials: set node.credentialsFile (the node's adapter.json) or STANDIN_ADAPTER_CREDENTIALS")
  return readAdapterCredentials(resolve(dirname(configPath), file))
}

const configPath = process.argv[2]
if (configPath === undefined) {
  console.error('usage: main.ts <config.json>   (see examples/dujiaoka/)')
  process.exit(2)
}

const logger = pino({ level: process.env.STANDIN_LOG_LEVEL ?? 'info', base: { component: 'dujiaoka-adapter' } }, pino.destination(2))
try {
  const config = loadConfig(configPath)
  logger.level = process.env.STANDIN_LOG_LEVEL ?? config.logLevel
  const secrets = credentials(config, configPath)
  const pool = createMysqlPool({ ...config.db, password: process.env.DUJIAOKA_DB_PASSWORD ?? config.db.password })
  const stops: (() => Promise<void>)[] = []
  if (config.callback !== null) {
    const adapter = await createDujiaokaAdapter({ pool, logger, consign: config.consign })
    const host = await startCallbackHost({ adapter, secret: secrets.callbackSecret, logger, host: config.callback.host, port: config.callback.port })
    stops.push(() => host.stop())
  }
  if (config.node !== null) {
    const node = new AdapterClient({ baseUrl: config.node.url, secret: secrets.requestSecret })
    const bridge = await DujiaokaBridge.open({
      pool,
      node,
      shopUrl: config.shopUrl,
      bridge: config.bridge,
      health: config.health,
      money: config.money,
      buyerLocale: config.buyerLocale,
      claimKey: secrets.claimKey,
      logger,
    })
    bridge.run()
    stops.push(() => bridge.close())
  }
  logger.info({ callback: config.callback, node: config.node?.url ?? null }, 'dujiaoka adapter running')
  const stop = () => {
    void Promise.allSettled(stops.map((s) => s()))
      .then(() => pool.end())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} catch (error) {
  logger.error({ err: error instanceof Error ? error.message : String(error) }, 'dujiaoka adapter failed to start')
  process.exit(1)
}
