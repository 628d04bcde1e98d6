// Liveness and readiness for supervisors and load balancers: /healthz answers while the process
// serves at all; /readyz only once the engine can take orders (store open, terms in force).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { NodeApi } from '../core/api.js'
import { OkReply } from '../../protocol/index.js'
import { ERROR_REPLIES } from './schemas.js'

export interface HealthRoutesOptions {
  api: Pick<NodeApi, 'ready'>
}

const TAGS = ['operations']
// Probes arrive every few seconds; logging each one would drown the node's real events.
const PROBE_LOG_LEVEL = 'warn'

export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { api }) => {
  app.get(
    '/healthz',
    {
      logLevel: PROBE_LOG_LEVEL,
      schema: { tags: TAGS, summary: 'The process is serving', response: { 200: OkReply } },
    },
    async () => ({ ok: true as const }),
  )

  app.get(
    '/readyz',
    {
      logLevel: PROBE_LOG_LEVEL,
      schema: { tags: TAGS, summary: 'The engine is ready to take orders', response: { 200: OkReply, ...ERROR_REPLIES } },
    },
    async (_request, reply) => {
      if (api.ready()) return { ok: true as const }
      return reply.code(503).send({ error: 'not_ready', message: 'engine: not ready (store, agreement or transport not started)' })
    },
  )
}
