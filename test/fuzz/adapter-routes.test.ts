// Property: whatever a client sends to an adapter route, the node answers with a 4xx ErrorReply
// and the engine never sees it. Correctly signed requests reach the parser and the schemas; a
// smaller share has broken authentication and must draw a 401 whatever the body.
//
// The engine is the recording FakeApi: the property is about the HTTP layer (authentication,
// parsing, validation), and "not called" is exactly what a fake can observe. A real engine's
// intake is exercised in test/core and test/integration.
import fc from 'fast-check'
import type { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { quietHarness } from './quiet-harness.js'
import {
  ADAPTER_REPLAY_WINDOW_MS,
  ADAPTER_SIGNATURE_HEADER,
  ADAPTER_TIMESTAMP_HEADER,
  CancelledBody,
  DeliveredBody,
  HealthBody,
  SubmitOrdersBody,
} from '../../protocol/index.js'
import { harness, NOW, order, sign } from '../http/helpers.js'
import { expectRefusal } from './http-expect.js'
import { type BodyPart, bodyAccepted, JSON_TYPE, malformedBody } from './http-inputs.js'
import { toJsonText } from './mutate.js'
import { FUZZ_SEED, fuzzParameters, SEED_LABEL } from './seed.js'

const RUNS_PER_ROUTE = 10_000
/** A guard against a hung request, not a performance assertion. */
const HANG_GUARD_MS = 300_000
const BODY_CODES = ['invalid', 'malformed_json', 'unsupported_media_type', 'too_large', 'empty_body']

interface Route {
  readonly path: string
  readonly schema: z.ZodType
  readonly valid: unknown
}

const ROUTES: readonly Route[] = [
  { path: '/v1/adapter/orders', schema: SubmitOrdersBody, valid: { orders: [order(1), order(2)] } },
  {
    path: '/v1/adapter/orders/delivered',
    schema: DeliveredBody,
    valid: {
      orders: [
        { order: 'order-1', time: NOW },
        { order: 'order-2', time: NOW },
      ],
    },
  },
  { path: '/v1/adapter/orders/cancelled', schema: CancelledBody, valid: { orders: [{ order: 'order-1', reason: 'refunded by the shop' }] } },
  { path: '/v1/adapter/health', schema: HealthBody, valid: { platform: 'degraded', detail: 'database slow' } },
]

// Faults in the headers are refused before the body is read; a wrong MAC only once the body is in,
// so a body too large or of another media type is refused first (nothing of it is interpreted).
const HEADER_FAULTS = ['uppercase-signature', 'short-signature', 'no-signature', 'no-timestamp', 'fractional-timestamp', 'stale', 'future'] as const
const MAC_FAULTS = ['wrong-secret', 'flipped-signature', 'signed-other-path', 'signed-other-method', 'body-changed-after-signing'] as const
const AUTH_FAULTS = [...HEADER_FAULTS, ...MAC_FAULTS]
type AuthFault = (typeof AUTH_FAULTS)[number]
const isHeaderFault = (fault: AuthFault) => (HEADER_FAULTS as readonly string[]).includes(fault)

type Case =
  | { readonly kind: 'signed'; readonly body: BodyPart }
  | { readonly kind: 'replayed'; readonly body: BodyPart }
  | { readonly kind: 'bad-auth'; readonly fault: AuthFault; readonly body: BodyPart }

function cases(route: Route): fc.Arbitrary<Case> {
  const malformed = malformedBody(route.valid).filter((body) => !bodyAccepted(route.schema, body, false))
  const validBody: BodyPart = { payload: toJsonText(route.valid), contentType: JSON_TYPE, target: { part: 'body' } }
  return fc.oneof(
    { weight: 18, arbitrary: malformed.map((body): Case => ({ kind: 'signed', body })) },
    { weight: 1, arbitrary: malformed.map((body): Case => ({ kind: 'replayed', body })) },
    // Broken credentials on a valid body too: authentication must come before everything else.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...AUTH_FAULTS), fc.oneof(malformed, fc.constant(validBody)))
        .map(([fault, body]): Case => ({ kind: 'bad-auth', fault, body })),
    },
  )
}

const fuzz = quietHarness()
const loud = fuzz.loud

