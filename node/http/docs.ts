// The OpenAPI document is generated from the same zod schemas that validate requests, so the
// documentation cannot drift from what the node accepts.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'
import { ADAPTER_SIGNATURE_HEADER, ADAPTER_TIMESTAMP_HEADER, PROTOCOL_VERSION } from '../../protocol/index.js'

export const DOCS_PREFIX = '/docs'

/** Must be registered on the root before any route so swagger sees every route as it is added. */
export async function collectDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Standin node API',
        version: String(PROTOCOL_VERSION),
        description: 'Adapter ingress (HMAC-signed) and the operator admin API of a Standin node.',
      },
      tags: [
        { name: 'adapter', description: 'Called by the shop software; HMAC-signed' },
        { name: 'admin', description: 'Called by the operator; bearer token' },
        { name: 'operations', description: 'Health and readiness (public); metrics (admin token)' },
      ],
      components: {
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
