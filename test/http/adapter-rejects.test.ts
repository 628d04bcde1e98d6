// Every refusal of the adapter ingress: the right status, an ErrorReply naming the field and the
// reason, and — the point — the engine is never called, so nothing is stored.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ADAPTER_REPLAY_WINDOW_MS, ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, LIMITS, MAX_ORDERS_PER_REQUEST } from '../../protocol/index.js'
import { errorOf, harness, type Harness, NOW, order, post, sign } from './helpers.js'

let h: Harness
beforeEach(async () => {
  h = await harness()
})
afterEach(async () => {
  // Whatever was refused, the engine saw nothing.
  expect(h.api.calls).toEqual([])
  await h.app.close()
})

const ORDERS = '/v1/adapter/orders'
const valid = () => ({ orders: [order(1)] })

async function expectRefusal(response: { statusCode: number; json: () => unknown; body: string }, status: number, error: string, message: RegExp | string) {
  expect(response.statusCode, response.body).toBe(status)
  const body = errorOf(response as Parameters<typeof errorOf>[0])
  expect(body.error).toBe(error)
  if (typeof message === 'string') expect(body.message).toBe(message)
  else expect(body.message).toMatch(message)
}

describe('authentication', () => {
  it('missing timestamp header → 401', async () => {
    const { payload, headers } = sign({ path: ORDERS, body: valid() })
    delete headers[ADAPTER_TIMESTAMP_HEADER]
    const response = await h.app.inject({ method: 'POST', url: ORDERS, payload, headers })
    await expectRefusal(response, 401, 'unauthorized', /^x-standin-timestamp: missing/)
  })

  it('missing signature header → 401', async () => {
    const { payload, headers } = sign({ path: ORDERS, body: valid() })
    delete headers[ADAPTER_SIGNATURE_HEADER]
    const response = await h.app.inject({ method: 'POST', url: ORDERS, payload, headers })
    await expectRefusal(response, 401, 'unauthorized', /^x-standin-signature: missing/)
  })

  it.each(['1.5e12', '-1', 'yesterday', ''])('timestamp %j → 401', async (timestamp) => {
    const response = await post(h.app, { path: ORDERS, body: valid(), headers: { [ADAPTER_TIMESTAMP_HEADER]: timestamp } })
    await expectRefusal(response, 401, 'unauthorized', /x-standin-timestamp/)
  })

  it('signature signed with another secret → 401', async () => {
    const response = await post(h.app, { path: ORDERS, body: valid(), secret: 'some-other-secret-0123456789' })
    await expectRefusal(response, 401, 'unauthorized', /^x-standin-signature: does not match/)
  })

  it('a body changed after signing → 401', async () => {
    const { headers } = sign({ path: ORDERS, body: valid() })
    const response = await h.app.inject({ method: 'POST', url: ORDERS, payload: JSON.stringify({ orders: [order(2)] }), headers })
    await expectRefusal(response, 401, 'unauthorized', /does not match/)
  })

  it('uppercase or short hex signatures → 401', async () => {
    const { payload, headers } = sign({ path: ORDERS, body: valid() })
    headers[ADAPTER_SIGNATURE_HEADER] = headers[ADAPTER_SIGNATURE_HEADER]!.toUpperCase()
    await expectRefusal(await h.app.inject({ method: 'POST', url: ORDERS, payload, headers }), 401, 'unauthorized', /64 lowercase hex/)
  })

  it('a body signed for /orders/delivered is refused on /orders/cancelled (the MAC binds the path)', async () => {
    const body = { orders: [{ order: 'order-1', reason: 'x' }] }
    const response = await post(h.app, { path: '/v1/adapter/orders/cancelled', signPath: '/v1/adapter/orders/delivered', body })
    await expectRefusal(response, 401, 'unauthorized', /does not match the method, path/)
  })

  it('the MAC binds the method', async () => {
    const response = await post(h.app, { path: ORDERS, signMethod: 'PUT', body: valid() })
    await expectRefusal(response, 401, 'unauthorized', /does not match/)
  })

  it.each([
    ['old', -ADAPTER_REPLAY_WINDOW_MS - 1],
    ['future', ADAPTER_REPLAY_WINDOW_MS + 1],
  ])('stale timestamp (%s) → 401 "stale timestamp"', async (_label, offset) => {
    const response = await post(h.app, { path: ORDERS, body: valid(), timestamp: NOW + offset })
    await expectRefusal(response, 401, 'unauthorized', /^stale timestamp: /)
  })

  it('a request the node clock has moved past the window → 401', async () => {
    h.clock.now = NOW + ADAPTER_REPLAY_WINDOW_MS + 1
    await expectRefusal(await post(h.app, { path: ORDERS, body: valid(), timestamp: NOW }), 401, 'unauthorized', /stale timestamp/)
  })

  it('an exact replay inside the window → 409 "replayed request", the first one only is accepted', async () => {
    const { payload, headers } = sign({ path: ORDERS, body: valid() })
    const first = await h.app.inject({ method: 'POST', url: ORDERS, payload, headers })
    expect(first.statusCode).toBe(200)
    expect(h.api.calls).toHaveLength(1)
    h.api.calls.length = 0
    h.clock.now += ADAPTER_REPLAY_WINDOW_MS - 1
    const again = await h.app.inject({ method: 'POST', url: ORDERS, payload, headers })
    await expectRefusal(again, 409, 'replayed', /^replayed request/)
  })

  it('a request captured before a restart → 401 after it, although inside the window; a fresh signature passes', async () => {
    const { payload, headers } = sign({ path: ORDERS, body: valid() })
    expect((await h.app.inject({ method: 'POST', url: ORDERS, payload, headers })).statusCode).toBe(200)
    h.api.calls.length = 0 // accepted once, before the restart
    await h.app.close()
    // The node restarts 10 s later: its memory of accepted signatures is gone.
    const clock = { now: NOW + 10_000 }
    const restarted = await harness({ clock: () => clock.now })
    try {
      await expectRefusal(await restarted.app.inject({ method: 'POST', url: ORDERS, payload, headers }), 401, 'unauthorized', /signed before this node started/)
      expect(restarted.api.calls).toEqual([])
      expect((await post(restarted.app, { path: ORDERS, body: valid(), timestamp: clock.now })).statusCode).toBe(200)
    } finally {
      await restarted.app.close()
    }
  })

  it('authentication comes before JSON parsing: malformed JSON with a bad MAC → 401', async () => {
    const { headers } = sign({ path: ORDERS, body: valid() })
    const response = await h.app.inject({ method: 'POST', url: ORDERS, payload: '{"orders": [', headers })
    await expectRefusal(response, 401, 'unauthorized', /does not match/)
  })

  it('an unsigned oversized body is refused before it is read → 401', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: ORDERS,
      payload: 'x'.repeat(LIMITS.maxHttpBodyBytes + 1),
      headers: { 'content-type': 'application/json' },
    })
    await expectRefusal(response, 401, 'unauthorized', /x-standin-timestamp/)
  })
})

