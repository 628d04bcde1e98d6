// Property: whatever malformed body a correctly signed adapter request carries, the node answers
// with a 4xx ErrorReply and the engine never sees it.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SubmitOrdersBody } from '../../protocol/index.js'
import { errorOf, harness, type Harness, NOW, order, post } from './helpers.js'

const RUNS = 600
const ORDERS = '/v1/adapter/orders'
const FIELDS = ['order', 'sku', 'qty', 'amount', 'paidAt', 'buyer', 'claimSecret'] as const

type Body = string | Buffer

/** A valid body with one order field replaced, removed, or joined by an unknown one. */
const mutatedOrder: fc.Arbitrary<Body> = fc
  .tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom(...FIELDS), fc.oneof(fc.jsonValue(), fc.constant(undefined)), fc.boolean())
  .map(([count, field, value, addUnknown]) => {
    const orders: Record<string, unknown>[] = Array.from({ length: count }, (_, i) => ({ ...order(i) }))
    const victim = orders[count - 1]!
    if (addUnknown) victim[`x_${field}`] = value ?? null
    else victim[field] = value
    return JSON.stringify({ orders })
  })

const truncated: fc.Arbitrary<Body> = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.nat()).map(([count, cut]) => {
  const text = JSON.stringify({ orders: Array.from({ length: count }, (_, i) => order(i)) })
  return text.slice(0, cut % text.length)
})

const malformed: fc.Arbitrary<Body> = fc
  .oneof(
    { arbitrary: mutatedOrder, weight: 4 },
    { arbitrary: truncated, weight: 2 },
    { arbitrary: fc.jsonValue().map((value) => JSON.stringify(value) ?? 'null'), weight: 2 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
  )
  .filter((body) => !wouldBeAccepted(body))

function wouldBeAccepted(body: Body): boolean {
  try {
    return SubmitOrdersBody.safeParse(JSON.parse(body.toString())).success
  } catch {
    return false
  }
}

let h: Harness
beforeAll(async () => {
  h = await harness()
})
afterAll(async () => {
  await h.app.close()
})

describe('adapter ingress under random malformed bodies', () => {
  it(`${RUNS} correctly signed malformed bodies: always a 4xx ErrorReply, never the engine`, async () => {
    let sequence = 0
    const codes = new Set<string>()
    await fc.assert(
      fc.asyncProperty(malformed, async (raw) => {
        // A distinct timestamp per request, so the replay guard never answers instead of the parser.
        sequence += 1
        const response = await post(h.app, { path: ORDERS, body: null, raw, timestamp: NOW + sequence })
        expect(response.statusCode).toBeGreaterThanOrEqual(400)
        expect(response.statusCode).toBeLessThan(500)
        expect(response.headers['content-type']).toMatch(/^application\/json/)
        const { error, message } = errorOf(response)
        // Signed correctly, so the refusal must come from the body, not from authentication.
        expect(['unauthorized', 'replayed']).not.toContain(error)
        expect(message.length).toBeGreaterThan(0)
        codes.add(error)
        expect(h.api.calls).toEqual([])
      }),
      { numRuns: RUNS },
    )
    expect(sequence).toBeGreaterThanOrEqual(RUNS)
    expect([...codes].sort()).toEqual(['invalid', 'malformed_json'])
  })
})
