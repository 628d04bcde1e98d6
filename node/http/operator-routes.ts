// /metrics and /docs: for the operator, not for strangers (issue 18). An encapsulated context with
// the operator guard, beside the admin API's own.
import type { FastifyPluginAsync } from 'fastify'
import type { Registry } from 'prom-client'
import { docsRoutes } from './docs.js'
import { metricsRoute } from './metrics.js'
import type { RotatingSecret } from '../config/rotating-secret.js'
import { installOperatorGuard } from './operator-guard.js'

export interface OperatorRoutesOptions {
  token: string | RotatingSecret
  allowRemote: boolean
  clock?: (() => number) | undefined
  registry: Registry
  collect?: () => Record<string, number>
}

export const operatorRoutes: FastifyPluginAsync<OperatorRoutesOptions> = async (app, options) => {
  await installOperatorGuard(app, { token: options.token, allowRemote: options.allowRemote, clock: options.clock })
  metricsRoute(app, options.registry, options.collect)
  await docsRoutes(app)
}