function request(route: Route, body: BodyPart, fault?: AuthFault) {
  // A fresh second per request: the replay guard never mistakes two cases for one and forgets old ones.
  fuzz.h.clock.now += 1_000
  const timestamp =
    fault === 'stale'
      ? fuzz.h.clock.now - ADAPTER_REPLAY_WINDOW_MS - 1
      : fault === 'future'
        ? fuzz.h.clock.now + ADAPTER_REPLAY_WINDOW_MS + 1
        : fuzz.h.clock.now
  const { payload, headers } = sign({
    path: route.path,
    body: null,
    raw: body.payload,
    timestamp,
    contentType: body.contentType,
    secret: fault === 'wrong-secret' ? 'another-adapter-secret-0123456789' : undefined,
    signPath: fault === 'signed-other-path' ? `${route.path}/x` : undefined,
    signMethod: fault === 'signed-other-method' ? 'PUT' : undefined,
  })
  const signature = headers[ADAPTER_SIGNATURE_HEADER]!
  if (fault === 'flipped-signature') headers[ADAPTER_SIGNATURE_HEADER] = (signature[0] === '0' ? '1' : '0') + signature.slice(1)
  if (fault === 'uppercase-signature') headers[ADAPTER_SIGNATURE_HEADER] = `${signature.slice(0, -1)}F`
  if (fault === 'short-signature') headers[ADAPTER_SIGNATURE_HEADER] = signature.slice(1)
  if (fault === 'no-signature') delete headers[ADAPTER_SIGNATURE_HEADER]
  if (fault === 'no-timestamp') delete headers[ADAPTER_TIMESTAMP_HEADER]
  if (fault === 'fractional-timestamp') headers[ADAPTER_TIMESTAMP_HEADER] = `${timestamp}.5`
  const sent = fault === 'body-changed-after-signing' ? Buffer.concat([Buffer.from(payload), Buffer.from(' ')]) : payload
  return { method: 'POST' as const, url: route.path, payload: sent, headers }
}

describe(`adapter routes under malformed requests (${SEED_LABEL})`, () => {
  it.each(ROUTES)(
    `POST $path: ${RUNS_PER_ROUTE} malformed requests, each a 4xx ErrorReply that never reaches the engine`,
    async (route) => {
      let requests = 0
      const codes = new Map<string, number>()
      const tally = (code: string) => void codes.set(code, (codes.get(code) ?? 0) + 1)
      await fc.assert(
        fc.asyncProperty(cases(route), async (c) => {
          const options = request(route, c.body, c.kind === 'bad-auth' ? c.fault : undefined)
          const response = await fuzz.h.app.inject(options)
          requests += 1
          const targets = [c.body.target]
          if (c.kind === 'bad-auth') {
            const allowed = isHeaderFault(c.fault) ? ['unauthorized'] : ['unauthorized', 'too_large', 'unsupported_media_type']
            tally(expectRefusal({ response, api: fuzz.h.api, targets, codes: allowed }))
            return
          }
          const first = expectRefusal({ response, api: fuzz.h.api, targets, codes: BODY_CODES })
          tally(first)
          if (c.kind === 'replayed') {
            // Only a request whose signature was checked is remembered; a replay of it is refused as such.
            const again = await fuzz.h.app.inject(options)
            requests += 1
            const second = expectRefusal({ response: again, api: fuzz.h.api, targets, codes: [...BODY_CODES, 'replayed'] })
            expect(second).toBe(first === 'invalid' || first === 'malformed_json' ? 'replayed' : first)
            tally(second)
          }
        }),
        fuzzParameters(RUNS_PER_ROUTE),
      )
      console.info(`fuzz POST ${route.path} (seed ${FUZZ_SEED}): ${requests} requests, ${JSON.stringify(Object.fromEntries(codes))}`)
      expect(requests).toBeGreaterThanOrEqual(RUNS_PER_ROUTE)
      expect(loud).toEqual([])
      // The fuzz reached every layer: authentication, the JSON parser and the schema.
      expect([...codes.keys()]).toEqual(expect.arrayContaining(['unauthorized', 'malformed_json', 'invalid', 'replayed']))
    },
    HANG_GUARD_MS,
  )

  it("the valid bodies the mutations start from are accepted (so the refusals above are the mutations' doing)", async () => {
    const own = await harness()
    try {
      for (const route of ROUTES) {
        own.clock.now += 1_000
        const { payload, headers } = sign({ path: route.path, body: route.valid, timestamp: own.clock.now })
        const response = await own.app.inject({ method: 'POST', url: route.path, payload, headers })
        expect(response.statusCode, response.body).toBe(200)
      }
      expect(own.api.calls.map((c) => c.method)).toEqual(['submitOrders', 'markDelivered', 'markCancelled', 'reportPlatformHealth'])
    } finally {
      await own.app.close()
    }
  })
})
