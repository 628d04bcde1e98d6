// Signed adapter requests reach the (fake) engine with the parsed body and get the reply schema;
// engine refusals map to 409/503 and engine crashes to a 500 without internals.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConflictError, UnavailableError } from '../../node/core/api.js'
import { SubmitOrdersReply, TombstoneReply } from '../../protocol/index.js'
import { errorOf, harness, type Harness, order, post } from './helpers.js'

let h: Harness
beforeEach(async () => {
  h = await harness()
})
afterEach(async () => {
  await h.app.close()
})

describe('adapter ingress, signed requests', () => {
  it('POST /v1/adapter/orders hands the parsed orders to submitOrders and returns its reply', async () => {
    const orders = [order(1), order(2, { qty: 3, buyer: { email: null, locale: 'en' } })]
    const response = await post(h.app, { path: '/v1/adapter/orders', body: { orders } })
    expect(response.statusCode).toBe(200)
    expect(SubmitOrdersReply.parse(response.json())).toEqual({ accepted: 1, duplicates: 0, seq: 7, unserved: [] })
    expect(h.api.calls).toEqual([{ method: 'submitOrders', args: [orders] }])
  })

  it('accepts application/json with a charset parameter', async () => {
    const response = await post(h.app, { path: '/v1/adapter/orders', body: { orders: [order(1)] }, contentType: 'application/json; charset=utf-8' })
    expect(response.statusCode).toBe(200)
    expect(h.api.calls).toHaveLength(1)
  })

  it('POST /v1/adapter/orders/delivered calls markDelivered', async () => {
    const items = [{ order: 'order-1', time: 1_790_000_000_000 }]
    const response = await post(h.app, { path: '/v1/adapter/orders/delivered', body: { orders: items } })
    expect(response.statusCode).toBe(200)
    expect(TombstoneReply.parse(response.json())).toEqual({ updated: 1, unknown: [], seq: 8 })
    expect(h.api.calls).toEqual([{ method: 'markDelivered', args: [items] }])
  })

  it('POST /v1/adapter/orders/cancelled calls markCancelled', async () => {
    const items = [{ order: 'order-9', reason: 'refunded' }]
    const response = await post(h.app, { path: '/v1/adapter/orders/cancelled', body: { orders: items } })
    expect(response.statusCode).toBe(200)
    expect(TombstoneReply.parse(response.json())).toEqual({ updated: 0, unknown: ['order-9'], seq: 0 })
    expect(h.api.calls).toEqual([{ method: 'markCancelled', args: [items] }])
  })

  it('POST /v1/adapter/health reports platform health', async () => {
    const response = await post(h.app, { path: '/v1/adapter/health', body: { platform: 'degraded', detail: 'payment gateway slow' } })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ ok: true })
    expect(h.api.calls).toEqual([{ method: 'reportPlatformHealth', args: ['degraded', 'payment gateway slow'] }])
  })

  it('a fresh signature on the same body is accepted again (retries re-sign)', async () => {
    const body = { orders: [order(1)] }
    expect((await post(h.app, { path: '/v1/adapter/orders', body })).statusCode).toBe(200)
    h.clock.now += 1
    expect((await post(h.app, { path: '/v1/adapter/orders', body, timestamp: h.clock.now })).statusCode).toBe(200)
    expect(h.api.calls).toHaveLength(2)
  })
})

describe('engine refusals and failures', () => {
  it('ConflictError → 409 with its message', async () => {
    h.api.onSubmit = () => {
      throw new ConflictError(['order-1'])
    }
    const response = await post(h.app, { path: '/v1/adapter/orders', body: { orders: [order(1)] } })
    expect(response.statusCode).toBe(409)
    expect(errorOf(response)).toEqual({ error: 'conflict', message: 'order ids already escrowed with different content: order-1' })
  })

  it('UnavailableError → 503 with Retry-After', async () => {
    h.api.onSubmit = () => {
      throw new UnavailableError('no agreement in force')
    }
    const response = await post(h.app, { path: '/v1/adapter/orders', body: { orders: [order(1)] } })
    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('5')
    expect(errorOf(response)).toEqual({ error: 'unavailable', message: 'no agreement in force' })
  })

  it('an unexpected engine error → 500 without internals, and it is logged', async () => {
    h.api.onSubmit = () => {
      throw new Error('disk on fire at /var/lib/standin')
    }
    const response = await post(h.app, { path: '/v1/adapter/orders', body: { orders: [order(1)] } })
    expect(response.statusCode).toBe(500)
    expect(errorOf(response).error).toBe('internal')
    expect(response.body).not.toContain('disk on fire')
    expect(response.body).not.toContain('at ')
    expect(h.logs.some((line) => line.level === 50 && JSON.stringify(line).includes('disk on fire'))).toBe(true)
  })

  it('an engine reply that breaks the reply schema is a 500, not a malformed 200', async () => {
    h.api.onSubmit = () => ({ accepted: -1, duplicates: 0, seq: 0, unserved: [] })
    const response = await post(h.app, { path: '/v1/adapter/orders', body: { orders: [order(1)] } })
    expect(response.statusCode).toBe(500)
    expect(errorOf(response).error).toBe('internal')
  })
})
