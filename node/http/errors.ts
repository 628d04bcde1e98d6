// One error shape for every 4xx/5xx reply: { error: <short code>, message: <field and reason> }.
// Adapters and operators read these messages to fix their requests, so they must name the field;
// they must never carry a stack trace or an internal detail of the engine.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { ConflictError, RefusedError, UnavailableError } from '../core/api.js'

/** Seconds an adapter should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 5
/** Issues listed in one validation message, as protocol/validate.ts formatZodError does. */
const MAX_ISSUES_IN_MESSAGE = 5
/** Characters of a client-supplied path or header echoed back in a message. */
const MAX_PATH_IN_MESSAGE = 200

/** A refusal we raise ourselves (auth, replay, malformed JSON) with its status and short code. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
  }
}

export interface ErrorBody {
  error: string
  message: string
}

// Fastify's own errors carry FST_* codes; adapters get stable short codes instead.
const FASTIFY_CODES: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_content_length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_BAD_URL: 'bad_url',
}

const CONTEXT_NAMES: Readonly<Record<string, string>> = { querystring: 'query' }

/** "body.orders.0.qty: Too small: expected number to be >=1; …" from the zod issues fastify holds. */
export function formatValidation(context: string | undefined, issues: readonly { instancePath: string; message?: string }[]): string {
  const prefix = CONTEXT_NAMES[context ?? ''] ?? context ?? 'request'
  return issues
    .slice(0, MAX_ISSUES_IN_MESSAGE)
    .map((issue) => {
      // The zod provider joins the issue path with "/"; strict schemas never have "/" in a key.
      const path = issue.instancePath.split('/').filter((part) => part !== '')
      return `${[prefix, ...path].join('.')}: ${issue.message ?? 'invalid'}`
    })
    .join('; ')
}

function describeFastifyError(error: FastifyError, request: FastifyRequest): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body: larger than the limit of ${request.routeOptions.bodyLimit ?? 'the configured'} bytes`
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `content-type: '${(request.headers['content-type'] ?? '(none)').slice(0, MAX_PATH_IN_MESSAGE)}' is not supported; send application/json`
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'content-length: does not match the body received'
    default:
      return error.message
  }
}

export function toErrorReply(error: unknown, request: FastifyRequest): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (error instanceof HttpError) {
    return { status: error.statusCode, body: { error: error.code, message: error.message }, headers: { ...error.headers } }
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as { validationContext?: string }).validationContext
    return { status: 400, body: { error: 'invalid', message: formatValidation(context, error.validation) }, headers: {} }
  }
  if (error instanceof ConflictError) return { status: 409, body: { error: 'conflict', message: error.message }, headers: {} }
  if (error instanceof UnavailableError) {
    const message = error.message === '' ? 'the node cannot accept this now; retry later' : error.message
    return { status: 503, body: { error: 'unavailable', message }, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } }
  }
  const fastifyError = error as Partial<FastifyError>
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FASTIFY_CODES[fastifyError.code ?? ''] ?? 'bad_request'
    return { status, body: { error: code, message: describeFastifyError(error as FastifyError, request) }, headers: {} }
  }
  return { status: 500, body: { error: 'internal', message: 'internal error; the node logged the details' }, headers: {} }
}

function sendError(reply: FastifyReply, status: number, body: ErrorBody, headers: Record<string, string>): FastifyReply {
  return reply.code(status).headers(headers).type('application/json; charset=utf-8').send(body)
}

/** Installs the error and not-found handlers on the root instance; every plugin inherits them. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body, headers } = toErrorReply(error, request)
    if (status >= 500) request.log.error({ err: error }, 'request failed')
    else request.log.info({ status, error: body.error }, 'request refused')
    return sendError(reply, status, body, headers)
  })
  app.setNotFoundHandler((request, reply) => {
    const path = (request.url.split('?')[0] ?? '').slice(0, MAX_PATH_IN_MESSAGE)
    return sendError(reply, 404, { error: 'not_found', message: `route: no ${request.method} ${path}` }, {})
  })
}

/** For fastify's `frameworkErrors` option: errors raised before routing (bad URL encoding). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body, headers } = toErrorReply(error, request)
  void sendError(reply, status, body, headers)
}

/** Runs an engine call, turning a refusal by the terms or the node's state into a 422. */
export async function refusedAs422<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof RefusedError) throw new HttpError(422, 'refused', error.message)
    throw error
  }
}
