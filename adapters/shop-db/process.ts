// The process every database adapter's main.ts runs: the config file (zod-checked, errors name the
// field), the credentials the node wrote for its adapter, the pool, the callback host when
// `callback` is set and the bridge when `node` is set, and a clean stop on SIGTERM or SIGINT
// (callback host and bridge first, then the pool). Logs JSON lines to stderr.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import pino from 'pino'
import type { z } from 'zod'
import { formatZodError } from '../../protocol/index.js'
import type { Adapter, AdapterCredentials, Logger, NodeIngress } from '../contract.js'
import { startCallbackHost } from '../generic/callback-host.js'
import { AdapterClient } from '../generic/client.js'
import { readAdapterCredentials } from '../generic/credentials.js'

export function loadConfig<S extends z.ZodType>(path: string, schema: S): z.infer<S> {
  const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')))
  if (!parsed.success) throw new Error(`${path}: ${formatZodError(parsed.error)}`)
  return parsed.data
}

/** The credentials the node wrote for its adapter (adapter.json); never the node's secrets.json. */
export function credentialsOf(node: { readonly credentialsFile: string | null } | null, configPath: string): AdapterCredentials {
  const fromEnv = process.env.STANDIN_ADAPTER_CREDENTIALS
  if (fromEnv !== undefined && fromEnv !== '') return readAdapterCredentials(fromEnv)
  const file = node?.credentialsFile
  if (file === null || file === undefined) throw new Error("no credentials: set node.credentialsFile (the node's adapter.json) or STANDIN_ADAPTER_CREDENTIALS")
  return readAdapterCredentials(resolve(dirname(configPath), file))
}

/** On SIGTERM or SIGINT: runs every stop, ends the pool, exits. */
export function stopOnSignals(stops: readonly (() => Promise<void>)[], pool: { end(): Promise<void> }): void {
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
}

/** `db.password` of the config file, when its engine has one. */
function configuredPassword(db: object): string | null {
  return 'password' in db && typeof db.password === 'string' ? db.password : null
}

/** What every database adapter's config has, as its main.ts needs it. */
interface ProcessConfig {
  /** The shop's database; `password` where the engine takes one. */
  readonly db: object
  readonly node: { readonly url: string; readonly credentialsFile: string | null } | null
  readonly callback: { readonly host: string; readonly port: number } | null
  readonly logLevel: string
}

export interface AdapterProcess<C extends ProcessConfig, P extends { end(): Promise<void> }> {
  /** The shop software's name: `<name>-adapter` in every log line, and in the messages. */
  readonly name: string
  readonly schema: z.ZodType<C>
  /** The environment variable with the database password (else db.password). */
  readonly passwordEnv: string
  /** The shop database's pool (mysql2 or pg) or connection (SQLite), with the password from the environment or the config. */
  openPool(db: C['db'], password: string | null): P
  port(config: C, pool: P, logger: Logger): Promise<Adapter>
  bridge(config: C, pool: P, node: NodeIngress, claimKey: string, logger: Logger): Promise<{ run(): void; close(): Promise<void> }>
}

/** Runs an adapter process from `process.argv[2]`, the config file's path; exits 2 without it, 1 when it cannot start. */
export async function runAdapterProcess<C extends ProcessConfig, P extends { end(): Promise<void> }>(p: AdapterProcess<C, P>): Promise<void> {
  const configPath = process.argv[2]
  if (configPath === undefined) {
    console.error(`usage: main.ts <config.json>   (see examples/${p.name}/)`)
    process.exit(2)
  }
  const logger = pino({ level: process.env.STANDIN_LOG_LEVEL ?? 'info', base: { component: `${p.name}-adapter` } }, pino.destination(2))
  try {
    const config = loadConfig(configPath, p.schema)
    logger.level = process.env.STANDIN_LOG_LEVEL ?? config.logLevel
    const secrets = credentialsOf(config.node, configPath)
    const pool = p.openPool(config.db, process.env[p.passwordEnv] ?? configuredPassword(config.db))
    const stops: (() => Promise<void>)[] = []
    if (config.callback !== null) {
      const adapter = await p.port(config, pool, logger)
      const host = await startCallbackHost({ adapter, secret: secrets.callbackSecret, logger, host: config.callback.host, port: config.callback.port })
      stops.push(() => host.stop())
    }
    if (config.node !== null) {
      const bridge = await p.bridge(config, pool, new AdapterClient({ baseUrl: config.node.url, secret: secrets.requestSecret }), secrets.claimKey, logger)
      bridge.run()
      stops.push(() => bridge.close())
    }
    logger.info({ callback: config.callback, node: config.node?.url ?? null }, `${p.name} adapter running`)
    stopOnSignals(stops, pool)
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : String(error) }, `${p.name} adapter failed to start`)
    process.exit(1)
  }
}
