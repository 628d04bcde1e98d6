// Builds a server around the fake engine with a controllable clock, and signs adapter requests
// the way an adapter does.
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import pino from 'pino'
import { Registry } from 'prom-client'
import { buildHttpServer, type HttpServerOptions } from '../../node/http/index.js'
import { ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, type AdapterOrder, adapterSignature } from '../../protocol/index.js'
import { T0 } from '../protocol/fixtures.js'
import { FakeApi } from './fake-api.js'

export const SECRET = 'adapter-secret-for-tests-0123456789'
export const TOKEN = 'admin-token-for-tests-0123456789'
export const NOW = T0

export interface Harness {
  app: FastifyInstance
  api: FakeApi
  clock: { now: number }
  logs: Record<string, unknown>[]
  registry: Registry
}

export async function harness(overrides: Partial<HttpServerOptions> = {}): Promise<Harness> {
  const api = new FakeApi()
  const clock = { now: NOW }
  const logs: Record<string, unknown>[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) })
  const registry = new Registry()
  const app = await buildHttpServer({
    api,
    adapterSecret: SECRET,
    adminToken: TOKEN,
    logger,
    clock: () => clock.now,
    metrics: { registry, collect: () => ({ escrow_pending: 12 }) },
    ...overrides,
  })
  await app.ready()
  return { app, api, clock, logs, registry }
}

export interface SignedRequest {
  path: string
  body: unknown
  /** Send these exact bytes instead of JSON.stringify(body). */
  raw?: string | Buffer
  timestamp?: number
  secret?: string
  /** Sign for this method/path, but send to `path` (to show the MAC binds them). */
  signMethod?: string
  signPath?: string
  contentType?: string | null
  headers?: Record<string, string>
}

export function sign(request: SignedRequest): { payload: string | Buffer; headers: Record<string, string> } {
  const payload = request.raw ?? JSON.stringify(request.body)
  const timestamp = request.timestamp ?? NOW
  const signature = adapterSignature(request.secret ?? SECRET, timestamp, request.signMethod ?? 'POST', request.signPath ?? request.path, payload)
  const headers: Record<string, string> = {
    [ADAPTER_TIMESTAMP_HEADER]: String(timestamp),
    [ADAPTER_SIGNATURE_HEADER]: signature,
    ...request.headers,
  }
  if (request.contentType !== null) headers['content-type'] = request.contentType ?? 'application/json'
  return { payload, headers }
}

export function post(app: FastifyInstance, request: SignedRequest): Promise<LightMyRequestResponse> {
  const { payload, headers } = sign(request)
  const options: InjectOptions = { method: 'POST', url: request.path, payload, headers }
  return app.inject(options)
}

export function order(i: number, overrides: Record<string, unknown> = {}): AdapterOrder {
  return {
    order: `order-${i}`,
    sku: 'sku-gift-card-100',
    qty: 1,
    amount: { minorUnits: 10_000, currency: 'CNY' },
    paidAt: NOW - 60_000,
    buyer: { email: `buyer${i}@example.com`, locale: 'zh-CN' },
    claimSecret: `claim-secret-${i}`,
    ...overrides,
  } as AdapterOrder
}

/** An ErrorReply body: exactly { error, message }, both strings. */
export function errorOf(response: LightMyRequestResponse): { error: string; message: string } {
  const body = response.json() as Record<string, unknown>
  if (Object.keys(body).sort().join() !== 'error,message' || typeof body.error !== 'string' || typeof body.message !== 'string') {
    throw new Error(`not an ErrorReply: ${response.body}`)
  }
  return body as { error: string; message: string }
}
