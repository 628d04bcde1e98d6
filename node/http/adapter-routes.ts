// Adapter ingress: the shop software reports paid, delivered and cancelled orders and its own
// health. Everything under this plugin is HMAC-authenticated (hmac-auth.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { NodeApi } from '../core/api.js'
import { CancelledBody, DeliveredBody, HealthBody, SubmitOrdersBody, SubmitOrdersReply, TombstoneReply } from '../../protocol/index.js'
import { installHmacAuth } from './hmac-auth.js'
import type { ReplayGuard } from '../../adapters/contract.js'
import { OkReply } from '../../protocol/index.js'
import { ERROR_REPLIES } from './schemas.js'
import type { RotatingSecret } from '../config/rotating-secret.js'

export interface AdapterRoutesOptions {
  api: NodeApi
  secret: string | RotatingSecret
  clock: () => number
  bodyLimitBytes: number
  replayGuard?: ReplayGuard
}

const TAGS = ['adapter']
const SECURITY = [{ adapterHmac: [] }]

export const adapterRoutes: FastifyPluginAsyncZod<AdapterRoutesOptions> = async (app, options) => {
  const { api, bodyLimitBytes: bodyLimit } = options
  installHmacAuth(app, options)

  app.post(
    '/orders',
    {
      bodyLimit,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Escrow paid orders; replies once they are durable at this node',
        body: SubmitOrdersBody,
        response: { 200: SubmitOrdersReply, ...ERROR_REPLIES },
      },
    },
    async (request) => api.submitOrders(request.body.orders),
  )

  app.post(
    '/orders/delivered',
    {
      bodyLimit,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Mark escrowed orders delivered by the shop itself',
        body: DeliveredBody,
        response: { 200: TombstoneReply, ...ERROR_REPLIES },
      },
    },
    async (request) => api.markDelivered(request.body.orders),
  )

  app.post(
    '/orders/cancelled',
    {
      bodyLimit,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: 'Mark escrowed orders cancelled or refunded',
        body: CancelledBody,
        response: { 200: TombstoneReply, ...ERROR_REPLIES },
      },
    },
    async (request) => api.markCancelled(request.body.orders),
  )

  app.post(
    '/health',
    {
      bodyLimit,
      schema: {
        tags: TAGS,
        security: SECURITY,
        summary: "Report the shop platform's own health",
        body: HealthBody,
        response: { 200: OkReply, ...ERROR_REPLIES },
      },
    },
    async (request) => {
      api.reportPlatformHealth(request.body.platform, request.body.detail)
      return { ok: true as const }
    },
  )
}
