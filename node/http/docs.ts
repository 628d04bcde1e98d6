// The OpenAPI document is generated from the same zod schemas that validate requests, so the
// documentation cannot drift from what the node accepts.
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  ADAPTER_SIGNATURE_HEADER,
  ADAPTER_TIMESTAMP_HEADER,
  CALLBACK_PATHS,
  CardKey,
  ErrorReply,
  FenceBody,
  OkReply,
  PartnerDelivery,
  PROTOCOL_VERSION,
  ReturnStockBody,
  TakeStockBody,
  TakeStockReply,
  WriteBackBody,
} from '../../protocol/index.js'

export const DOCS_PREFIX = '/docs'

/**
 * The node → shop callbacks are requests the node sends, not routes it serves, so they have no
 * path here; their bodies and replies are listed as components (adapters/README.md §4 explains them).
 */
const CALLBACK_SCHEMAS = { CardKey, PartnerDelivery, FenceBody, TakeStockBody, TakeStockReply, ReturnStockBody, WriteBackBody, OkReply, ErrorReply }

type OpenApiSchema = NonNullable<NonNullable<NonNullable<FastifyDynamicSwaggerOptions['openapi']>['components']>['schemas']>[string]
type OpenApiSchemas = Record<string, Exclude<OpenApiSchema, { $ref: string }>>

function callbackComponents(): OpenApiSchemas {
  // zod emits OpenAPI 3.0 schema objects; the cast only names that type.
  return Object.fromEntries(
    Object.entries(CALLBACK_SCHEMAS).map(([name, schema]) => [`callback.${name}`, z.toJSONSchema(schema, { target: 'openapi-3.0' })]),
  ) as OpenApiSchemas
}

/** Must be registered on the root before any route so swagger sees every route as it is added. */
export async function collectDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Standin node API',
        version: String(PROTOCOL_VERSION),
        description:
          'Adapter ingress (HMAC-signed) and the operator admin API of a Standin node. The callbacks the node POSTs to the shop ' +
          `(${Object.values(CALLBACK_PATHS).join(', ')}) are signed the same way; their bodies and replies are the callback.* schemas.`,
      },
      tags: [
        { name: 'adapter', description: 'Called by the shop software; HMAC-signed' },
        { name: 'admin', description: 'Called by the operator; bearer token' },
        { name: 'operations', description: 'Health and readiness (public); metrics (admin token)' },
      ],
      components: {
        schemas: callbackComponents(),
        securitySchemes: {
          adapterHmac: {
            type: 'apiKey',
            in: 'header',
            name: ADAPTER_SIGNATURE_HEADER,
            description:
              `hex HMAC-SHA256 with the shared secret of "standin/1/adapter\\n" + timestamp + "\\n" + METHOD + " " + request target (path and any query, as sent) + "\\n" + raw body; ` +
              `the timestamp (ms since epoch) goes in ${ADAPTER_TIMESTAMP_HEADER}`,
          },
          adminBearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: jsonSchemaTransform,
  })
}

/** The UI and /docs/json: registered inside the operator context (operator-routes.ts). */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX })
}