describe('body', () => {
  it('malformed JSON → 400 naming the problem', async () => {
    const response = await post(h.app, { path: ORDERS, body: null, raw: '{"orders": [' })
    await expectRefusal(response, 400, 'malformed_json', /^body: malformed JSON: /)
  })

  it('empty body → 400 naming the body', async () => {
    await expectRefusal(await post(h.app, { path: ORDERS, body: null, raw: '' }), 400, 'malformed_json', /^body: malformed JSON/)
    await expectRefusal(await post(h.app, { path: ORDERS, body: null, raw: '', contentType: null, timestamp: NOW + 1 }), 400, 'invalid', /^body: /)
  })

  it('a "__proto__" key → 400', async () => {
    const raw = '{"orders":[],"__proto__":{"polluted":true}}'
    await expectRefusal(await post(h.app, { path: ORDERS, body: null, raw }), 400, 'malformed_json', /__proto__/)
  })

  it('body over the limit → 413 with the limit in the message', async () => {
    const big = { orders: [order(1, { claimSecret: 'x'.repeat(LIMITS.maxHttpBodyBytes) })] }
    await expectRefusal(await post(h.app, { path: ORDERS, body: big }), 413, 'too_large', `body: larger than the limit of ${LIMITS.maxHttpBodyBytes} bytes`)
  })

  it('the bodyLimitBytes option lowers the limit', async () => {
    await h.app.close()
    h = await harness({ bodyLimitBytes: 512 })
    const body = { orders: [order(1), order(2), order(3)] }
    await expectRefusal(await post(h.app, { path: ORDERS, body }), 413, 'too_large', 'body: larger than the limit of 512 bytes')
  })

  it.each([
    ['text/plain', 415, 'unsupported_media_type', /^content-type: 'text\/plain' is not supported/],
    ['application/x-www-form-urlencoded', 415, 'unsupported_media_type', /^content-type: /],
    [null, 415, 'unsupported_media_type', /^content-type: '\(none\)'/],
  ])('content-type %j → %i', async (contentType, status, error, message) => {
    await expectRefusal(await post(h.app, { path: ORDERS, body: valid(), contentType }), status, error, message)
  })

  it.each([
    ['qty as a string', { orders: [order(1, { qty: '1' })] }, 'body.orders.0.qty: Invalid input: expected number, received string'],
    ['qty zero', { orders: [order(1, { qty: 0 })] }, 'body.orders.0.qty: Too small: expected number to be >=1'],
    ['fractional qty', { orders: [order(1, { qty: 1.5 })] }, 'body.orders.0.qty: Invalid input: expected int, received number'],
    [
      'negative amount',
      { orders: [order(1, { amount: { minorUnits: -5, currency: 'CNY' } })] },
      'body.orders.0.amount.minorUnits: Too small: expected number to be >=0',
    ],
    [
      'lowercase currency',
      { orders: [order(1, { amount: { minorUnits: 5, currency: 'cny' } })] },
      'body.orders.0.amount.currency: must be an ISO 4217 code such as CNY',
    ],
    ['unknown field', { orders: [order(1, { colour: 'red' })] }, 'body.orders.0: Unrecognized key: "colour"'],
    ['unknown top-level field', { orders: [order(1)], dryRun: true }, 'body: Unrecognized key: "dryRun"'],
    ['no orders', { orders: [] }, 'body.orders: Too small: expected array to have >=1 items'],
    ['missing orders', {}, 'body.orders: Invalid input: expected array, received undefined'],
    ['an array body', [order(1)], 'body: Invalid input: expected object, received array'],
    ['duplicate order ids', { orders: [order(1), order(1, { qty: 2 })] }, 'body.orders: order ids must be distinct'],
    [
      `${MAX_ORDERS_PER_REQUEST + 1} orders`,
      { orders: Array.from({ length: MAX_ORDERS_PER_REQUEST + 1 }, (_, i) => order(i)) },
      `body.orders: Too big: expected array to have <=${MAX_ORDERS_PER_REQUEST} items`,
    ],
    ['order id with a space', { orders: [order(1, { order: 'order 1' })] }, 'body.orders.0.order: must be printable ASCII without spaces'],
    ['bad locale', { orders: [order(1, { buyer: { email: null, locale: 'fr' } })] }, /^body\.orders\.0\.buyer\.locale: Invalid option/],
  ])('%s → 400 naming the field and reason', async (_label, body, message) => {
    await expectRefusal(await post(h.app, { path: ORDERS, body }), 400, 'invalid', message)
  })

  it('several problems are listed together, at most five', async () => {
    const body = { orders: Array.from({ length: 8 }, (_, i) => order(i, { qty: 0 })) }
    const { message } = errorOf(await post(h.app, { path: ORDERS, body }))
    expect(message.split('; ')).toHaveLength(5)
    expect(message).toMatch(/^body\.orders\.0\.qty: Too small/)
  })

  it('tombstone and health bodies are validated the same way', async () => {
    const delivered = await post(h.app, { path: '/v1/adapter/orders/delivered', body: { orders: [{ order: 'o-1', time: -1 }] } })
    await expectRefusal(delivered, 400, 'invalid', 'body.orders.0.time: Too small: expected number to be >=0')
    const health = await post(h.app, { path: '/v1/adapter/health', body: { platform: 'on fire' } })
    await expectRefusal(health, 400, 'invalid', /^body\.platform: Invalid option/)
  })

  it('unknown adapter route → 404 JSON', async () => {
    await expectRefusal(await post(h.app, { path: '/v1/adapter/refunds', body: valid() }), 404, 'not_found', 'route: no POST /v1/adapter/refunds')
  })
})
