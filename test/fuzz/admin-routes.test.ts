// Every operator route that takes input (node/http/admin-routes.ts and the settlement routes it
// registers, node/http/settlement-routes.ts) under malformed requests; the property, and why the
// engine is a fake, are in admin-fuzz.ts.
import fc from 'fast-check'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { quietHarness } from './quiet-harness.js'
import { sha256, ShopId, toBase64url, utf8 } from '../../protocol/index.js'
import {
  AcceptStatementBody,
  AcksWaitQuery,
  ConsignBody,
  DecideKeysBody,
  EscrowListQuery,
  ExportQuery,
  IssueStatementBody,
  PayStatementBody,
  RecallBody,
  StatementRef,
} from '../../node/core/api-schemas.js'
import { alice, bob } from '../protocol/fixtures.js'
import { harness, NOW, TOKEN } from '../http/helpers.js'
import { type AdminRoute, fuzzAdminRoute, requestFor } from './admin-fuzz.js'
import { expectRefusal } from './http-expect.js'
import { fuzzParameters, SEED_LABEL } from './seed.js'

const RUNS_PER_ROUTE = 10_000
/** A guard against a hung request, not a performance assertion. */
const HANG_GUARD_MS = 300_000

const ref = { name: 'ref', schema: StatementRef, valid: 'st-2026-11-0001' }
const dispute = { receipt: toBase64url(sha256(utf8('a receipt'))), reason: 'duplicate', note: 'delivered twice' }

const ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: '/v1/admin/escrow/:origin/orders',
    param: { name: 'origin', schema: z.strictObject({ origin: ShopId }), valid: bob.identity.id },
    query: {
      schema: EscrowListQuery,
      valid: [
        ['after', 'order-7'],
        ['limit', '50'],
      ],
    },
  },
  {
    method: 'GET',
    path: '/v1/admin/acks/wait',
    query: {
      schema: AcksWaitQuery,
      valid: [
        ['seq', '3'],
        ['timeoutMs', '100'],
      ],
    },
  },
  { method: 'GET', path: '/v1/admin/feeds/:author/verify', param: { name: 'author', schema: z.strictObject({ author: ShopId }), valid: alice.identity.id } },
  { method: 'POST', path: '/v1/admin/allotments', body: { schema: ConsignBody, valid: { holder: bob.identity.id, sku: 'steam-50', count: 10 } } },
  { method: 'POST', path: '/v1/admin/allotments/recall', body: { schema: RecallBody, valid: { holder: bob.identity.id, allotment: 'al-1' } } },
  { method: 'POST', path: '/v1/admin/keys/decide', body: { schema: DecideKeysBody, valid: { keyIds: ['k-1', 'k-2'], decision: 'write-off' } } },
  // settlement
  { method: 'POST', path: '/v1/admin/statements', body: { schema: IssueStatementBody, valid: { counterparty: bob.identity.id, untilMs: NOW } } },
  { method: 'GET', path: '/v1/admin/statements/:ref', param: ref },
  {
    method: 'POST',
    path: '/v1/admin/statements/:ref/accept',
    param: ref,
    body: { schema: AcceptStatementBody, valid: { disputes: [dispute, { ...dispute, reason: 'wrong-amount' }] } },
  },
  { method: 'POST', path: '/v1/admin/statements/:ref/pay', param: ref, body: { schema: PayStatementBody, valid: { reference: 'bank 2026-11-22 #123' } } },
  { method: 'POST', path: '/v1/admin/statements/:ref/confirm', param: ref },
  {
    method: 'GET',
    path: '/v1/admin/export',
    query: {
      schema: ExportQuery,
      valid: [
        ['format', 'json'],
        ['statement', ref.valid],
        ['fromMs', '0'],
        ['toMs', String(NOW)],
      ],
    },
  },
]

/** Routes without input: only their credentials can be wrong. */
const PLAIN_ROUTES = ['/identity', '/self', '/partners', '/escrow', '/feeds', '/incidents', '/balances', '/statements', '/refusals', '/keys/exposed'].map(
  (p) => `/v1/admin${p}`,
)

const fuzz = quietHarness()
const loud = fuzz.loud

describe(`admin routes under malformed requests (${SEED_LABEL})`, () => {
  it.each(ROUTES)(
    `$method $path: ${RUNS_PER_ROUTE} malformed requests, each a 4xx ErrorReply that never reaches the engine`,
    async (route) => {
      const { codes } = await fuzzAdminRoute(fuzz.h, route, RUNS_PER_ROUTE)
      expect([...codes]).toEqual(expect.arrayContaining(['invalid', 'unauthorized', 'forbidden']))
      expect(loud).toEqual([])
    },
    HANG_GUARD_MS,
  )

  it('routes without input refuse every broken credential', async () => {
    const codes: string[] = []
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PLAIN_ROUTES),
        fc.constantFrom(null, 'Bearer nope', `Bearer ${TOKEN}x`, `bearer ${TOKEN}`),
        async (url, authorization) => {
          const response = await fuzz.h.app.inject({ method: 'GET', url, headers: authorization === null ? {} : { authorization } })
          codes.push(expectRefusal({ response, api: fuzz.h.api, targets: [], codes: ['unauthorized'] }))
        },
      ),
      fuzzParameters(200),
    )
    expect(codes).toEqual(Array(200).fill('unauthorized'))
  })

  it("the valid requests the mutations start from reach the engine (so the refusals above are the mutations' doing)", async () => {
    const own = await harness()
    try {
      for (const route of ROUTES) {
        const response = await own.app.inject(requestFor(route, {}))
        // The fake engine knows no statement, so routes naming one draw the engine's 422.
        expect([200, 422], `${route.path}: ${response.body}`).toContain(response.statusCode)
      }
      expect(own.api.calls.map((c) => c.method)).toEqual([
        'listEscrow',
        'waitForAcks',
        'verifyFeed',
        'consign',
        'recall',
        'decideKeys',
        'issueStatement',
        'findStatement',
        'findStatement',
        'findStatement',
        'findStatement',
        'exportStatements',
      ])
    } finally {
      await own.app.close()
    }
  })
})
