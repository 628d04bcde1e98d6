// The public pages buyers of a failed shop reach (docs/design.md §1, §8): the claim page, which shows a
// delivered order's keys to whoever knows its order number and query secret, and the outage notice.
// No authentication, so every route is rate limited per client address, every response is
// uncacheable, sends no Referer and carries helmet's security headers, and nothing a buyer
// submits is logged.
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { type PublicApi, UnavailableError } from '../core/api.js'
import { ShopId } from '../../protocol/index.js'
import { ClaimForm, ShopStatusView } from '../core/api-schemas.js'
import type { Locale } from '../core/i18n/index.js'
import { HttpError, toErrorReply } from './errors.js'
import { claimFormPage, claimResultPage, MAX_PREFILL_CHARS } from './public/claim-views.js'
import { readClaimForm } from './public/claim-form.js'
import { ClaimGuard } from './public/claim-guard.js'
import { type PublicRefusal, refusalPage } from './public/error-views.js'
import { STYLE_SOURCE } from './public/html.js'
import { chooseLocale } from './public/locale.js'
import { statusPage, unknownShopPage } from './public/status-views.js'
import { ERROR_REPLIES } from './schemas.js'

export interface PublicRateLimits {
  /** Claim submissions one client address may make per minute; each one tests a secret. */
  claimPostsPerMinute: number
  /** Page views one client address may make per minute, counted per route. */
  pageGetsPerMinute: number
}

export const PUBLIC_RATE_LIMITS: Readonly<PublicRateLimits> = { claimPostsPerMinute: 30, pageGetsPerMinute: 120 }
const RATE_WINDOW_MS = 60_000
/** Client addresses remembered per route; the least recently seen are forgotten first. */
export const RATE_LIMIT_TRACKED_CLIENTS = 10_000
/** Largest claim form body: three short fields, percent-encoded (a CJK character takes 9 bytes). */
export const CLAIM_BODY_LIMIT_BYTES = 4_096
/** Seconds a buyer is asked to wait when the engine is unavailable. */
const UNAVAILABLE_RETRY_SECONDS = 5
/** Characters of a path parameter carried into a page's language links. */
const MAX_ECHOED_PARAM_CHARS = 100

export interface PublicRoutesOptions {
  api: PublicApi
  rateLimits?: Partial<PublicRateLimits>
  /** Milliseconds since the epoch; the per-order window of wrong secrets is measured with it. */
  clock: () => number
}

const TAGS = ['public']
const HTML_TYPE = 'text/html; charset=utf-8'

function firstString(value: unknown): string | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value
  return typeof first === 'string' ? first : undefined
}

function queryParam(request: FastifyRequest, name: string): string | undefined {
  const query = request.query as Record<string, unknown> | undefined
  return firstString(query?.[name])?.slice(0, MAX_PREFILL_CHARS)
}

function pathParam(request: FastifyRequest, name: string): string {
  const params = request.params as Record<string, unknown> | undefined
  return (firstString(params?.[name]) ?? '').slice(0, MAX_ECHOED_PARAM_CHARS)
}

function localeOf(request: FastifyRequest): Locale {
  return chooseLocale(queryParam(request, 'lang'), firstString(request.headers['accept-language']))
}

function sendPage(reply: FastifyReply, status: number, page: string): FastifyReply {
  return reply.code(status).type(HTML_TYPE).send(page)
}

const isJsonRoute = (request: FastifyRequest) => request.routeOptions.url?.endsWith('.json') === true

function refusalOf(status: number): PublicRefusal {
  if (status === 429) return 'too-many'
  if (status === 503) return 'unavailable'
  return status >= 500 ? 'failed' : 'bad-request'
}

