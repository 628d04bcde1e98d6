// Builds the node's HTTP server: adapter ingress (HMAC), the operator's admin API, metrics and
// docs (loopback + admin token), public buyer pages and health (anyone), each an encapsulated
// plugin with its own authentication. Nothing here listens.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { NodeApi } from '../core/api.js'
import { LIMITS } from '../../protocol/index.js'
import { type RotatingSecret, rotating } from '../config/rotating-secret.js'
import { adapterRoutes } from './adapter-routes.js'
import { adminRoutes } from './admin-routes.js'
import type { TermsOperations } from '../terms/schemas.js'
import type { AlertLog } from './console/context.js'
import { consoleRoutes } from './console/index.js'
import { ConsoleSessions } from './console/sessions.js'
import { collectDocs } from './docs.js'
import { frameworkErrorHandler, installErrorHandling } from './errors.js'
import { healthRoutes } from './health-routes.js'
import { instrumentRequests } from './metrics.js'
import { operatorRoutes } from './operator-routes.js'
import { publicRoutes, type PublicRateLimits } from './public-routes.js'
import { MAX_ACK_WAIT_MS } from '../core/api-schemas.js'

export interface HttpServerOptions {
  api: NodeApi
  /** Shared with the shop's adapter; signs every /v1/adapter request (rotatable: ../config/rotating-secret.ts). */
  adapterSecret: string | RotatingSecret
  /** Bearer token of the admin API (rotatable). */
  adminToken: string | RotatingSecret
  /** Re-reads the secrets files (POST /v1/admin/secrets/reload); absent: no such route. */
  reloadSecrets?: () => void
  /** The store as backup lines (GET /v1/admin/backup); absent: no such route. */
  backupLines?: () => AsyncIterable<string>
  /** Serve the admin API to non-loopback clients too (default false). */
  adminAllowRemote?: boolean
  logger: Logger
  /** Milliseconds since the epoch; the adapter replay window is measured with it. */
  clock?: () => number
  bodyLimitBytes?: number
  metrics?: { registry: Registry; collect?: () => Record<string, number> }
  /** The node's terms (D64), for the admin API and console; without it there are no terms routes. */
  terms?: TermsOperations
  /** Per-address limits of the public claim page and outage notice (defaults in public-routes.ts). */
  publicRateLimits?: Partial<PublicRateLimits>
  /** The alerts the node raised, for the console's alert log. */
  alerts?: AlertLog
  /** Mark the console's session cookie Secure (the node's public URL is https, behind a proxy). */
  secureCookies?: boolean
}

/** Shortest adapter secret or admin token accepted: anything shorter is guessable. */
export const MIN_SECRET_CHARS = 16
/** Idle socket timeout; longer than the longest admin ack wait, which holds a socket silent. */
export const CONNECTION_IDLE_TIMEOUT_MS = MAX_ACK_WAIT_MS + 15_000
/** Time a client has to send its whole request (slow-body senders are cut off). */
export const REQUEST_RECEIVE_TIMEOUT_MS = 30_000
/** How long an idle keep-alive connection stays open between requests. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000
/** Requests one keep-alive connection may carry before the server closes it. */
export const MAX_REQUESTS_PER_SOCKET = 10_000

function requireSecret(name: string, value: string | RotatingSecret): void {
  if ((typeof value === 'string' ? value : value.current()).length < MIN_SECRET_CHARS)
    throw new Error(`${name} must be at least ${MIN_SECRET_CHARS} characters`)
}

export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  requireSecret('adapterSecret', options.adapterSecret)
  requireSecret('adminToken', options.adminToken)
  const clock = options.clock ?? Date.now
  const bodyLimitBytes = options.bodyLimitBytes ?? LIMITS.maxHttpBodyBytes

  const app = Fastify({
    // Widened to fastify's logger type so the instance matches plain FastifyInstance plugins.
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: bodyLimitBytes,
    connectionTimeout: CONNECTION_IDLE_TIMEOUT_MS,
    requestTimeout: REQUEST_RECEIVE_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    maxRequestsPerSocket: MAX_REQUESTS_PER_SOCKET,
    frameworkErrors: frameworkErrorHandler,
  })

  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  installErrorHandling(app)
  await collectDocs(app)
  const registry = instrumentRequests(app, options.metrics)

  await app.register(healthRoutes, { api: options.api })
  await app.register(adapterRoutes, {
    prefix: '/v1/adapter',
    api: options.api,
    secret: options.adapterSecret,
    clock,
    bodyLimitBytes,
  })
  const adminToken = rotating(options.adminToken)
  const consoleSessions = new ConsoleSessions(adminToken, clock)
  await app.register(adminRoutes, {
    prefix: '/v1/admin',
    api: options.api,
    token: adminToken,
    clock,
    bodyLimitBytes,
    allowRemote: options.adminAllowRemote ?? false,
    consoleLinks: consoleSessions,
    ...(options.reloadSecrets === undefined ? {} : { reloadSecrets: options.reloadSecrets }),
    ...(options.backupLines === undefined ? {} : { backupLines: options.backupLines }),
    ...(options.terms === undefined ? {} : { terms: options.terms }),
  })
  await app.register(consoleRoutes, {
    api: options.api,
    clock,
    ...(options.terms === undefined ? {} : { terms: options.terms }),
    ...(options.alerts === undefined ? {} : { alerts: options.alerts }),
    sessions: consoleSessions,
    allowRemote: options.adminAllowRemote ?? false,
    secureCookie: options.secureCookies ?? false,
  })
  await app.register(operatorRoutes, {
    token: adminToken,
    clock,
    allowRemote: options.adminAllowRemote ?? false,
    registry,
    ...(options.metrics?.collect === undefined ? {} : { collect: options.metrics.collect }),
  })
  await app.register(publicRoutes, { api: options.api, rateLimits: options.publicRateLimits, clock })
  return app
}
