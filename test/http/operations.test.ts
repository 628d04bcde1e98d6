// Health, readiness, metrics, docs and the refusal of unknown routes and weak secrets.
import pino from 'pino'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildHttpServer } from '../../node/http/index.js'
import { CONNECTION_IDLE_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS, REQUEST_RECEIVE_TIMEOUT_MS } from '../../node/http/server.js'
import { FakeApi } from './fake-api.js'
import { errorOf, harness, type Harness, order, post, SECRET, TOKEN } from './helpers.js'

const OPERATOR = { authorization: `Bearer ${TOKEN}` }

let h: Harness
beforeEach(async () => {
  h = await harness()
})
afterEach(async () => {
  await h.app.close()
})

describe('health', () => {
  it('/healthz is 200 whatever the engine says', async () => {
    h.api.isReady = false
    const response = await h.app.inject({ url: '/healthz' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ ok: true })
  })

  it('/readyz follows api.ready()', async () => {
    expect((await h.app.inject({ url: '/readyz' })).statusCode).toBe(200)
    h.api.isReady = false
    const response = await h.app.inject({ url: '/readyz' })
    expect(response.statusCode).toBe(503)
    expect(errorOf(response).error).toBe('not_ready')
  })
})

describe('metrics', () => {
  it('/metrics is Prometheus text with request counts by route and status, process metrics and engine gauges', async () => {
    await post(h.app, { path: '/v1/adapter/orders', body: { orders: [order(1)] } })
    await h.app.inject({ url: '/no/such/route/123' })
    const response = await h.app.inject({ url: '/metrics', headers: OPERATOR })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/plain/)
    expect(response.body).toContain('standin_http_requests_total{method="POST",route="/v1/adapter/orders",status="200"} 1')
    expect(response.body).toContain('standin_http_requests_total{method="GET",route="(unmatched)",status="404"} 1')
    expect(response.body).toMatch(/standin_http_request_duration_seconds_bucket\{le="0\.005",method="POST",route="\/v1\/adapter\/orders",status="200"\}/)
    expect(response.body).toContain('process_cpu_user_seconds_total')
    expect(response.body).toContain('standin_escrow_pending 12')
  })

  it('two servers can share one registry', async () => {
    const second = await buildHttpServer({
      api: new FakeApi(),
      adapterSecret: SECRET,
      adminToken: TOKEN,
      logger: pino({ level: 'silent' }),
      metrics: { registry: h.registry },
    })
    expect((await second.inject({ url: '/metrics', headers: OPERATOR })).statusCode).toBe(200)
    await second.close()
  })
})

describe('docs', () => {
  it('/docs/json is an OpenAPI document of the adapter and admin paths, built from the zod schemas', async () => {
    const response = await h.app.inject({ url: '/docs/json', headers: OPERATOR })
    expect(response.statusCode).toBe(200)
    const doc = response.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> }
    expect(doc.openapi).toMatch(/^3\./)
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/adapter/orders',
        '/v1/adapter/orders/delivered',
        '/v1/adapter/orders/cancelled',
        '/v1/adapter/health',
        '/v1/admin/identity',
        '/v1/admin/partners',
        '/v1/admin/self',
        '/v1/admin/escrow',
        '/v1/admin/escrow/{origin}/orders',
        '/v1/admin/feeds',
        '/v1/admin/acks/wait',
        '/healthz',
        '/readyz',
      ]),
    )
    const submit = JSON.stringify(doc.paths['/v1/adapter/orders']?.post?.requestBody)
    expect(submit).toContain('"maxItems":1000')
    expect(submit).toContain('claimSecret')
  })

  it('/docs/json documents POST /claim as a urlencoded form of shop, order and secret (issue 19)', async () => {
    const doc = (await h.app.inject({ url: '/docs/json', headers: OPERATOR })).json() as {
      paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: { properties?: object; required?: string[] } }> } }>>
    }
    const form = doc.paths['/claim']?.post?.requestBody?.content?.['application/x-www-form-urlencoded']?.schema
    expect(Object.keys(form?.properties ?? {}).sort()).toEqual(['order', 'secret', 'shop'])
    expect([...(form?.required ?? [])].sort()).toEqual(['order', 'secret', 'shop'])
    expect(JSON.stringify(form)).toContain('"maxLength":128')
  })

  it('/docs/json lists every callback body and reply as a component, PartnerDelivery.keys typed as CardKey[] (issue 19)', async () => {
    const doc = (await h.app.inject({ url: '/docs/json', headers: OPERATOR })).json() as { components: { schemas: Record<string, unknown> } }
    const names = ['FenceBody', 'TakeStockBody', 'TakeStockReply', 'ReturnStockBody', 'WriteBackBody', 'PartnerDelivery', 'CardKey', 'OkReply', 'ErrorReply']
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(names.map((name) => `callback.${name}`)))
    const delivery = doc.components.schemas['callback.PartnerDelivery'] as { properties: { keys: { items: { properties: object; required: string[] } } } }
    expect(Object.keys(delivery.properties).sort()).toEqual(['channel', 'deliveredAt', 'epoch', 'fulfiller', 'fulfillerName', 'keys', 'order', 'sku'])
    expect(Object.keys(delivery.properties.keys.items.properties).sort()).toEqual(['key', 'keyId'])
  })

  it('/docs serves the swagger UI', async () => {
    const response = await h.app.inject({ url: '/docs', headers: OPERATOR })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^text\/html/)
  })
})