export const publicRoutes: FastifyPluginAsyncZod<PublicRoutesOptions> = async (app, options) => {
  const { api } = options
  const limits = { ...PUBLIC_RATE_LIMITS, ...options.rateLimits }
  const claimGuard = new ClaimGuard(options.clock)

  // Registered here, not on the root: only the unauthenticated routes are limited per address.
  await app.register(rateLimit, {
    global: false,
    cache: RATE_LIMIT_TRACKED_CLIENTS,
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000))
      return new HttpError(429, 'rate_limited', `rate limit: at most ${context.max} requests a minute from one address; retry in ${seconds} s`, {
        'retry-after': String(seconds),
      })
    },
  })
  const perMinute = (max: number) => ({ rateLimit: { max, timeWindow: RATE_WINDOW_MS, cache: RATE_LIMIT_TRACKED_CLIENTS } })

  // Browsers post forms urlencoded; nothing else is accepted here (415). formbody parses it into
  // an object without a prototype, under a body limit sized for the three fields.
  app.removeAllContentTypeParsers()
  await app.register(formbody, { bodyLimit: CLAIM_BODY_LIMIT_BYTES })

  // The pages load nothing but their own inline stylesheet and post forms only to this node; no
  // site may frame them, and the claim URL (it carries the order number) is never sent as a Referer.
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: [STYLE_SOURCE],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    // HSTS belongs to whoever terminates TLS for the operator's domain: sent from here it would
    // pin every subdomain of a shop's domain to HTTPS for a year.
    strictTransportSecurity: false,
  })

  app.addHook('onSend', async (_request, reply) => {
    // Keys and secrets must not stay in any cache.
    reply.header('cache-control', 'no-store')
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body, headers } = toErrorReply(error, request)
    if (status >= 500) request.log.error({ err: error }, 'public page failed')
    else request.log.info({ status, error: body.error }, 'public request refused')
    if (error instanceof UnavailableError) headers['retry-after'] = String(UNAVAILABLE_RETRY_SECONDS)
    reply.headers(headers)
    if (isJsonRoute(request)) return reply.code(status).type('application/json; charset=utf-8').send(body)
    const retryAfterSeconds = Number(headers['retry-after'] ?? UNAVAILABLE_RETRY_SECONDS)
    return sendPage(reply, status, refusalPage(localeOf(request), refusalOf(status), retryAfterSeconds))
  })

  app.get(
    '/claim',
    {
      config: perMinute(limits.pageGetsPerMinute),
      schema: { tags: TAGS, summary: 'Claim page: a form for shop id, order number and query secret (HTML)' },
    },
    async (request, reply) => {
      const values = { shop: queryParam(request, 'shop') ?? '', order: queryParam(request, 'order') ?? '' }
      return sendPage(reply, 200, claimFormPage(localeOf(request), values))
    },
  )

  app.post(
    '/claim',
    {
      config: perMinute(limits.claimPostsPerMinute),
      bodyLimit: CLAIM_BODY_LIMIT_BYTES,
      schema: {
        tags: TAGS,
        summary: 'Claim page: the keys of a delivered order, if the secret matches (HTML)',
        description: 'The form fields shop (shop id), order (order number) and secret (query secret), urlencoded as a browser posts them.',
        consumes: ['application/x-www-form-urlencoded'],
        body: ClaimForm,
      },
      // The body schema documents the form in /docs; the handler validates it itself
      // (readClaimForm), so a wrong field is shown on the form in the buyer's language, not refused
      // by fastify with a JSON error. This validator lets the parsed form through unchanged.
      validatorCompiler: () => (data) => ({ value: data }),
    },
    async (request, reply) => {
      const locale = localeOf(request)
      const reading = readClaimForm(request.body)
      if (!reading.ok) return sendPage(reply, 400, claimFormPage(locale, reading.values, reading.problems))
      const closedForSeconds = claimGuard.closedForSeconds(reading.form.shop, reading.form.order)
      if (closedForSeconds > 0) {
        request.log.info({ shop: reading.form.shop, outcome: 'order-closed' }, 'claim refused: too many wrong secrets for this order')
        reply.header('retry-after', String(closedForSeconds))
        return sendPage(reply, 429, refusalPage(locale, 'order-closed', closedForSeconds))
      }
      const result = await api.claim(reading.form)
      if (result.status === 'not-found') claimGuard.recordFailure(reading.form.shop, reading.form.order)
      // The outcome only: the order's keys and the buyer's secret never reach the logs.
      request.log.info({ shop: reading.form.shop, outcome: result.status }, 'claim answered')
      const values = { shop: reading.form.shop, order: reading.form.order }
      const originName = result.status === 'not-found' ? undefined : api.shopStatus(reading.form.shop)?.name
      return sendPage(reply, 200, claimResultPage(locale, result, values, { originName }))
    },
  )

  app.get(
    '/status/:shop',
    {
      config: perMinute(limits.pageGetsPerMinute),
      schema: { tags: TAGS, summary: "Outage notice: a shop's state in plain words (HTML)" },
    },
    async (request, reply) => {
      const locale = localeOf(request)
      const shop = pathParam(request, 'shop')
      const parsed = ShopId.safeParse(shop)
      const view = parsed.success ? api.shopStatus(parsed.data) : undefined
      if (view === undefined) return sendPage(reply, 404, unknownShopPage(locale, shop))
      return sendPage(reply, 200, statusPage(locale, view))
    },
  )

  app.get(
    '/status/:shop.json',
    {
      config: perMinute(limits.pageGetsPerMinute),
      schema: { tags: TAGS, summary: 'Outage notice of a shop (JSON)', response: { 200: ShopStatusView, ...ERROR_REPLIES } },
    },
    async (request, reply) => {
      const parsed = ShopId.safeParse(pathParam(request, 'shop'))
      const view = parsed.success ? api.shopStatus(parsed.data) : undefined
      if (view === undefined) return reply.code(404).send({ error: 'not_found', message: 'shop: this node has no status for this shop' })
      return view
    },
  )
}
