// Prometheus metrics: process defaults, every HTTP request by route and status, and whatever
// gauges the engine reports through `collect()` at scrape time (so they are never stale).
import type { FastifyInstance } from 'fastify'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'

export interface MetricsOptions {
  registry: Registry
  /** Engine figures sampled at each scrape, e.g. { escrow_pending: 12 }; each key becomes a gauge. */
  collect?: () => Record<string, number>
}

const REQUESTS_TOTAL = 'standin_http_requests_total'
const REQUEST_SECONDS = 'standin_http_request_duration_seconds'
const GAUGE_PREFIX = 'standin_'
/** Seconds; adapter calls wait for a durable write, admin ack waits can take up to a minute. */
const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
const LABELS = ['method', 'route', 'status'] as const
// A route label per unknown URL would let any scanner grow the registry without bound.
const UNMATCHED_ROUTE = '(unmatched)'

function existingOr<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create()
}

export function gaugeName(key: string): string {
  const safe = key.replace(/[^a-zA-Z0-9_:]/g, '_')
  return safe.startsWith(GAUGE_PREFIX) ? safe : `${GAUGE_PREFIX}${safe}`
}

function updateGauges(registry: Registry, values: Record<string, number>): void {
  for (const [key, value] of Object.entries(values)) {
    const name = gaugeName(key)
    const gauge = existingOr(registry, name, () => new Gauge({ name, help: `engine figure "${key}"`, registers: [registry] }))
    if (gauge instanceof Gauge) gauge.set(value)
  }
}

/** Adds request instrumentation to the root instance (hooks must see every route); returns the registry to serve. */
export function instrumentRequests(app: FastifyInstance, options: Partial<MetricsOptions> = {}): Registry {
  const registry = options.registry ?? new Registry()
  if (registry.getSingleMetric('process_cpu_user_seconds_total') === undefined) collectDefaultMetrics({ register: registry })
  const requests = existingOr(
    registry,
    REQUESTS_TOTAL,
    () => new Counter({ name: REQUESTS_TOTAL, help: 'HTTP requests served, by route and status', labelNames: LABELS, registers: [registry] }),
  )
  const seconds = existingOr(
    registry,
    REQUEST_SECONDS,
    () =>
      new Histogram({
        name: REQUEST_SECONDS,
        help: 'HTTP request duration in seconds, by route and status',
        labelNames: LABELS,
        buckets: DURATION_BUCKETS_SECONDS,
        registers: [registry],
      }),
  )

  app.addHook('onResponse', async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) }
    requests.inc(labels)
    seconds.observe(labels, reply.elapsedTime / 1000)
  })

  return registry
}

/** GET /metrics: registered inside the operator context (operator-routes.ts), behind its guard. */
export function metricsRoute(app: FastifyInstance, registry: Registry, collect?: () => Record<string, number>): void {
  // Scrapes are periodic; only their failures are worth a log line.
  app.get(
    '/metrics',
    {
      logLevel: 'warn',
      schema: { tags: ['operations'], summary: 'Prometheus metrics (text exposition format); admin token', security: [{ adminBearer: [] }] },
    },
    async (request, reply) => {
      if (collect !== undefined) {
        try {
          updateGauges(registry, collect())
        } catch (error) {
          // A failing engine probe must not hide the HTTP and process metrics.
          request.log.error({ err: error }, 'metrics collect() failed')
        }
      }
      return reply.type(registry.contentType).send(await registry.metrics())
    },
  )
}