describe('what strangers reach (issue 18)', () => {
  const OPERATOR_ONLY = ['/metrics', '/docs', '/docs/json', '/docs/static/index.html']

  it('/metrics and /docs answer 401 without the admin token, and 403 off this machine even with it', async () => {
    for (const url of OPERATOR_ONLY) {
      const bare = await h.app.inject({ url })
      expect(bare.statusCode, url).toBe(401)
      expect(bare.body, url).not.toMatch(/standin_|openapi|swagger/i)
      expect((await h.app.inject({ url, headers: { authorization: 'Bearer wrong-token-0123456789012345' } })).statusCode, url).toBe(401)
      const remote = await h.app.inject({ url, headers: OPERATOR, remoteAddress: '192.0.2.9' })
      expect(remote.statusCode, url).toBe(403)
      expect(remote.body, url).not.toMatch(/standin_|openapi|swagger/i)
    }
  })

  it('a stranger reaches only health, the claim page and the outage notice without a credential', async () => {
    const doc = (await h.app.inject({ url: '/docs/json', headers: OPERATOR })).json() as { paths: Record<string, Record<string, unknown>> }
    const open: string[] = []
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const url = path.replace('{shop}', 'x').replace('{origin}', 'x')
        const response = await h.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          remoteAddress: '192.0.2.9',
          payload: method === 'get' ? undefined : {},
        })
        if (response.statusCode !== 401 && response.statusCode !== 403) open.push(`${method.toUpperCase()} ${path}`)
      }
    }
    expect(open.sort()).toEqual(['GET /claim', 'GET /healthz', 'GET /readyz', 'GET /status/{shop}', 'GET /status/{shop}.json', 'POST /claim'])
  })
})

describe('listening', () => {
  it('serves over a real socket with the configured timeouts', async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    expect(h.app.server.timeout).toBe(CONNECTION_IDLE_TIMEOUT_MS)
    expect(h.app.server.keepAliveTimeout).toBe(KEEP_ALIVE_TIMEOUT_MS)
    expect(h.app.server.requestTimeout).toBe(REQUEST_RECEIVE_TIMEOUT_MS)
    const address = h.app.server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    const response = await fetch(`http://127.0.0.1:${address.port}/healthz`)
    expect(await response.json()).toEqual({ ok: true })
  })
})

describe('edges', () => {
  it('unknown route → 404 JSON ErrorReply', async () => {
    const response = await h.app.inject({ url: '/v2/anything?x=1' })
    expect(response.statusCode).toBe(404)
    expect(errorOf(response)).toEqual({ error: 'not_found', message: 'route: no GET /v2/anything' })
  })

  it('a malformed URL → 400 JSON ErrorReply', async () => {
    const response = await h.app.inject({ url: '/v1/admin/escrow/%E0%A4%A/orders', headers: { authorization: `Bearer ${TOKEN}` } })
    expect(response.statusCode).toBe(400)
    expect(errorOf(response).error).toBe('bad_url')
  })

  it('refuses to build with a short secret or token', async () => {
    const base = { api: new FakeApi(), logger: pino({ level: 'silent' }) }
    await expect(buildHttpServer({ ...base, adapterSecret: 'short', adminToken: TOKEN })).rejects.toThrow(/adapterSecret/)
    await expect(buildHttpServer({ ...base, adapterSecret: SECRET, adminToken: '' })).rejects.toThrow(/adminToken/)
  })
})
