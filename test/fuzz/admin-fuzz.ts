// The malformed-request property for one admin route: break its path parameter, its query string,
// its body, or several at once (keeping only requests the schemas would refuse), or send a valid
// request with broken credentials. Every answer must be a 4xx ErrorReply and the engine untouched.
//
// The engine is the recording FakeApi: the property is about the HTTP layer (authentication,
// parsing, validation), and "not called" is exactly what a fake can observe. The real engine
// behind these routes is exercised in test/core and test/integration.
import fc from 'fast-check'
import type { InjectOptions } from 'fastify'
import type { z } from 'zod'
import { expect } from 'vitest'
import { type Harness, TOKEN } from '../http/helpers.js'
import { expectRefusal } from './http-expect.js'
import {
  type BodyPart,
  bodyAccepted,
  JSON_TYPE,
  malformedBody,
  malformedParam,
  malformedQuery,
  type Pairs,
  type ParamPart,
  paramAccepted,
  type QueryPart,
  queryAccepted,
  encodePairs,
  type Target,
} from './http-inputs.js'
import { toJsonText } from './mutate.js'
import { FUZZ_SEED, fuzzParameters } from './seed.js'

export interface AdminRoute {
  readonly method: 'GET' | 'POST'
  /** With a `:name` placeholder when the route has a path parameter. */
  readonly path: string
  readonly param?: { readonly name: string; readonly schema: z.ZodType; readonly valid: string }
  readonly query?: { readonly schema: z.ZodType; readonly valid: Pairs }
  readonly body?: { readonly schema: z.ZodType; readonly valid: unknown }
}

interface Broken {
  readonly param?: ParamPart
  readonly query?: QueryPart
  readonly body?: BodyPart
}

// 'bad_request' is fastify's 414 for a path parameter longer than its maxParamLength (100).
const REQUEST_CODES = ['invalid', 'malformed_json', 'unsupported_media_type', 'too_large', 'empty_body', 'bad_url', 'not_found', 'bad_request']

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 })
/** Authorization headers that are not "Bearer <the admin token>"; null sends none. */
const badAuthorization: fc.Arbitrary<string | null> = fc.oneof(
  fc.constantFrom(
    null,
    '',
    'Bearer',
    'Bearer ',
    TOKEN,
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(0, -1)}`,
    `bearer ${TOKEN}`,
    `Bearer  ${TOKEN}`,
    `Bearer ${TOKEN} `,
    `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
    'Bearer adapter-secret-for-tests-0123456789',
  ),
  printable.map((s) => (s === `Bearer ${TOKEN}` ? '' : s)),
)
const remoteAddress = fc.constantFrom('203.0.113.9', '10.0.0.1', '::2', '::ffff:10.0.0.1', '128.0.0.1')

type AdminCase =
  | { readonly kind: 'malformed'; readonly broken: Broken }
  | { readonly kind: 'bad-token'; readonly authorization: string | null }
  | { readonly kind: 'remote'; readonly remoteAddress: string }

function isAccepted(route: AdminRoute, broken: Broken): boolean {
  const { param, query, body } = route
  return (
    (broken.param === undefined || (param !== undefined && paramAccepted(param.schema, param.name, broken.param))) &&
    (broken.query === undefined || (query !== undefined && queryAccepted(query.schema, broken.query.text))) &&
    (broken.body === undefined || (body !== undefined && bodyAccepted(body.schema, broken.body, true)))
  )
}

export function adminCases(route: AdminRoute): fc.Arbitrary<AdminCase> {
  const { param, query, body } = route
  const maybe = <T>(arb: fc.Arbitrary<T> | undefined) => (arb === undefined ? fc.constant(undefined) : fc.option(arb, { nil: undefined }))
  const broken = fc
    .record({
      param: maybe(param && malformedParam(param.name, param.valid)),
      query: maybe(query && malformedQuery(query.valid)),
      body: maybe(body && malformedBody(body.valid)),
    })
    .filter((b) => (b.param ?? b.query ?? b.body) !== undefined && !isAccepted(route, b))
  return fc.oneof(
    { weight: 18, arbitrary: broken.map((b): AdminCase => ({ kind: 'malformed', broken: b })) },
    // Credentials are checked before anything else, so these requests are otherwise valid.
    { weight: 1, arbitrary: badAuthorization.map((authorization): AdminCase => ({ kind: 'bad-token', authorization })) },
    { weight: 1, arbitrary: remoteAddress.map((address): AdminCase => ({ kind: 'remote', remoteAddress: address })) },
  )
}

export function requestFor(route: AdminRoute, broken: Broken, authorization: string | null = `Bearer ${TOKEN}`): InjectOptions {
  let url = route.path
  if (route.param) url = url.replace(`:${route.param.name}`, broken.param?.raw ?? encodeURIComponent(route.param.valid))
  const query = broken.query?.text ?? (route.query ? encodePairs(route.query.valid) : '')
  if (query !== '') url += `?${query}`
  const headers: Record<string, string> = authorization === null ? {} : { authorization }
  const options: InjectOptions = { method: route.method, url, headers }
  const body = broken.body ?? (route.body ? { payload: toJsonText(route.body.valid), contentType: JSON_TYPE } : undefined)
  if (body !== undefined) {
    options.payload = body.payload
    if (body.contentType !== null) headers['content-type'] = body.contentType
  }
  return options
}

/** Runs `runs` cases against `route`; returns the number of requests and the error codes seen. */
export async function fuzzAdminRoute(h: Harness, route: AdminRoute, runs: number): Promise<{ requests: number; codes: ReadonlySet<string> }> {
  let requests = 0
  const codes = new Map<string, number>()
  await fc.assert(
    fc.asyncProperty(adminCases(route), async (c) => {
      let options: InjectOptions
      let allowed: string[]
      let targets: Target[] = []
      if (c.kind === 'malformed') {
        options = requestFor(route, c.broken)
        allowed = REQUEST_CODES
        targets = [c.broken.param?.target, c.broken.query?.target, c.broken.body?.target].filter((t) => t !== undefined)
      } else if (c.kind === 'bad-token') {
        options = requestFor(route, {}, c.authorization)
        allowed = ['unauthorized']
      } else {
        options = { ...requestFor(route, {}), remoteAddress: c.remoteAddress }
        allowed = ['forbidden']
      }
      const response = await h.app.inject(options)
      requests += 1
      const code = expectRefusal({ response, api: h.api, targets, codes: allowed })
      codes.set(code, (codes.get(code) ?? 0) + 1)
    }),
    fuzzParameters(runs),
  )
  console.info(`fuzz ${route.method} ${route.path} (seed ${FUZZ_SEED}): ${requests} requests, ${JSON.stringify(Object.fromEntries(codes))}`)
  expect(requests).toBeGreaterThanOrEqual(runs)
  return { requests, codes: new Set(codes.keys()) }
}
